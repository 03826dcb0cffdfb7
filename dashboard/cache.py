"""Reuse what a page computed from the warehouse until the warehouse file changes.

The web process only reads the warehouse, and the file only changes by an atomic swap
(`styrkort build`/`refresh`/`import` write a copy and rename it into place). So anything a page
computes from the file plus its inputs (URL parameters, control values, language) is valid until
the file's identity changes, and can be reused by every later request with the same inputs:

    from dashboard.cache import per_warehouse

    @per_warehouse()
    def layout(code=None, year=None, lang=None, **_):
        ...

The key is (warehouse path, the file's identity = inode + mtime, the function, its arguments).
After a swap the identity differs, so no old result is ever served for the new file; the old
entries age out of the bounded LRU. Only successful results are kept (an exception propagates
and nothing is stored). Concurrent first requests for the same key compute it once: the others
wait for that result instead of all rendering the same page at the same moment (200 users
opening the start page after a deploy).

Cached results are shared between requests and threads, so callers must not mutate them (Dash
only serialises a callback's return value). `STYRKORT_PAGE_CACHE=0` turns reuse off (e.g. to
measure the uncached cost); `STYRKORT_PAGE_CACHE=N` sets the default size.
"""
from __future__ import annotations

import functools
import gc
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

DEFAULT_SIZE = 256


def _enabled_size(maxsize: int | None) -> int:
    env = os.environ.get("STYRKORT_PAGE_CACHE", "").strip()
    if env.isdigit():
        return int(env) if maxsize is None or int(env) == 0 else min(int(env), maxsize)
    return DEFAULT_SIZE if maxsize is None else maxsize


def warehouse_identity() -> tuple | None:
    """(path, inode, mtime_ns) of the running app's warehouse file, or None outside an app
    (then nothing is cached)."""
    from dashboard.data import _file_stamp, db_path_from_context

    try:
        from flask import current_app
        current_app.config  # noqa: B018 - raises outside an application context
    except RuntimeError:
        return None
    path = Path(db_path_from_context())
    stamp = _file_stamp(path)
    return None if stamp is None else (str(path), *stamp)


def _freeze(value):
    """A hashable stand-in for an argument: lists/dicts (dcc.Store data) by their JSON text."""
    try:
        hash(value)
        return value
    except TypeError:
        return ("json", json.dumps(value, sort_keys=True, default=str))


class _Entry:
    __slots__ = ("done", "value", "error")

    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error = None


def _out_of_gc_reach() -> None:
    """Move a result just kept (a page layout: ~5 000 Dash components, each with its own property
    lists) out of the cyclic garbage collector's reach, as dashboard.data does for the framework
    at start. Kept layouts live until evicted, and without this every full collection walks all
    of them: with the cache filling up, one render in ~20 paid 50-250 ms of collection (the
    scorecard's p95 at Kolada scale). The collection first frees cyclic garbage, so nothing
    unreachable is frozen; it walks only what was created since the last freeze (~1 ms). An
    evicted result is still freed by reference counting (component trees hold no cycles)."""
    gc.collect()
    gc.freeze()


class PerWarehouseCache:
    """A bounded LRU of results keyed by warehouse identity and arguments (thread-safe)."""

    def __init__(self, fn, maxsize: int):
        self.fn = fn
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def key(self, identity, args, kwargs):
        return (identity, tuple(_freeze(a) for a in args),
                tuple(sorted((k, _freeze(v)) for k, v in kwargs.items())))

    def __call__(self, *args, **kwargs):
        identity = warehouse_identity() if self.maxsize > 0 else None
        if identity is None:
            return self.fn(*args, **kwargs)
        key = self.key(identity, args, kwargs)
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                self._data.move_to_end(key)
                self.hits += 1
                owner = False
            else:
                entry = _Entry()
                self._data[key] = entry
                self.misses += 1
                owner = True
                while len(self._data) > self.maxsize:
                    self._data.popitem(last=False)
        if not owner:
            entry.done.wait()
            if entry.error is None:
                return entry.value
            return self.fn(*args, **kwargs)   # the first caller failed: try on our own
        try:
            entry.value = self.fn(*args, **kwargs)
            _out_of_gc_reach()
        except BaseException as exc:
            entry.error = exc
            with self._lock:
                if self._data.get(key) is entry:
                    del self._data[key]
            raise
        finally:
            entry.done.set()
        return entry.value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


def per_warehouse(maxsize: int | None = None):
    """Decorator: reuse the function's result for the same arguments until the warehouse file
    changes. The wrapper has `.cache` (hits, misses, clear())."""
    def deco(fn):
        cache = PerWarehouseCache(fn, _enabled_size(maxsize))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return cache(*args, **kwargs)
        wrapper.cache = cache
        return wrapper
    return deco


