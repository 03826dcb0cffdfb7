"""The dashboard's own plotly.js: only the trace types its pages draw.

Dash's dcc.Graph loads plotly.js lazily, the first time a page shows a chart, from the fixed URL
`PLOTLY_PATH`. The full plotly.js is 4,8 MB (MapLibre, WebGL, 3D ...); parsing it cost a cold
first chart 0,6–0,8 s of main thread. `dashboard/vendor/plotly-styrkort.min.js` (1,4 MB, built by
`dashboard/vendor/plotly-bundle/build.sh` from the npm registry) holds `TRACE_TYPES` only and
is served at that URL instead. The exports (kaleido PNG/PDF) use the Python package's full
plotly.js, so they are unaffected. A test checks every figure the pages build uses only these.

A page that draws charts (its register_page has `charts=True`, or a function of the query
saying so) gets plotly.js in its first HTML as a deferred script (`early_script`): it downloads
with Dash's own scripts and runs right after them, while the renderer fetches the layout and the
page, instead of after the page has arrived (the charts waited ~0,2 s for it). `defer` rather
than `async`: an async script ran in the middle of Dash's scripts and held up the renderer's
start (cold medians 20-40 ms higher; the renderer does not wait for DOMContentLoaded). dcc.Graph's
own chunk (async-graph.js) comes the same way. assets/styrkort.js makes Dash's graph wait for that script
instead of loading plotly.js a second time.

    install(app.server)      # dashboard.app.create_app calls it once
    early_script(path, query_string)   # the <script> for a page's first HTML, or ""
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import parse_qs

from flask import Response, request

# (no waterfall: the scorecard draws its what-if waterfall as a server-made SVG)
TRACE_TYPES = frozenset({"scatter", "bar", "choropleth"})
BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-styrkort.min.js"
PLOTLY_PATH = "/_dash-component-suites/plotly/package_data/plotly.min.js"
# The URL carries no fingerprint (Dash's renderer fixes it), so browsers revalidate after an hour
# (ETag -> 304) instead of keeping it for a year.
CACHE_CONTROL = "public, max-age=3600"


def install(server) -> None:
    body = BUNDLE.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:20]

    @server.before_request
    def _plotly_bundle():
        if request.path != PLOTLY_PATH or request.method not in ("GET", "HEAD"):
            return None
        response = Response(body, mimetype="application/javascript")
        response.set_etag(etag)
        response.headers["Cache-Control"] = CACHE_CONTROL
        return response.make_conditional(request)


# dcc.Graph's own code is a webpack chunk dcc fetches when the first graph mounts; loaded with the
# page (after dcc's bundle, so its chunk loader takes it), the graph needs no further round trip
GRAPH_CHUNK_PATH = "/_dash-component-suites/dash/dcc/async-graph.js"
EARLY_SCRIPT = (f'<script src="{PLOTLY_PATH}" defer data-sk-plotly></script>'
                f'<script src="{GRAPH_CHUNK_PATH}" defer></script>')


def draws_charts(path: str, query_string: str = "") -> bool:
    """Whether the page at `path` (with this query) draws charts: its page_registry entry's
    `charts`, True/False or a function of the query's {name: first value}."""
    from dash._pages import _path_to_page   # Dash's own URL -> page lookup (its meta tags use it)

    page, _variables = _path_to_page((path or "/").strip("/"))
    charts = page.get("charts", False) if page else False
    if callable(charts):
        query = {k: v[0] for k, v in parse_qs(query_string or "").items() if v}
        return bool(charts(query))
    return bool(charts)


def early_script(path: str, query_string: str = "") -> str:
    """The deferred plotly.js <script> for the first HTML of a page that draws charts, else ''."""
    return EARLY_SCRIPT if draws_charts(path, query_string) else ""
