"""HTTP hardening of the Flask server under the Dash app: bad requests get 4xx, never 5xx;
no versions in responses; compressed responses; long caching of fingerprinted files.

    harden(app)        # dashboard.app.create_app calls it once

- Request size: at most `REQUEST_MAX_BYTES` (10 MiB; the largest real request is a table
  download sending its grid's rows, well under 1 MiB even at Kolada scale) -> 413.
- `/_dash-update-component`: the body must be what Dash's renderer sends (a JSON object no
  deeper than `JSON_MAX_DEPTH`, a known callback, inputs/state/outputs as lists of
  {id, property[, value]} matching the callback's declaration, values of the type the browser
  sends for that property, see `PROPERTY_TYPES`) -> else 400. A callback that still raises on
  such a request answers 400 too and logs the traceback at ERROR as "callback failed on a
  request (answered 400)", so a real bug stays visible in the server log.
- `/_dash-component-suites/...`: a path Dash did not register (traversal, unknown package) -> 404.
- No `Server` version: Werkzeug's dev server is given a handler that says "styrkort" (gunicorn
  already sends only "gunicorn"); the page config (`_dash-config`) carries no Dash, Plotly or
  Python version, and asset fingerprints hash the package version instead of spelling it.
- Compression (Flask-Compress): zstd, br or gzip as the browser accepts, for HTML, JSON, JS,
  CSS and SVG over 500 bytes; fingerprinted component files are compressed once per process
  and algorithm (bounded cache) instead of per request.
- Caching: fingerprinted Dash component files and /assets/ files requested with their `?m=`
  fingerprint get ``Cache-Control: public, max-age=31536000, immutable``.
"""
from __future__ import annotations

import hashlib
import json
import logging

from flask import Response, g, request
from werkzeug.exceptions import HTTPException

REQUEST_MAX_BYTES = 10 << 20
JSON_MAX_DEPTH = 32
ONE_YEAR = 31_536_000
CALLBACK_PATH = "/_dash-update-component"
SUITES_PREFIX = "/_dash-component-suites/"
_HIDDEN_CONFIG = ("dash_version", "python_version", "dash_version_url", "ddk_version", "plotly_version")

log = logging.getLogger("styrkort.web")
CALLBACK_REFUSED = "callback request refused"


class BadRequest(Exception):
    """A request that is not what the app's own pages send."""


def _bad(reason: str) -> Response:
    return Response(json.dumps({"error": "bad request", "reason": reason}), status=400, mimetype="application/json")


# -- callback bodies -----------------------------------------------------------------------------------

def _depth(obj, limit: int) -> int:
    """Nesting depth of parsed JSON, stopping once past limit (iterative: no recursion)."""
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return deepest


def _check_id(i) -> None:
    if isinstance(i, str):
        if not i or len(i) > 200:
            raise BadRequest("id")
        return
    if isinstance(i, dict) and i and all(isinstance(k, str) for k in i) and \
            all(isinstance(v, (str, int, float, bool)) or v is None for v in i.values()):
        return
    raise BadRequest("id")


_SCALAR = (str, int, float, type(None))


def _is_count(v) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)


# What the browser sends for the properties the app's callbacks read; a value of another type is
# a request no page makes (400). Properties not listed (dcc.Store data, ...) may hold any JSON.
PROPERTY_TYPES = {
    # a dcc.Location always reports the browser's path (Dash's own page router fails on None)
    "pathname": lambda v: isinstance(v, str) and v.startswith("/"),
    "search": lambda v: v is None or isinstance(v, str),
    "href": lambda v: v is None or isinstance(v, str),
    "hash": lambda v: v is None or isinstance(v, str),
    "n_clicks": _is_count,
    "n_submit": _is_count,
    "n_blur": _is_count,
    "value": lambda v: isinstance(v, _SCALAR) or (isinstance(v, list) and all(isinstance(x, _SCALAR) for x in v)),
    "rowData": lambda v: v is None or (isinstance(v, list) and all(isinstance(x, dict) for x in v)),
    "clickData": lambda v: v is None or isinstance(v, dict),
}


def _check_dep(d, with_value: bool) -> None:
    if not isinstance(d, dict) or "id" not in d or not isinstance(d.get("property"), str):
        raise BadRequest("dependency")
    _check_id(d["id"])
    if with_value and "value" in d:
        ok = PROPERTY_TYPES.get(d["property"])
        if ok is not None and not ok(d["value"]):
            raise BadRequest(f"{d['property']}: a value of type {type(d['value']).__name__}")
        if isinstance(d["value"], str) and not _encodable(d["value"]):
            raise BadRequest(f"{d['property']}: not text")


