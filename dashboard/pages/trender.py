"""/trender — for committee meetings: one municipality, chosen KPIs, large trend charts with the
size-group and national means, the trend verdict; a presentation mode (full screen, large
type, previous/next with buttons and the arrow keys); each chart as PNG and the whole set as a
PDF "nämndrapport" (kaleido renders the charts, fpdf2 assembles the PDF: dashboard/report.py).

State in the query string: ?code=1480&kpis=A,B,C&lang=en."""
from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import MATCH, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from dashboard import components as C
from dashboard import figures as F
from dashboard import report as R
from dashboard.cache import per_warehouse
from dashboard.scorecard_rules import position_text, target_text
from dashboard.data import (KPI_ID_RE, PERSPECTIVES, first, get_db, hidden_twins, panel_counts, panel_rows, scorecard_data,
                            panel_target_counts, similar_for, valid_code)
from dashboard.i18n import (get_lang, href, page_title, perspective_label, search_string, size_group_label, t,
                            trend_code, trend_label)
from styrkort import formats

# charts only once a municipality is chosen: then plotly.js loads with the page (plotly_bundle)
dash.register_page(__name__, path="/trender", title=page_title("nav_trender"), name="Trender",
                   charts=lambda query: bool(query.get("code")))

MAX_KPIS = 12


alert = C.alert


# ---------------------------------------------------------------- data


def parse_kpis(value, db) -> list[str]:
    """'A,B,C' (or a repeated parameter) -> valid, known KPI ids in the given order."""
    value = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in value:
        for k in str(v or "").split(","):
            k = k.strip()
            if k and KPI_ID_RE.match(k) and db.valid_kpi_id(k) and k not in out:
                out.append(k)
    return out[:MAX_KPIS]


PERSPECTIVE_ORDER = {"omsorgstagare": 0, "ekonomi": 1, "medarbetare": 2, "verksamhet": 3}


def municipal_kpis(db) -> pd.DataFrame:
    """KPIs with a Balansen perspective that have municipality values (unit-level KPIs have
    none), in the scorecard's perspective order."""
    k = db.kpis()
    k = k[k["perspective"].notna()]
    have = db.rows_view("scorecard_series", "SELECT DISTINCT kpi_id FROM scorecard_series")
    if have is not None:   # without the mart every perspective KPI is listed (charts say why empty)
        k = k[k["kpi_id"].isin({r[0] for r in have})]
    # a demo indicator whose real Kolada twin has values is not offered beside it (demo_twin_years)
    k = k[~k["kpi_id"].isin(hidden_twins(db, None))]
    return (k.assign(_o=k["perspective"].map(PERSPECTIVE_ORDER)).sort_values(["_o", "title"], kind="stable")
            .drop(columns="_o"))


def default_kpis(db) -> list[str]:
    """One indicator per perspective (the first with data), so the default report is balanced."""
    k = municipal_kpis(db)
    chosen = []
    for p in ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet"):
        part = k[k["perspective"] == p]
        real = part[~part["is_demo"].astype(bool)]
        pick = (real if not real.empty else part).head(1)
        chosen += pick["kpi_id"].tolist()
    return chosen


SERIES_COLUMNS = ["year", "value", "group_mean", "national_mean", "national_n", "n_municipalities", "low_coverage",
                  "similar_mean", "size_group", "is_demo", "source"]

# The municipality's values (scorecard) with the reference lines of the kpi_reference_series mart:
# the size-group mean of the municipality's size group that year (municipality_size_groups, the
# one size-group rule) and the national mean with its n, the year's municipalities and the < 90 %
# coverage flag. Nothing is averaged or counted here.
_SERIES_SQL = """
SELECT s.year, s.value, r.group_mean, n.national_mean, n.national_n, n.n_municipalities, n.low_coverage,
       sim.similar_mean, g.size_group, s.is_demo, s.source
FROM scorecard s
LEFT JOIN municipality_size_groups g ON g.municipality_code = s.municipality_code AND g.year = s.year
LEFT JOIN kpi_reference_series r ON r.kpi_id = s.kpi_id AND r.year = s.year AND r.size_group = g.size_group
LEFT JOIN (SELECT DISTINCT year, national_mean, national_n, n_municipalities, low_coverage
           FROM kpi_reference_series WHERE kpi_id = ?) n ON n.year = s.year
LEFT JOIN {similar} sim ON sim.kpi_id = s.kpi_id AND sim.municipality_code = s.municipality_code AND sim.year = s.year
WHERE s.municipality_code = ? AND s.kpi_id = ?
ORDER BY s.year"""
SERIES_VIEWS = ("scorecard", "municipality_size_groups", "kpi_reference_series")


