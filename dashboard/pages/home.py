"""/ – find a municipality (type-ahead by name or code) and a map of the 290 municipalities
coloured by a chosen measure, with the same data as a downloadable table."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard.geo import geojson_url
from dashboard.data import (first, get_db, map_data, map_measures, measure_years, parse_year,
                            valid_code, valid_measure)
from dashboard.i18n import get_lang, href, page_title, search_string, t, tn
from dashboard.search import search, search_entries
from dashboard.urlcheck import year_notice
from styrkort import formats

dash.register_page(__name__, path="/", title=page_title("nav_home"), name="Start", order=0,
                   charts=True)   # the map: plotly.js loads with the page (plotly_bundle)


def _how_to_read(lang):
    items = [t(f"home_howto_{i}", lang) for i in range(1, 6)]
    return dbc.Card(dbc.CardBody([html.H2(t("home_howto_title", lang), className="h5"),
                                  html.Ul([html.Li(i) for i in items], className="mb-0")]),
                    className="mb-3 sk-howto")


BLUES = [[0.0, "#eff3ff"], [0.25, "#bdd7e7"], [0.5, "#6baed6"], [0.75, "#3182bd"], [1.0, "#08306b"]]
MISSING_GREY = "#bfbfbf"


def _map_figure(df, meta, lang) -> dict:
    """The choropleth as a plain figure dict. The polygons are not in it: both traces name the
    cached static file (dashboard.geo), and `locations` picks each trace's municipalities."""
    gj = geojson_url()
    reverse = meta.get("higher_is_better") is False  # low is good -> dark for low values
    unit = meta.get("unit")
    has = df[df["value"].notna()]
    none = df[df["value"].isna()]
    shown = [C.fmt_value(v, None if unit == "rank" else unit, lang) for v in has["value"]]
    traces = []
    if not none.empty:
        traces.append({
            "type": "choropleth", "name": t("missing", lang), "showscale": False,
            "geojson": gj,
            "featureidkey": "properties.id", "locations": list(none["municipality_code"]),
            "z": [0] * len(none), "colorscale": [[0, MISSING_GREY], [1, MISSING_GREY]],
            "marker": {"line": {"color": "white", "width": 0.3}},
            "text": [f"{n} ({c})<br>{t('missing', lang)}" for n, c in
                     zip(none["name"], none["municipality_code"])],
            "hovertemplate": "%{text}<extra></extra>"})
    if not has.empty:
        traces.append({
            "type": "choropleth", "geojson": gj, "featureidkey": "properties.id",
            "locations": list(has["municipality_code"]), "z": [float(v) for v in has["value"]],
            # light -> dark (ColorBrewer Blues); plotly.js's own "Blues" runs dark -> light
            "colorscale": BLUES, "reversescale": reverse,
            "marker": {"line": {"color": "white", "width": 0.3}},
            "text": [f"{n} ({c})<br>{v}" for n, c, v in zip(has["name"], has["municipality_code"], shown)],
            "hovertemplate": "%{text}<extra></extra>",
            "colorbar": {"title": {"text": t("rank_unit", lang) if unit == "rank"
                                   else (unit or "")}, "thickness": 14}})
    layout = {
        "geo": {"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}},
        "height": 640, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "dragmode": False,
        "separators": formats.plotly_separators(lang),
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                 "size": 14, "color": "#212529"},
        "paper_bgcolor": "white",
    }
    return {"data": traces, "layout": layout}