def _encodable(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:   # lone surrogates ("\udc80") are not text
        return False


def _declared_id(want):
    """A declared dependency id: a component id (str), or a pattern (dict; Dash keeps it as JSON
    text such as '{"index":["MATCH"],"type":"sk-dl-csv"}')."""
    i = want.get("id")
    if isinstance(i, str) and i.startswith("{"):
        try:
            return json.loads(i)
        except ValueError:
            return i
    return i


def _matches(got, declared) -> bool:
    if isinstance(declared, dict):
        if not isinstance(got, dict) or set(got) != set(declared):
            return False
        # Wildcards (MATCH, ALL, ALLSMALLER) arrive as lists in the declaration; the rest must match.
        return all(isinstance(v, list) or got[k] == v for k, v in declared.items())
    return got == declared


def _check_deps(items, name: str, declared: list) -> None:
    if not isinstance(items, list):
        raise BadRequest(name)
    if len(items) != len(declared):
        raise BadRequest(f"{name}: {len(items)} instead of {len(declared)}")
    for item, want in zip(items, declared):
        group = item if isinstance(item, list) else [item]
        want_id = _declared_id(want)
        if isinstance(item, list) and not isinstance(want_id, dict):
            raise BadRequest(f"{name}: a list for a plain dependency")
        for d in group:
            _check_dep(d, True)
            if d["property"] != want.get("property") or not _matches(d["id"], want_id):
                raise BadRequest(f"{name}: not the declared dependency")


def declared_outputs(output: str) -> list[tuple[str, str]]:
    """(id, property) of each output of a callback key: 'a.children', '..a.children...b.data..',
    'a.data@<hash>' (allow_duplicate: the renderer sends the property as 'data@<hash>' too);
    a pattern id stays JSON text."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [tuple(p.rsplit(".", 1)) for p in parts]


def _check_outputs(outputs, declared: list[tuple[str, str]]) -> None:
    """The renderer sends one {id, property} (a list of them for a pattern) per declared
    output: a list when there are several, the bare item when there is one."""
    items = outputs if len(declared) > 1 else [outputs]
    if not isinstance(items, list) or len(items) != len(declared):
        raise BadRequest("outputs: not the declared outputs")
    for item, (want_id, want_prop) in zip(items, declared):
        want = _declared_id({"id": want_id})
        if isinstance(item, list) and not isinstance(want, dict):
            raise BadRequest("outputs: a list for a plain output")
        for d in (item if isinstance(item, list) else [item]):
            _check_dep(d, False)
            # allow_duplicate: 'data@<hash>' (what Dash itself strips before it matches)
            if d["property"].split("@")[0] != want_prop.split("@")[0] or not _matches(d["id"], want):
                raise BadRequest("outputs: not the declared outputs")


def check_callback_body(app, raw: bytes) -> dict:
    """The parsed body if it is a well-formed request for one of the app's callbacks."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadRequest("not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("not an object")
    if _depth(body, JSON_MAX_DEPTH) > JSON_MAX_DEPTH:
        raise BadRequest("nested too deep")
    output = body.get("output")
    if not isinstance(output, str) or output not in app.callback_map:
        raise BadRequest("unknown callback")
    cb = app.callback_map[output]
    _check_deps(body.get("inputs"), "inputs", cb.get("inputs", []))
    _check_deps(body.get("state", []), "state", cb.get("state", []))
    outputs = body.get("outputs", [])
    if outputs:       # absent or empty: the legacy format, Dash reads the outputs from `output`
        _check_outputs(outputs, declared_outputs(output))
    changed = body.get("changedPropIds")   # the renderer always sends it (maybe empty)
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadRequest("changedPropIds")
    return body


def _wrap_callback_view(app, view):
    from dash.exceptions import PreventUpdate

    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (HTTPException, PreventUpdate):
            raise
        except Exception:  # noqa: BLE001 - a body the page would never send; see module docstring
            log.exception("callback failed on a request (answered 400): %s", request.get_data()[:300])
            return _bad("callback failed on this input")
    guarded.__name__ = getattr(view, "__name__", "dispatch")
    return guarded


def _wrap_suites_view(view):
    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except HTTPException:
            raise
        except Exception:  # noqa: BLE001 - unknown package or path: not found
            return Response("not found", status=404, mimetype="text/plain")
    guarded.__name__ = getattr(view, "__name__", "serve")
    return guarded


# -- compression cache ---------------------------------------------------------------------------------

class _CompressedFiles:
    """Flask-Compress cache backend: keeps compressed bodies of fingerprinted (immutable) files
    and of answers from dashboard.cache's response cache only, at most `max_bytes` in all (LRU);
    every other key is not stored."""

    def __init__(self, max_bytes: int = 64 << 20):
        from dashboard.cache import ByteLRU

        self._lru = ByteLRU(max_bytes)

    def get(self, key: str):
        return self._lru.get(key)

    def set(self, key: str, value: bytes):
        if ";nocache:" in key:
            return None
        return self._lru.set(key, value) or None


def _cache_key(req) -> str:
    from dashboard.plotly_bundle import PLOTLY_PATH

    # the plotly bundle's URL has no fingerprint, but its body is fixed for the process's life
    if req.method == "GET" and (_immutable(req) or req.path == PLOTLY_PATH):
        return req.full_path
    # a callback answer from dashboard.cache's response cache: fixed for its key
    key = getattr(g, "styrkort_response_key", None) if req.method == "POST" else None
    if key:
        return key
    return f"nocache:{id(req)}"


def _immutable(req) -> bool:
    path = req.path
    if path.startswith(SUITES_PREFIX):
        from dash.fingerprint import check_fingerprint

        return check_fingerprint(path)[1]
    return path.startswith("/assets/") and bool(req.args.get("m"))


# -- versions ------------------------------------------------------------------------------------------

def hide_versions_in_fingerprints() -> None:
    """Dash names files `<name>.v<package version>m<mtime>.js`; name them by a hash of the
    version instead (still changes with every upgrade, so caches stay correct)."""
    import dash.dash as dash_module
    from dash import fingerprint

    original = fingerprint.build_fingerprint
    if getattr(dash_module.build_fingerprint, "_styrkort", False):
        return

    def build_fingerprint(path, version, hash_value):
        return original(path, hashlib.sha256(str(version).encode()).hexdigest()[:10], hash_value)
    build_fingerprint._styrkort = True
    dash_module.build_fingerprint = build_fingerprint


def config_without_versions(config: dict) -> dict:
    for key in _HIDDEN_CONFIG:
        config.pop(key, None)
    return config


def quiet_request_handler():
    """Werkzeug's dev-server handler without `Server: Werkzeug/x Python/y`."""
    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        def version_string(self) -> str:
            return "styrkort"
    return Handler


# -- wiring --------------------------------------------------------------------------------------------

def harden(app) -> None:
    """Install the request checks, error statuses, cache headers and compression on app.server."""
    from flask_compress import Compress

    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = REQUEST_MAX_BYTES

    @server.before_request
    def _check_request():
        if request.method == "POST" and request.path == CALLBACK_PATH:
            length = request.content_length
            if length is not None and length > REQUEST_MAX_BYTES:
                return Response("request too large", status=413, mimetype="text/plain")
            try:
                # kept for dashboard.cache's response cache (so the body is parsed once)
                g.styrkort_callback_body = check_callback_body(app, request.get_data(cache=True))
            except BadRequest as e:
                # one line, so a page whose own requests are refused shows in the log
                log.warning("%s (answered 400): %s", CALLBACK_REFUSED, e)
                return _bad(str(e))
        return None

    endpoints = {rule.rule: rule.endpoint for rule in server.url_map.iter_rules()}
    cb_endpoint = endpoints.get(CALLBACK_PATH)
    if cb_endpoint:
        server.view_functions[cb_endpoint] = _wrap_callback_view(app, server.view_functions[cb_endpoint])
    for rule, endpoint in endpoints.items():
        if rule.startswith(SUITES_PREFIX):
            server.view_functions[endpoint] = _wrap_suites_view(server.view_functions[endpoint])

    @server.after_request
    def _cache_headers(response):
        if request.method in ("GET", "HEAD") and response.status_code == 200 and _immutable(request):
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return response

    server.config.update(
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/plain", "application/json", "application/javascript",
                            "text/javascript", "image/svg+xml"],
        COMPRESS_ALGORITHM=["zstd", "br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["zstd", "br", "deflate"],
        COMPRESS_BR_LEVEL=5,
        COMPRESS_MIN_SIZE=500,
        COMPRESS_CACHE_KEY=_cache_key,
        COMPRESS_CACHE_BACKEND=_CompressedFiles,
    )
    # Flask runs after_request hooks in reverse order of registration: compression (registered
    # last) runs first, the header hooks of create_app after it (they do not read the body).
    Compress(server)
