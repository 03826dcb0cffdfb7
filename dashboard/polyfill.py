"""Dash's script `dash/deps/polyfill@7…min.js` (@babel/polyfill 7.12: core-js 2 + regenerator-runtime)
replaced by regenerator-runtime alone.

Why: the browsers the dashboard supports have every ES2017 built-in natively, so of the 99 KB
only regenerator-runtime is needed (Dash's renderer, dcc and dbc call the global
`regeneratorRuntime`). Worse, core-js 2 finds modern Chromium's String.prototype.trim
"non-compliant" (U+180E is no longer whitespace since Unicode 6.3) and replaces it with a
regular-expression version that Plotly's text layout calls thousands of times: the polyfill cost
a chart page ~50–80 ms of main thread before anything was shown (2-core machine, CPU profile of
/kostnad). The file keeps Dash's fingerprinted URL and so its place in the script order (before
the renderer) and its year-long cache.

    install(app.server)      # dashboard.app.create_app calls it once
"""
from __future__ import annotations

from pathlib import Path

from flask import Response, request

RUNTIME = Path(__file__).resolve().parent / "vendor" / "regenerator-runtime.js"
PREFIX = "/_dash-component-suites/dash/deps/polyfill@7"


def install(server) -> None:
    body = RUNTIME.read_bytes()

    @server.before_request
    def _slim_polyfill():
        if not (request.path.startswith(PREFIX) and request.path.endswith(".js")) \
                or request.method not in ("GET", "HEAD"):
            return None
        # Cache-Control for the fingerprinted URL is added by dashboard.hardening, as for Dash's own
        return Response(body, mimetype="application/javascript")