def series(db, code: str, kpi_id: str) -> pd.DataFrame:
    """year, value, group_mean, national_mean, size_group, is_demo, source for one KPI and
    municipality: values from the scorecard mart, reference lines from kpi_reference_series
    and similar_reference (the 'liknande kommuner' mean); empty when a mart is missing (the page
    then says "Kör `styrkort refresh`", no second code path)."""
    if not all(db.has_view(v) for v in SERIES_VIEWS):
        return pd.DataFrame(columns=SERIES_COLUMNS)
    similar = ("similar_reference" if db.has_view("similar_reference") else
               "(SELECT NULL::VARCHAR AS kpi_id, NULL::VARCHAR AS municipality_code, NULL::INTEGER AS year, "
               "NULL::DOUBLE AS similar_mean WHERE false)")
    df = db.query_view("kpi_reference_series", _SERIES_SQL.replace("{similar}", similar), [kpi_id, code, kpi_id])
    return df if df is not None else pd.DataFrame(columns=SERIES_COLUMNS)


def trend_row(db, code: str, kpi_id: str) -> dict | None:
    df = db.query_view("trends", "SELECT first_year, last_year, slope, ci_low, ci_high, verdict, change, break_year, "
                       "higher_is_better FROM trends WHERE municipality_code = ? AND kpi_id = ?", [code, kpi_id])
    if df is None or df.empty:
        return None
    return {k: (None if v is pd.NA or (isinstance(v, float) and v != v) else v)
            for k, v in df.iloc[0].to_dict().items()}


def series_breaks(db, kpi_id: str) -> list[tuple[int, str]]:
    """(year, note) of the KPI's known definition changes (view kpi_series_breaks)."""
    df = db.query_view("kpi_series_breaks", "SELECT year, note FROM kpi_series_breaks WHERE kpi_id = ? ORDER BY year",
                       [kpi_id])
    return [] if df is None else [(int(r.year), str(r.note)) for r in df.itertuples()]


def _slope_decimals(x: float) -> int:
    a = abs(x)
    return 0 if a >= 10 else (1 if a >= 1 else 2)


def slope_words(tr: dict, unit: str | None, lang: str, qualify: bool = True) -> str:
    """The trends mart's slope in plain words: 'ökar med 78 kr/inv per år'; a percentage
    changes by 'procentenheter'; with `qualify`, a change the CI does not establish (change
    'flat') says so. Only formats the stored slope and change code."""
    slope = tr.get("slope")
    if slope is None:
        return ""
    x = abs(float(slope))
    d = _slope_decimals(x)
    amount = (t("trender_pp", lang, x=formats.number(x, d, lang)) if (unit or "").strip() == "%"
              else formats.with_unit(x, unit, lang, decimals=d))
    if round(x, d) == 0:
        return t("trender_slope_zero", lang)
    words = t("trender_slope_up" if slope > 0 else "trender_slope_down", lang, x=amount)
    if qualify and tr.get("change") == "flat":
        words += " (" + t("trender_slope_unsure", lang) + ")"
    return words


