"""The Dash app: shell (header, main landmark, footer), shared callbacks, security headers,
and the HTTP hardening of dashboard/hardening.py (4xx for bad requests, size limit, no versions,
compression, long caching of fingerprinted files).

    create_app(db_path) -> dash.Dash      # tests, `styrkort serve`
    create_server()     -> flask.Flask    # gunicorn 'dashboard.app:create_server()', STYRKORT_DB

No global mutable state: the warehouse path lives in the Flask config of each app and the
read-only connection is opened per process by dashboard.data.get_db.
"""
from __future__ import annotations

import os
from pathlib import Path

import dash
from flask import request
from dash import ClientsideFunction, Input, Output, dcc, html

from dashboard import (cache, components, geo, hardening, plotly_bundle, polyfill, static_html, unit_templates,
                       urlcheck)
from dashboard.data import CONFIG_KEY
from dashboard.i18n import get_lang, request_lang, t

HERE = Path(__file__).resolve().parent

INDEX_STRING = """<!DOCTYPE html>
<html lang="{%lang%}">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
        {%plotly%}
    </head>
    <body>
        <a class="visually-hidden-focusable sk-skip" href="#main">{%skip_to_content%}</a>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def security_headers(app: dash.Dash):
    """Flask after_request hook: CSP that Dash works under, nosniff and friends.

    script-src is 'self' plus the hashes of Dash's own inline scripts (the renderer start-up
    and any inline clientside callbacks, which Dash registers lazily on the first request, so
    the hashes are computed per response - a few sha256 of short strings). No 'unsafe-eval':
    no function strings anywhere. style-src needs 'unsafe-inline' because Plotly injects
    <style> elements."""

    def add_headers(response):
        hashes = " ".join(app.csp_hashes())
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; "
            f"script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
            "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    return add_headers


def shell():
    """The layout around every page. The header is filled by a callback from the URL so the
    language switch and the active menu item follow navigation."""
    return html.Div([
        # the page's language already in the first render (the callback below follows navigation)
        html.Div(components.navbar("/", "", request_lang()), id="sk-header"),
        html.Main(dash.page_container, id="main", className="container-xxl pb-5", tabIndex="-1"),
        html.Footer(id="sk-footer", className="container-xxl py-3 border-top small text-body-secondary"),
        html.Div(id="sk-lang-sink", hidden=True),
        # the page's language as the server decided it (dashboard.i18n.get_lang): <html lang>
        dcc.Store(id="sk-page-lang", data=request_lang()),
        # the municipality this browser viewed last (the "Trender" menu item opens it)
        dcc.Store(id="sk-last-municipality", storage_type="local"),
    ])


def localized_index(interpolate):
    """Wrap Dash's interpolate_index: the first HTML of a page already has the request's language
    (<html lang>, the skip link); the pages' tab titles follow it (dashboard.i18n.page_title);
    a page that draws charts loads plotly.js from the start."""
    def interpolate_index(**kwargs):
        lang = request_lang()
        html_text = interpolate(**kwargs)
        # a page with charts starts loading plotly.js at once (dashboard.plotly_bundle)
        early = plotly_bundle.early_script(request.path, request.query_string.decode("latin-1"))
        return (html_text.replace("{%lang%}", lang)
                .replace("{%skip_to_content%}", t("skip_to_content", lang))
                .replace("{%plotly%}", early))
    return interpolate_index


class StyrkortDash(dash.Dash):
    """dash.Dash whose page config (`_dash-config` in every page) names no Dash, Plotly or
    Python version."""

    def _config(self):
        return hardening.config_without_versions(super()._config())


def create_app(db_path: str | os.PathLike | None = None) -> dash.Dash:
    """A new app reading the warehouse at db_path (default: STYRKORT_DB or data/warehouse.duckdb)."""
    from styrkort.paths import default_db

    db_path = Path(db_path) if db_path else default_db()
    # Dash loads the pages as `pages.<name>`; importing one as `dashboard.pages.<name>` (tests,
    # notebooks) registers it a second time and Dash then refuses every page (duplicate paths).
    for key in [k for k in dash.page_registry if k.startswith("dashboard.pages.")]:
        del dash.page_registry[key]
    hardening.hide_versions_in_fingerprints()
    app = StyrkortDash(
        __name__,
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        suppress_callback_exceptions=True,
        title="Styrkort",
        update_title=None,
        serve_locally=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.index_string = INDEX_STRING
    app.interpolate_index = localized_index(app.interpolate_index)
    app.server.config[CONFIG_KEY] = str(db_path)
    app.layout = shell
    static_html.install(app)   # presentational parts of each page as one component (browser time)
    components.register_callbacks(app)
    geo.register(app.server)   # the map's polygons as a cacheable static file
    plotly_bundle.install(app.server)   # plotly.js with only the traces the pages draw
    polyfill.install(app.server)   # regenerator-runtime instead of Dash's whole @babel/polyfill

    @app.callback(
        Output("sk-header", "children"),
        Output("sk-footer", "children"),
        Output("sk-page-lang", "data"),
        Input("_pages_location", "pathname"),
        Input("_pages_location", "search"),
        Input("sk-last-municipality", "data"),
    )
    def _header(pathname, search, last_code):
        from dashboard.data import get_db, valid_code
        lang = get_lang(search)
        footer = [t("app_title", lang), " · ", t("footer_sources", lang)]
        if not (valid_code(last_code) and get_db().municipality(last_code)):
            last_code = None
        # the header as markup (its links open inside the app): re-rendered on every page change
        return static_html.staticize(components.navbar(pathname, search, lang, last_code)), footer, lang

    app.clientside_callback(
        ClientsideFunction(namespace="styrkort", function_name="rememberMunicipality"),
        Output("sk-last-municipality", "data"),
        Input("_pages_location", "pathname"),
        Input("_pages_location", "search"),
    )

    # <html lang> is the language the server answered in (asset function: no inline script, CSP-safe)
    app.clientside_callback(
        ClientsideFunction(namespace="styrkort", function_name="setLang"),
        Output("sk-lang-sink", "children"),
        Input("sk-page-lang", "data"),
    )

    app.server.after_request(security_headers(app))
    urlcheck.install(app)  # unknown pages, codes, units, years: HTTP 404 (the page explains)
    unit_templates.install(app)  # /enheter/mall/*: the unit import templates
    cache.install_response_cache(app)  # repeated page answers from memory until the warehouse changes
    hardening.harden(app)  # bad requests 4xx, size limit, compression, caching
    return app


def create_server():
    """WSGI entry point for gunicorn: the warehouse path comes from env STYRKORT_DB. Every page's
    default view is rendered before the fork; STYRKORT_PRERENDER=1 (`styrkort serve --prod
    --prerender`) renders every scorecard too."""
    from dashboard.report import warm_after_fork

    app = create_app(os.environ.get(CONFIG_KEY) or None)
    # each gunicorn worker starts its PDF chart renderer (Chromium) right after the fork; the
    # master none, also not while it renders the pages below
    warm_after_fork()
    warm_up(app)
    prerender_pages(app)
    if os.environ.get("STYRKORT_PRERENDER") == "1":
        prerender_scorecards(app)
    return app.server


def prerender_pages(app) -> int:
    """Render every page's default view (its path without a query, in Swedish and English) into
    the page cache in the gunicorn master before it forks: every worker starts with them, instead
    of the first visitor of each page on each worker waiting for its render (/kostnad, /statsbidrag:
    ~0,2 s; /: ~0,5 s). ~0,7 s at start on the embedded default. The warehouse connection is closed
    again (a DuckDB connection must not cross the fork). Returns the number of views rendered."""
    from urllib.parse import parse_qsl, urlsplit

    from dashboard import data
    from dashboard.i18n import href
    from styrkort.i18n import LANGS

    n = 0
    for page in list(dash.page_registry.values()):
        layout = page.get("layout")
        if page.get("path_template") or not callable(layout) or page.get("path") == "/404":
            continue
        for lang in LANGS:
            url = href(page["path"], lang)     # the page's link in that language
            with app.server.test_request_context(url):
                layout(**dict(parse_qsl(urlsplit(url).query)))   # as Dash's router calls it
            n += 1
    data.close_all()
    return n


def prerender_scorecards(app) -> int:
    """Render every municipality's scorecard (/kommun/<code>, Swedish, latest year) into the page
    cache in the gunicorn master before it forks, so every worker starts with them instead of
    rendering each once under load (~40 ms each, 290 per worker). The warehouse connection is
    closed again: a DuckDB connection must not cross the fork. Returns the number rendered."""
    from dashboard import data

    page = next((p for p in dash.page_registry.values() if (p.get("module") or "").endswith(".kommun")), None)
    if page is None:
        return 0
    with app.server.test_request_context("/kommun"):
        codes = [r[0] for r in data.get_db().rows("SELECT municipality_code FROM municipalities ORDER BY 1")]
        for code in codes:
            page["layout"](code=code)
    data.close_all()
    return len(codes)


def warm_up(app) -> None:
    """Run Dash's one-time set-up now, in the master before gunicorn forks (--preload).

    Dash 4.4 sets itself up (component libraries, the pages router) on the first request and
    marks that done *before* it has finished, so concurrent first requests in a fresh worker
    could get HTTP 500 ("dash is not a registered library") and a page stuck on "Loading".
    /_dash-dependencies touches no warehouse data, so no DuckDB connection crosses the fork."""
    with app.server.test_client() as client:
        response = client.get("/_dash-dependencies")
    if response.status_code != 200:
        raise RuntimeError(f"Dashboard warm-up failed: HTTP {response.status_code}")