# -- whole callback responses ---------------------------------------------------------------------------

# Callbacks whose answer depends only on the request body (the URL, the language and control
# values are all in it) and the warehouse: the page router's content and the header. Their JSON
# answer (up to ~250 kB for a scorecard) is kept as bytes, so a repeat costs neither Dash's
# serialisation nor, through hardening's compression cache, the compression.
CACHED_OUTPUTS = ("_pages_content.children", "sk-header.children")
RESPONSE_CACHE_BYTES = 64 << 20


class ByteLRU:
    """A thread-safe LRU bounded by the total bytes of its values (`size_of(value)`); a value
    larger than the bound is not stored. Shared by the response cache here and hardening's
    cache of compressed bodies."""

    def __init__(self, max_bytes: int, size_of=len):
        self.max_bytes = max_bytes
        self.size_of = size_of
        self._data: OrderedDict = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            hit = self._data.get(key)
            if hit is not None:
                self._data.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return hit

    def set(self, key, value) -> bool:
        size = self.size_of(value)
        if size > self.max_bytes:
            return False
        with self._lock:
            if key not in self._data:
                self._data[key] = value
                self._size += size
                while self._size > self.max_bytes:
                    _, old = self._data.popitem(last=False)
                    self._size -= self.size_of(old)
        return True


def ResponseCache(max_bytes: int = RESPONSE_CACHE_BYTES) -> ByteLRU:
    """Callback and page answers as (body, mimetype), bounded by the bodies' bytes."""
    return ByteLRU(max_bytes, size_of=lambda v: len(v[0]))


def response_key(body: bytes, parsed: dict | None = None) -> tuple | None:
    """The cache key of a callback request, or None when its answer must not be reused (another
    callback, no warehouse, caching turned off). `parsed`: the body already parsed (hardening
    checks every callback body first), so it is not parsed twice."""
    if _enabled_size(None) == 0:
        return None
    try:
        output = (parsed if parsed is not None else json.loads(body)).get("output", "")
    except (ValueError, AttributeError):
        return None
    if not isinstance(output, str) or not any(o in output for o in CACHED_OUTPUTS):
        return None
    identity = warehouse_identity()
    if identity is None:
        return None
    import hashlib
    return (identity, hashlib.sha256(body).hexdigest())


# GET answers that depend only on the URL, the page's language and the warehouse: the HTML of a
# page, the layout shell and the callback list (both fetched on every page open).
CACHED_GETS = ("/", "/<path:path>", "/_dash-layout", "/_dash-dependencies")


def get_key() -> tuple | None:
    """The cache key of a GET (path + query + the language it is answered in), or None."""
    from flask import request

    from dashboard.i18n import request_lang

    if _enabled_size(None) == 0 or request.method != "GET":
        return None
    identity = warehouse_identity()
    return None if identity is None else (identity, request.full_path, request_lang())


def install_response_cache(app) -> ByteLRU:
    """Serve repeated page-content and header callbacks (CACHED_OUTPUTS) and repeated page opens
    (CACHED_GETS) from memory until the warehouse file changes. Only HTTP 200 answers are kept;
    the after-request hooks (security headers, compression) still run on every answer."""
    from flask import Response, g, request

    server = app.server
    cache = ResponseCache()
    endpoints = {r.rule: r.endpoint for r in server.url_map.iter_rules()}

    def wrap(view, key_fn, compress_key: bool):
        def cached_view(*args, **kwargs):
            key = key_fn()
            if key is None:
                return view(*args, **kwargs)
            if compress_key:   # for hardening's compression cache
                g.styrkort_response_key = "cb:" + "|".join(map(str, key))
            hit = cache.get(key)
            if hit is not None:
                return Response(hit[0], status=200, mimetype=hit[1])
            response = server.make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.is_streamed:
                cache.set(key, (response.get_data(), response.mimetype))
            else:
                g.styrkort_response_key = None
            return response
        cached_view.__name__ = getattr(view, "__name__", "view")
        return cached_view

    def post_key():
        if request.method != "POST":
            return None
        return response_key(request.get_data(cache=True), getattr(g, "styrkort_callback_body", None))

    cb = endpoints["/_dash-update-component"]
    server.view_functions[cb] = wrap(server.view_functions[cb], post_key, True)
    for rule in CACHED_GETS:
        if rule in endpoints:
            server.view_functions[endpoints[rule]] = wrap(server.view_functions[endpoints[rule]], get_key, False)
    server.extensions["styrkort_response_cache"] = cache
    return cache