@C.safe_layout
def layout(measure=None, year=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    measures = map_measures(db, lang)
    measure = first(measure)
    if not valid_measure(db, measure):
        measure = measures[0]["value"] if measures else None

    # Forgiving search (dashboard/search.py): ranked hits appear as links under the box while
    # typing; Enter or the button opens the first hit, ↓/↑ move through the hits (styrkort.js).
    search_box = html.Div([
        html.Label(t("search_label", lang), htmlFor="home-search", className="form-label fw-semibold"),
        html.Div([
            dcc.Input(id="home-search", type="text", autoComplete="off",
                      placeholder=t("search_placeholder", lang), debounce=False,
                      className="form-control", spellCheck=False),
            html.Button(t("search_button", lang), id="home-search-go", n_clicks=0,
                        className="btn btn-primary"),
        ], className="input-group"),
        html.Div(t("search_help", lang), className="form-text", id="home-search-help"),
        html.Div(id="home-search-msg", role="status", className="mt-1", **{"aria-live": "polite"}),
        html.Ul(id="home-search-results", className="list-group sk-search-results mt-1",
                **{"aria-label": t("search_results_label", lang)}),
    ], className="mb-4 sk-search")

    children = [
        dcc.Location(id="home-url", refresh="callback-nav"),
        dcc.Store(id="home-lang", data=lang),
        C.page_heading(t("home_title", lang), t("home_lead", lang)),
        search_box,
    ]
    if measure is None:
        children.append(C.not_computed("composite_index / kpi_values", lang))
        return html.Div(children)

    years = measure_years(db, measure)
    yr = parse_year(year, years) or (years[-1] if years else None)
    notice = year_notice(year, years, yr, lang)
    controls = dbc.Row([
        dbc.Col(C.labelled_select("home-measure", t("map_measure", lang), measures, measure), md=8),
        dbc.Col(C.labelled_select("home-year", t("year", lang),
                                  [{"label": str(y), "value": y} for y in years], yr), md=4),
    ], className="mb-2 g-3")
    children.append(html.H2(t("map_title", lang), className="h4 mt-2"))
    children.append(controls)
    children.append(notice)
    if yr is None:
        children.append(C.empty_state(t("missing", lang)))
        return html.Div(children)

    df, meta = map_data(db, measure, yr, lang)
    n_with = int(df["value"].notna().sum())
    fig = _map_figure(df, meta, lang)
    label = f"{meta['label']}, {yr}"
    badges = [C.index_demo_label(meta, lang)] if meta.get("is_demo") else []
    children += [
        dbc.Row([
            dbc.Col([
                html.Div([html.H3(label, className="h6 d-inline me-2"), *badges]),
                C.graph("home-map", fig, t("map_alt", lang, label=label, n=n_with), lang),
                C.source_caption(C.stored_text(meta.get("source")) if meta.get("stored_source") else meta.get("source"),
                                 yr, lang, modelled=meta.get("modelled")),
            ], lg=8),
            dbc.Col(_how_to_read(lang), lg=4),
        ], className="g-3"),
        html.H2(t("map_table_title", lang), className="h5 mt-3"),
        C.table_with_downloads(
            "karta", df.assign(link=[href(f"/kommun/{c}", lang) for c in df["municipality_code"]]),
            [C.col("name", t("municipality", lang), link_field="link"),
             C.col("municipality_code", t("code", lang)),
             C.col("county_name", t("county", lang)),
             C.col("value", meta["label"], "int" if meta.get("unit") == "rank" else "number", 1)],
            lang, caption=label, page_size=15,
            download=C.download_meta(C.file_stem("karta", measure, yr), meta.get("source"), yr,
                                     demo=bool(meta.get("is_demo")), title=label)),
    ]
    return html.Div(children)


def valid_years(db, params: dict) -> list[int] | None:
    """The years ?year= may name (dashboard.urlcheck): those of the measure on the map."""
    measure = first(params.get("measure"))
    if not valid_measure(db, measure):
        measures = map_measures(db)
        measure = measures[0]["value"] if measures else None
    return measure_years(db, measure) if measure else None


def _entries(db):
    """The search index (municipalities and units), built once per warehouse connection."""
    def build():
        munis = db.municipalities()
        units = db.rows_view("org_units", "SELECT u.unit_id, u.name, coalesce(m.name, u.municipality_code) "
                                          "FROM org_units u LEFT JOIN municipalities m USING (municipality_code) "
                                          "ORDER BY u.name") or []
        return search_entries(zip(munis["municipality_code"], munis["name"]), units)
    return db._cached("search_entries", build)


def hit_href(hit, lang: str) -> str:
    e = hit.entry
    if e.kind == "unit":
        return href(f"/enhet/{e.key}", lang)
    return href(f"/kommun/{e.key}", lang)


def hit_item(hit, lang: str, first: bool):
    e = hit.entry
    kind = t("search_kind_unit", lang) if e.kind == "unit" else t("search_kind_municipality", lang)
    detail = e.detail if e.kind == "unit" else f"{t('code', lang).lower()} {e.detail}"
    return html.Li(dcc.Link([html.Span(e.name, className="fw-semibold"), " ",
                             html.Span(f"({kind}, {detail})", className="text-body-secondary small")],
                            href=hit_href(hit, lang),
                            className="list-group-item list-group-item-action" + (" active" if first else "")),
                   className="sk-search-hit")


@callback(Output("home-search-results", "children"), Output("home-search-msg", "children"),
          Input("home-search", "value"), State("home-lang", "data"), prevent_initial_call=True)
def _search_as_typed(text, lang):
    text = str(text or "")[:80]
    if not text.strip():
        return [], ""
    hits = search(_entries(get_db()), text)
    if not hits:
        return [], C.error_state(t("search_none", lang, text=text[:60]))
    return ([hit_item(h, lang, i == 0) for i, h in enumerate(hits)],
            tn("search_hits", len(hits), lang, first=hits[0].entry.name))


@callback(Output("home-url", "href"), Output("home-search-msg", "children", allow_duplicate=True),
          Input("home-search", "n_submit"), Input("home-search-go", "n_clicks"),
          State("home-search", "value"), State("home-lang", "data"), prevent_initial_call=True)
def _open_first_hit(_submit, _clicks, text, lang):
    hits = search(_entries(get_db()), str(text or "")[:80])
    if hits:
        return hit_href(hits[0], lang), no_update
    return no_update, C.error_state(t("search_none", lang, text=str(text or "")[:60]))


@callback(Output("home-url", "href", allow_duplicate=True), Input("home-map", "clickData"),
          State("home-lang", "data"), prevent_initial_call=True)
def _map_click(click, lang):
    try:
        code = click["points"][0]["location"]
    except (TypeError, KeyError, IndexError):
        return no_update
    return href(f"/kommun/{code}", lang) if valid_code(code) else no_update


@callback(Output("home-url", "search"), Input("home-measure", "value"), Input("home-year", "value"),
          State("home-lang", "data"), prevent_initial_call=True)
def _controls_to_url(measure, year, lang):
    # The year list depends on the measure: drop the year when the measure changes.
    from dash import ctx
    if ctx.triggered_id == "home-measure":
        year = None
    return search_string(lang, measure=measure, year=year)