def verdict_text(tr: dict | None, lang: str, unit: str | None = None) -> str:
    """'Trend 2007–2011: förbättras (lägre är bättre): minskar med 0,63 procentenheter per år';
    a KPI without direction in plain words only ('Trend 2007–2011: ökar med 78 kr/inv per år
    (inte säkerställt …)'); a trend across a definition change says so."""
    if not tr or not tr.get("verdict"):
        return t("trender_no_verdict", lang)
    code = trend_code(str(tr["verdict"]))
    y0, y1 = tr.get("first_year"), tr.get("last_year")
    hib = tr.get("higher_is_better")
    if code == "no_direction" or hib is None:
        words = slope_words(tr, unit, lang)
        text = t("trender_verdict_plain", lang, y0=y0, y1=y1, v=words) if words else t("trender_no_verdict", lang)
    else:
        # the verdict already says whether the change is established: the slope unqualified
        words = slope_words(tr, unit, lang, qualify=False)
        rule = t("trender_higher_better" if bool(hib) else "trender_lower_better", lang)
        verdict = trend_label(str(tr["verdict"]), lang)
        text = (t("trender_verdict_dir", lang, y0=y0, y1=y1, v=verdict, rule=rule, slope=words) if words
                else t("trender_verdict_dir_noslope", lang, y0=y0, y1=y1, v=verdict, rule=rule))
    if tr.get("break_year") is not None:
        text += ". " + t("trender_verdict_break", lang, year=int(tr["break_year"]))
    return text


def chart_caption(kpi: dict, df: pd.DataFrame, lang: str) -> str:
    years = df["year"].dropna()
    span = f"{int(years.min())}–{int(years.max())}" if not years.empty else ""
    src = kpi.get("source") or (df["source"].dropna().iloc[0] if "source" in df and df["source"].notna().any() else "")
    demo = bool(kpi.get("is_demo")) or ("is_demo" in df and df["is_demo"].fillna(False).astype(bool).any())
    parts = [f"{t('source', lang)}: {src}", span]
    if demo:
        parts.append(t("demo", lang))
    parts.append(t("trender_means_note", lang))
    return ", ".join(p for p in parts if p)


def chart_notes(kpi: dict, df: pd.DataFrame, breaks: list[tuple[int, str]], lang: str) -> list[str]:
    """What a reader must know to read the chart right, as sentences under it: where the axis
    starts when not at 0, the years whose national mean covers under 90 % of the municipalities
    (from the mart's low_coverage), each definition change shown with its note (as a
    (heading, note) pair: the note is the warehouse's Swedish text)."""
    notes = []
    drawn = [x for c in ("value", "group_mean", "national_mean", "similar_mean") if c in df for x in df[c].tolist()]
    axis = F.axis_note(F.value_axis(drawn, kpi.get("unit")), kpi.get("unit"), lang)
    if axis:
        notes.append(axis)
    if "low_coverage" in df and "national_mean" in df:
        low = df[df["low_coverage"].fillna(False).astype(bool) & df["national_mean"].notna()]["year"]
        if not low.empty:
            notes.append(t("trender_low_coverage_note", lang, years=", ".join(str(int(y)) for y in low)))
    years = df["year"].dropna()
    for y, note in breaks:
        if not years.empty and years.min() < y <= years.max():
            notes.append((t("trender_break_note", lang, year=y), note))   # the note is Swedish source text
    return notes


def build_charts(db, code: str, kpi_ids: list[str], lang: str, big: bool = True):
    """[(kpi dict, figure, caption, verdict)] for the chosen KPIs (kpi dict gains 'notes': the
    sentences chart_notes gives, shown under the chart)."""
    name = db.municipality_name(code)
    out = []
    for k in kpi_ids:
        kpi = dict(db.kpi(k) or {"kpi_id": k, "title": k})
        df = series(db, code, k)
        breaks = series_breaks(db, k)
        sg = df["size_group"].dropna().iloc[-1] if "size_group" in df and df["size_group"].notna().any() else None
        group_label = ((t("trender_group_mean_of", lang, group=size_group_label(sg, lang)))
                       if sg else None)
        cap = chart_caption(kpi, df, lang)
        kpi["notes"] = chart_notes(kpi, df, breaks, lang)
        fig = F.trend_spec(df, kpi.get("title", k), kpi.get("unit"), lang, municipality_name=name,
                             group_label=group_label, source=cap, big=big, is_demo=bool(kpi.get("is_demo")),
                             breaks=breaks)
        out.append((kpi, fig, cap, verdict_text(trend_row(db, code, k), lang, kpi.get("unit"))))
    return out


