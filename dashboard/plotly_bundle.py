"""The dashboard's own plotly.js: only the trace types its pages draw.

Dash's dcc.Graph loads plotly.js lazily, the first time a page shows a chart, from the fixed URL
`PLOTLY_PATH`. The full plotly.js is 4,8 MB (MapLibre, WebGL, 3D ...); parsing it cost a cold
first chart 0,6–0,8 s of main thread. `dashboard/vendor/plotly-styrkort.min.js` (1,4 MB, built by
`dashboard/vendor/plotly-bundle/build.sh` from the npm registry) holds `TRACE_TYPES` only and
is served at that URL instead. The exports (kaleido PNG/PDF) use the Python package's full
plotly.js, so they are unaffected. A test checks every figure the pages build uses only these.

    install(app.server)      # dashboard.app.create_app calls it once
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Response, request

TRACE_TYPES = frozenset({"scatter", "bar", "waterfall", "choropleth"})
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
