"""/ – find a municipality (type-ahead by name or code) and a map of the 290 municipalities
coloured by a chosen measure, with the same data as a downloadable table."""
from __future__ import annotations

import re

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard.data import (first, get_db, municipalities_geojson, map_data, map_measures, measure_years, parse_year,
                            valid_code, valid_measure)
from dashboard.i18n import get_lang, href, page_title, search_string, t
from styrkort import formats

dash.register_page(__name__, path="/", title=page_title("nav_home"), name="Start", order=0)


def _how_to_read(lang):
    if lang == "en":
        items = [
            "Search for a municipality above, or click it on the map, to open its balanced scorecard.",
            "Choose what colours the map. Darker blue is better for the chosen measure; grey means no data.",
            "The composite index and the quality indicators are demo data until real Öppna jämförelser "
            "values are imported; they are labelled 'demo'.",
            "Cost deviation is the net cost's difference from a standard cost; 'modelled' means we "
            "estimated the standard cost ourselves (see About the data).",
            "The table below the map holds the same figures and can be downloaded.",
        ]
        title = "How to read"
    else:
        items = [
            "Sök en kommun ovan, eller klicka på den i kartan, för att öppna dess balanserade styrkort.",
            "Välj vad kartan ska färgas efter. Mörkare blått är bättre för det valda måttet; grått betyder "
            "att uppgift saknas.",
            "Det sammanvägda indexet och kvalitetsindikatorerna är demodata tills riktiga värden från "
            "Öppna jämförelser importeras; de är märkta ”demo”.",
            "Kostnadsavvikelsen är nettokostnadens skillnad mot en standardkostnad; ”modellerad” betyder "
            "att vi själva har skattat standardkostnaden (se Om data).",
            "Tabellen under kartan innehåller samma siffror och kan laddas ner.",
        ]
        title = "Så läser du"
    return dbc.Card(dbc.CardBody([html.H2(title, className="h5"),
                                  html.Ul([html.Li(i) for i in items], className="mb-0")]),
                    className="mb-3 sk-howto")


BLUES = [[0.0, "#eff3ff"], [0.25, "#bdd7e7"], [0.5, "#6baed6"], [0.75, "#3182bd"], [1.0, "#08306b"]]
MISSING_GREY = "#bfbfbf"


def _map_figure(df, meta, lang) -> dict:
    """The choropleth as a plain figure dict: go.Figure would deep-copy and validate the 290
    polygons on every request (~250 ms); the dict costs nothing."""
    gj = municipalities_geojson()
    reverse = meta.get("higher_is_better") is False  # low is good -> dark for low values
    unit = meta.get("unit")
    has = df[df["value"].notna()]
    none = df[df["value"].isna()]
    shown = [C.fmt_value(v, None if unit == "rank" else unit, lang) for v in has["value"]]
    traces = []
    if not none.empty:
        missing_codes = set(none["municipality_code"])
        traces.append({
            "type": "choropleth", "name": t("missing", lang), "showscale": False,
            "geojson": {"type": "FeatureCollection",
                        "features": [f for f in gj["features"] if f["id"] in missing_codes]},
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
            "colorbar": {"title": {"text": ("rang" if lang == "sv" else "rank") if unit == "rank"
                                   else (unit or "")}, "thickness": 14}})
    layout = {
        "geo": {"fitbounds": "locations", "visible": False, "projection": {"type": "mercator"}},
        "height": 640, "margin": {"l": 0, "r": 0, "t": 10, "b": 0}, "dragmode": False,
        "separators": formats.PLOTLY_SEPARATORS.get(lang, ", "),
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
                 "size": 14, "color": "#212529"},
        "paper_bgcolor": "white",
    }
    return {"data": traces, "layout": layout}


@C.safe_layout
def layout(measure=None, year=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    munis = db.municipalities()
    options = [{"label": f"{n} ({c})", "value": c}
               for c, n in zip(munis["municipality_code"], munis["name"])]
    measures = map_measures(db, lang)
    measure = first(measure)
    if not valid_measure(db, measure):
        measure = measures[0]["value"] if measures else None

    # A native input with a datalist: type-ahead by name or code in every browser, keyboard
    # and screen-reader friendly. Picking a suggestion ("Göteborg (1480)") opens the scorecard;
    # a typed name or code opens it on Enter or with the button.
    search_box = html.Div([
        html.Label(t("search_label", lang), htmlFor="home-search", className="form-label fw-semibold"),
        html.Div([
            dcc.Input(id="home-search", type="text", list="home-municipalities", autoComplete="off",
                      placeholder=t("search_placeholder", lang), debounce=False,
                      className="form-control", spellCheck=False),
            html.Button(t("search_button", lang), id="home-search-go", n_clicks=0,
                        className="btn btn-primary"),
        ], className="input-group"),
        html.Datalist([html.Option(value=o["label"]) for o in options], id="home-municipalities"),
        html.Div(t("search_help", lang), className="form-text", id="home-search-help"),
        html.Div(id="home-search-msg", role="status", className="mt-1"),
    ], className="mb-4")

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
    controls = dbc.Row([
        dbc.Col(C.labelled_select("home-measure", t("map_measure", lang), measures, measure), md=8),
        dbc.Col(C.labelled_select("home-year", t("year", lang),
                                  [{"label": str(y), "value": y} for y in years], yr), md=4),
    ], className="mb-2 g-3")
    children.append(html.H2(t("map_title", lang), className="h4 mt-2"))
    children.append(controls)
    if yr is None:
        children.append(C.empty_state(t("missing", lang)))
        return html.Div(children)

    df, meta = map_data(db, measure, yr, lang)
    n_with = int(df["value"].notna().sum())
    fig = _map_figure(df, meta, lang)
    label = f"{meta['label']}, {yr}"
    badges = [C.demo_badge(lang)] if meta.get("is_demo") else []
    children += [
        dbc.Row([
            dbc.Col([
                html.Div([html.H3(label, className="h6 d-inline me-2"), *badges]),
                C.graph("home-map", fig, t("map_alt", lang, label=label, n=n_with), lang),
                C.source_caption(meta.get("source"), yr, lang, modelled=meta.get("modelled")),
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
            lang, caption=label, page_size=15),
    ]
    return html.Div(children)


def resolve_municipality(db, text: str | None) -> str | None:
    """A municipality code from what the user typed: 'Göteborg (1480)', '1480' or 'göteborg'."""
    if not text:
        return None
    text = str(text).strip()
    m = re.search(r"\(([0-9]{4})\)\s*$", text)
    code = m.group(1) if m else (text if valid_code(text) else None)
    if code:
        return code if db.municipality(code) else None
    munis = db.municipalities()
    hit = munis[munis["name"].str.casefold() == text.casefold()]
    return hit["municipality_code"].iloc[0] if len(hit) == 1 else None


@callback(Output("home-url", "href"), Output("home-search-msg", "children"),
          Input("home-search", "value"), Input("home-search", "n_submit"),
          Input("home-search-go", "n_clicks"), State("home-lang", "data"),
          prevent_initial_call=True)
def _go_to_municipality(text, _submit, _clicks, lang):
    from dash import ctx
    # value, n_submit and the button can arrive together (Enter right after typing)
    typed = all(tr["prop_id"] == "home-search.value" for tr in ctx.triggered)
    code = resolve_municipality(get_db(), text)
    if typed:
        # while typing, only a picked suggestion "Name (1234)" navigates
        if code and re.search(r"\([0-9]{4}\)\s*$", str(text or "")):
            return href(f"/kommun/{code}", lang), ""
        return no_update, no_update
    if code:
        return href(f"/kommun/{code}", lang), ""
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