# ---------------------------------------------------------------- layout


# Charts after the first are drawn when they come into view (components.graph lazy): four large
# charts drawn at once kept /trender's main thread busy ~0,5 s, and a municipality change redrew
# all four.
LAZY_AFTER = 1


def _graph(i, kid, screen_fig, label):
    return C.graph({"type": "trender-graph", "index": kid}, screen_fig, label, lazy=i >= LAZY_AFTER,
                   style={"height": "62vh"})


def _chart_card(i, n, kpi, fig, cap, verdict, lang, code=""):
    kid = kpi["kpi_id"]
    return html.Section([
        html.Div([
            html.Span(t("trender_chart_of", lang, i=i + 1, n=n), className="sk-present-count text-body-secondary me-3"),
            C.demo_badge(lang) if kpi.get("is_demo") else None,
        ], className="small"),
        html.H2([html.Span(kpi.get("title", kid), lang="sv"),
                 f" ({t('demo', lang)})" if kpi.get("is_demo") else ""], className="h3 mt-1",
                id=f"trender-h-{i}"),
        html.P(html.Strong(verdict), className="fs-4 mb-1 sk-verdict"),
        _graph(i, kid, F.for_screen(fig), f"{kpi.get('title', kid)}. {verdict}. {cap}"),
        html.Ul([html.Li(n if isinstance(n, str) else [n[0], " ", html.Span(n[1], lang="sv")])
                 for n in kpi.get("notes") or []], className="sk-chart-notes small mb-1"),
        html.Small(cap, className="sk-source text-body-secondary d-block"),
        dbc.Button(t("trender_png", lang), id={"type": "trender-png", "index": kid}, color="primary", outline=True,
                   size="sm", className="mt-2 sk-no-present"),
        dcc.Store(id={"type": "trender-export", "index": kid},
                  data=F.export_spec(fig, f"styrkort_{code}_{kid}", t("trender_png_fail", lang, e=""))),
        html.Div(id={"type": "trender-png-msg", "index": kid}, role="status", className="small sk-no-present"),
    ], className="sk-trend-chart mb-5", id={"type": "trender-card", "index": i},
        **{"aria-labelledby": f"trender-h-{i}"})


@C.safe_layout
def layout(code=None, kpis=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    R.warm_renderer_in_background()   # the PDF button's Chromium starts while the user reads
    db = get_db()
    head = C.page_heading(t("kommun_trends", lang), t("trender_lead", lang))
    muni = db.municipalities()
    if muni.empty:
        return html.Div([head, alert(t("view_missing", lang, view="municipalities"), "secondary")])
    asked = first(code)
    notes = []
    # no municipality of its own: a chooser, never somebody else's municipality
    if not (valid_code(asked) and db.municipality(asked)):
        if asked:
            notes.append(alert(t("trender_bad_code", lang, c=str(asked)[:20]), "warning"))
        asked = None
    code = asked
    kpi_ids = parse_kpis(kpis, db) if kpis else default_kpis(db)
    kp = municipal_kpis(db)
    # KPI titles are warehouse text (Swedish, from Kolada): marked lang="sv" on English pages too
    kpi_opts = [{"label": html.Span([f"{perspective_label(r.perspective, lang)}: ", html.Span(r.title, lang="sv"),
                                     f" ({t('demo', lang)})" if r.is_demo else ""]),
                 "value": r.kpi_id} for r in kp.itertuples()]
    return html.Div([
        head, *notes,
        dcc.Store(id="trender-lang", data=lang),
        dcc.Store(id="trender-slide", data=0),
        dcc.Location(id="trender-loc", refresh=False),
        dcc.Download(id="trender-download"),
        dbc.Row([
            dbc.Col([dbc.Label(t("municipality", lang), html_for="trender-code"),
                     dbc.Select(id="trender-code", value=code or "",
                                options=([] if code else [{"label": t("trender_choose_option", lang), "value": ""}])
                                + [{"label": f"{r.name} ({r.municipality_code})", "value": r.municipality_code}
                                   for r in muni.itertuples()])], md=4),
            dbc.Col(html.Fieldset([
                html.Legend(t("trender_kpis", lang), className="form-label fs-6 mb-1"),
                # checkboxes grouped in a scrolling box: labelled, keyboard operable, shareable
                html.Div(dbc.Checklist(id="trender-kpis", value=kpi_ids, options=kpi_opts),
                         className="border rounded p-2 sk-kpi-box",
                         style={"maxHeight": "14rem", "overflowY": "auto"}),
            ]), md=8),
        ], className="g-3 mb-3"),
        html.Div([
            dbc.Button(t("trender_present", lang), id="trender-present", color="dark", className="me-2"),
            dbc.Button(t("trender_pdf", lang), id="trender-pdf", color="primary", className="me-2"),
            html.Small(t("trender_present_help", lang), className="text-body-secondary"),
        ], className="mb-2"),
        # Progress while the PDF is built: shown by the callback's `running` argument, inside a
        # live region that is always there (a region that itself appears is not announced).
        html.Div(html.Div([dbc.Spinner(size="sm", spinner_class_name="me-2"), t("trender_pdf_busy", lang)],
                          id="trender-pdf-busy", className="alert alert-info", style={"display": "none"}),
                 role="status", **{"aria-live": "polite"}),
        html.Div(id="trender-pdf-status", role="status", **{"aria-live": "polite"}),
        html.Div(id="trender-msg", role="status", **{"aria-live": "polite"}),
        # The deck: in presentation mode it fills the screen and shows one chart at a time.
        html.Div([
            html.Div([
                dbc.Button(t("trender_prev", lang), id="trender-prev", color="light", size="lg", className="me-2"),
                dbc.Button(t("trender_next", lang), id="trender-next", color="light", size="lg", className="me-2"),
                dbc.Button(t("trender_exit", lang), id="trender-exit", color="warning", size="lg"),
            ], className="sk-present-nav", role="group", style={"display": "none"},
                **{"aria-label": t("trender_present", lang)}),
            dcc.Loading(html.Div(_charts(db, code, kpi_ids, lang), id="trender-charts")),
        ], id="trender-deck", className="sk-deck", tabIndex="-1"),
        html.Div(id="trender-keys-sink", hidden=True),
    ])


def _charts(db, code, kpi_ids, lang):
    if not code:
        return [alert(t("trender_choose", lang), "info")]
    if not kpi_ids:
        return [alert(t("trender_none", lang), "secondary")]
    not_built = [v for v in SERIES_VIEWS if not db.has_view(v)]
    if not_built:
        return [C.mart_missing(", ".join(not_built), lang)]
    charts = build_charts(db, code, kpi_ids, lang)
    return [_similar_note(db, code, lang)] + [
        _chart_card(i, len(charts), kpi, fig, cap, v, lang, code) for i, (kpi, fig, cap, v) in enumerate(charts)]


def _similar_note(db, code, lang):
    """Which municipalities the 'liknande kommuner' line is (the latest structure year's set)."""
    sets = similar_for(db, code, [])
    if not sets:
        return None
    year, munis = sets[-1]
    links = []
    for i, (other, name) in enumerate(munis):
        links += ([", "] if i else []) + [dcc.Link(name, href=href(f"/kommun/{other}", lang))]
    return html.P([html.Strong(t("kommun_similar_title", lang, year=year)), " ", *links, " ",
                   dcc.Link(t("kommun_similar_more", lang), href=href("/om", lang) + "#liknande-kommuner")],
                  className="small sk-similar-list sk-no-present")


# ---------------------------------------------------------------- callbacks


@callback(Output("trender-charts", "children"), Output("trender-loc", "search"),
          Input("trender-code", "value"), Input("trender-kpis", "value"), State("trender-lang", "data"),
          prevent_initial_call=True)
def _update(code, kpis, lang):
    db = get_db()
    if not (valid_code(code) and db.municipality(code)):
        return no_update, no_update
    kpi_ids = parse_kpis(kpis or [], db)
    return _charts_cached(code, tuple(kpi_ids), lang), search_string(lang, code=code, kpis=",".join(kpi_ids)) or "?"


@per_warehouse()
def _charts_cached(code, kpi_ids, lang):
    """The charts for (municipality, KPIs, language), reused until the warehouse changes."""
    return _charts(get_db(), code, list(kpi_ids), lang)


# A chart's PNG is drawn by Plotly in the browser from the figure already on screen plus the
# export's title, source line and margins (figures.export_layout): no server round trip, no
# Chrome started on the server. Asset function styrkort.pngExport (CSP: no inline script).
clientside_callback(
    ClientsideFunction(namespace="styrkort", function_name="pngExport"),
    Output({"type": "trender-png-msg", "index": MATCH}, "children"),
    Input({"type": "trender-png", "index": MATCH}, "n_clicks"),
    State({"type": "trender-graph", "index": MATCH}, "figure"),
    State({"type": "trender-export", "index": MATCH}, "data"),
    prevent_initial_call=True,
)


def scorecard_rows(d: dict, lang: str) -> pd.DataFrame:
    """The PDF's scorecard pages: the panels of /kommun/<code> as opened without a year (each
    KPI's latest value; scorecard_data and panel_rows, the functions the screen uses), so the
    PDF shows the same years, rows, "uppgift saknas" and counts (the scorecard_status_counts mart
    via dashboard.data.panel_counts)."""
    rows = []
    for p, part in panel_rows(d).items():
        for r in part:
            has = r["value"] is not None
            # the year beside every value, as on screen ("senaste": each KPI has its own)
            value_text = (f"{C.fmt_value(r['value'], r['unit'], lang)} ({int(r['year'])})" if has
                          else t("missing", lang))
            if not has and r["last_value"] is not None:
                value_text += " (" + t("kommun_latest", lang, value=C.fmt_value(r["last_value"], r["unit"], lang),
                                       year=int(r["last_year"])) + ")"
            rows.append({"perspective": p, "kpi_id": r["kpi_id"],
                         "title": r["title"] + (f" ({t('demo', lang)})" if r["is_demo"] else ""),
                         "value": r["value"], "status": r["status"] if has else None,
                         "status_text": position_text(r, lang),
                         "target_text": target_text(r, lang) if has else "",
                         "target": r["target"] if has else None, "target_status": r["target_status"],
                         "value_text": value_text,
                         "reference_text": C.fmt_value(r["group_mean"], r["unit"], lang),
                         "is_demo": bool(r["is_demo"])})
    return pd.DataFrame(rows)


def _headline(d: dict, lang: str) -> list[tuple[str, str]]:
    """The cover's figures: the scorecard header's composite index and cost deviation (the
    same rows /kommun/<code> shows for its year)."""
    out = []
    comp, cost = d.get("composite"), d.get("cost")
    if comp and comp.get("composite") is not None:
        label = t("report_composite", lang)
        if comp.get("is_demo"):      # the index's own demo status for its year (mix counted)
            n, real = comp.get("n_kpis"), comp.get("n_kpis_real")
            label += f" ({t('demo', lang)}" + (
                f"; {t('index_real_mix', lang, real=int(real), n=int(n))})" if n and real else ")")
        out.append((label,
                    t("report_composite_value", lang, value=formats.number(comp["composite"], 2, lang),
                      rank=comp["rank"], n=comp.get("n") or "?", group_rank=comp["group_rank"],
                      year=comp["year"])))
    if cost and cost.get("deviation_pct") is not None:
        method = f", {t('modelled', lang)}" if cost.get("method") == "modelled" else ""
        out.append((t("report_cost", lang),
                    f"{F.deviation_label(float(cost['deviation_pct']), lang)} ({cost['year']}{method})"))
    return out


def report_content(db, code: str, kpi_ids: list[str], lang: str):
    """ReportContent and figures for the PDF (everything but the rendering)."""
    d = scorecard_data(db, code, None, lang)
    if not d["found"]:
        raise ValueError(code)
    sc = scorecard_rows(d, lang)
    size_group = (d.get("population") or {}).get("size_group") or (d.get("composite") or {}).get("size_group")
    charts = build_charts(db, code, kpi_ids, lang, big=True)
    has_demo = bool(sc["is_demo"].any()) if not sc.empty else False
    has_demo = (has_demo or bool((d.get("composite") or {}).get("is_demo"))
                or any(bool(k.get("is_demo")) for k, *_ in charts))
    content = R.ReportContent(
        municipality_code=code, municipality_name=d["municipality"]["name"], year=d["year"], lang=lang,
        period_label=t("kommun_year_latest", lang) if d.get("latest") else "",
        size_group_label=size_group_label(size_group, lang).capitalize() if size_group else "",
        headline=_headline(d, lang), scorecard=sc,
        panel_counts={p: panel_counts(d, p) for p in PERSPECTIVES},
        target_counts={p: panel_target_counts(d, p) for p in PERSPECTIVES},
        charts=[R.Chart(k.get("title", k["kpi_id"]) + (f" ({t('demo', lang)})" if k.get("is_demo") else ""), b"", cap, v,
                        notes=list(k.get("notes") or [])) for k, _f, cap, v in charts],
        sources=_sources(db, kpi_ids, lang), has_demo=has_demo, created=date.today())
    return content, [f for _k, f, _c, _v in charts]


def _sources(db, kpi_ids, lang):
    out = []
    for k in kpi_ids:
        kpi = db.kpi(k)
        if kpi:
            out.append(f"{kpi['title']} ({k}): {kpi.get('source') or ''}" + (f" – {t('demo_data', lang)}" if kpi.get("is_demo") else ""))
    out.append(t("trender_src_size_groups", lang))
    out.append(t("trender_src_pipelines", lang))
    return out


@callback(Output("trender-download", "data", allow_duplicate=True), Output("trender-pdf-status", "children"),
          Input("trender-pdf", "n_clicks"), State("trender-code", "value"), State("trender-kpis", "value"),
          State("trender-lang", "data"), prevent_initial_call=True,
          running=[(Output("trender-pdf", "disabled"), True, False),
                   (Output("trender-pdf-busy", "style"), {"display": "block"}, {"display": "none"})])
def _pdf(n, code, kpis, lang):
    if not n:
        return no_update, no_update
    db = get_db()
    if not (valid_code(code) and db.municipality(code)):
        return no_update, no_update
    kpi_ids = parse_kpis(kpis or [], db)
    today = date.today().isoformat()
    try:
        pdf, n_charts = _report_pdf(code, tuple(kpi_ids), lang, today)
    except Exception as e:  # noqa: BLE001 - shown to the user
        return no_update, alert(t("trender_pdf_fail", lang, e=str(e)[:200]))
    return (dcc.send_bytes(pdf, f"namndrapport_{code}_{today}.pdf"),
            alert(t("trender_pdf_done", lang, k=n_charts), "success"))


@per_warehouse(maxsize=8)
def _report_pdf(code, kpi_ids, lang, day):
    """(PDF bytes, number of charts), reused for the same report on the same day until the
    warehouse changes: a second click, or a colleague's same report, costs nothing."""
    content, figs = report_content(get_db(), code, list(kpi_ids), lang)
    return R.build_report(content, figs), len(figs)


# Presentation mode: pure client side (no server round trip per slide). A class on the deck
# makes it fill the screen and show only the current chart; the arrow keys press the visible
# buttons, so keyboard and mouse do the same thing.
clientside_callback(
    """
    function(nPresent, nPrev, nNext, nExit, slide) {
        const C = window.dash_clientside.callback_context;
        const deck = document.getElementById('trender-deck');
        if (!deck) { return window.dash_clientside.no_update; }
        if (!document.getElementById('sk-trender-style')) {
            const st = document.createElement('style');
            st.id = 'sk-trender-style';
            st.textContent = `
#trender-deck.sk-presenting { position: fixed; inset: 0; z-index: 2000; background: #fff;
  overflow: auto; padding: 1rem 2.5rem; font-size: 1.5rem; }
#trender-deck.sk-presenting .sk-trend-chart { display: none; }
#trender-deck.sk-presenting .sk-trend-chart.sk-current { display: block; }
#trender-deck.sk-presenting .sk-present-nav { display: flex !important; gap: .5rem; margin-bottom: .5rem; }
#trender-deck.sk-presenting .sk-no-present { display: none; }
#trender-deck.sk-presenting h2 { font-size: 2.6rem; }
#trender-deck.sk-presenting .sk-verdict { font-size: 2rem !important; }
#trender-deck.sk-presenting .sk-source { font-size: 1.1rem; }
#trender-deck.sk-presenting .sk-present-nav .btn:focus-visible { outline: 4px solid #1F4E8C; outline-offset: 2px; }
`;
            document.head.appendChild(st);
        }
        if (!window.__skTrenderKeys) {
            window.__skTrenderKeys = true;
            document.addEventListener('keydown', function(ev) {
                const d = document.getElementById('trender-deck');
                if (!d || !d.classList.contains('sk-presenting')) { return; }
                const tag = (ev.target && ev.target.tagName) || '';
                if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') { return; }
                let id = null;
                if (ev.key === 'ArrowRight' || ev.key === 'PageDown' || ev.key === ' ') { id = 'trender-next'; }
                if (ev.key === 'ArrowLeft' || ev.key === 'PageUp') { id = 'trender-prev'; }
                if (ev.key === 'Escape') { id = 'trender-exit'; }
                if (id) { ev.preventDefault(); const b = document.getElementById(id); if (b) { b.click(); } }
            });
            document.addEventListener('fullscreenchange', function() {
                const d = document.getElementById('trender-deck');
                if (d && !document.fullscreenElement && d.classList.contains('sk-presenting')) {
                    const b = document.getElementById('trender-exit'); if (b) { b.click(); }
                }
            });
        }
        const trig = (C.triggered && C.triggered.length) ? C.triggered[0].prop_id.split('.')[0] : '';
        const cards = deck.querySelectorAll('.sk-trend-chart');
        const n = cards.length;
        let i = slide || 0;
        if (trig === 'trender-present') {
            i = 0;
            deck.classList.add('sk-presenting');
            document.body.classList.add('sk-presenting-body');
            if (deck.requestFullscreen && !document.fullscreenElement) {
                deck.requestFullscreen().catch(function() {});
            }
        } else if (trig === 'trender-exit') {
            deck.classList.remove('sk-presenting');
            document.body.classList.remove('sk-presenting-body');
            if (document.fullscreenElement && document.exitFullscreen) { document.exitFullscreen().catch(function() {}); }
            cards.forEach(function(c) { c.classList.remove('sk-current'); });
            const b = document.getElementById('trender-present'); if (b) { b.focus(); }
            return 0;
        } else if (trig === 'trender-next') {
            i = Math.min(i + 1, Math.max(n - 1, 0));
        } else if (trig === 'trender-prev') {
            i = Math.max(i - 1, 0);
        }
        cards.forEach(function(c, k) { c.classList.toggle('sk-current', k === i); });
        if (deck.classList.contains('sk-presenting')) {
            const nx = document.getElementById('trender-next');
            if (nx && trig === 'trender-present') { nx.focus(); }
            // let Plotly fit the chart to the new size
            setTimeout(function() { window.dispatchEvent(new Event('resize')); }, 50);
        }
        return i;
    }
    """,
    Output("trender-slide", "data"),
    Input("trender-present", "n_clicks"), Input("trender-prev", "n_clicks"),
    Input("trender-next", "n_clicks"), Input("trender-exit", "n_clicks"),
    State("trender-slide", "data"),
    prevent_initial_call=True,
)
