"""/jamfor?a=<code>&b=<code> – two municipalities side by side on the same KPIs (latest common
year); /jamfor?unit_a=<id>&unit_b=<id> – two units (Linnéstaden vs Bergsjön, as in Göteborg's Balansen) with
their monthly figures. All state is in the query string."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard.data import PERSPECTIVES, clean, first, get_db, hidden_twins, parse_year, similar_for, valid_code
from dashboard.i18n import get_lang, href, page_title, perspective_label, search_string, t
from dashboard.urlcheck import year_notice
from pipelines.compare import common_years, compare_pair

# charts only when two units are compared: then plotly.js loads with the page (plotly_bundle)
dash.register_page(__name__, path="/jamfor", title=page_title("nav_jamfor"), name="Jämför", order=2,
                   charts=lambda query: bool(query.get("unit_a") and query.get("unit_b")))

UNIT_ID_MAX = 64


def _valid_unit(db, unit_id) -> dict | None:
    """The org unit with this id, or None (ids are checked against org_units, never in SQL text)."""
    unit_id = first(unit_id)
    if not isinstance(unit_id, str) or not unit_id or len(unit_id) > UNIT_ID_MAX:
        return None
    units = db._cached("units_index", lambda: {
        r[0]: {"unit_id": r[0], "municipality_code": r[1], "name": r[2], "kind": r[3],
               "is_demo": bool(r[4])}
        for r in (db.rows_view("org_units", "SELECT unit_id, municipality_code, name, kind, "
                                            "is_demo FROM org_units") or [])})
    return units.get(unit_id)


LATEST = "senaste"   # the year selector's value for "each KPI's latest common year" (the default)


def compare_municipalities(db, a: str, b: str, year=None) -> dict:
    """Read what the comparison needs from the marts (scorecard, similar_reference,
    demo_twin_years) and compare with pipelines.compare.compare_pair, the one definition of
    better / diff / latest common year. Returns {"year" (None = each KPI's latest common year),
    "latest", "years" (common years), "no_common", "n_a", "n_b", "rows": DataFrame} or
    {"missing": mart} when the scorecard is not built."""
    sql_sc = ("SELECT kpi_id, municipality_code, year, value, source, is_demo, national_mean FROM scorecard "
              "WHERE municipality_code IN (?, ?) AND value IS NOT NULL")
    values = db.query_view("scorecard", sql_sc, [a, b])
    if values is None:   # no second way to the figures: the page says which mart is missing
        return {"year": None, "latest": True, "years": [], "no_common": 0, "rows": pd.DataFrame(),
                "missing": "scorecard"}
    chosen = parse_year(year, common_years(values, a, b))
    similar = {(r[0], r[1], r[2]): r[3] for r in db.rows_view(
        "similar_reference", "SELECT kpi_id, municipality_code, year, similar_mean FROM similar_reference "
        "WHERE municipality_code IN (?, ?)", [a, b]) or []}
    cmp = compare_pair(values, db.perspective_kpis_clean(), a, b, chosen, similar, hidden_twins(db, chosen))
    return {"year": cmp.year, "latest": cmp.latest, "years": cmp.years, "no_common": cmp.no_common,
            "n_a": cmp.n_better_a, "n_b": cmp.n_better_b, "rows": cmp.rows}


def _better_text(better, name_a, name_b, lang):
    if better == "a":
        return "◀ " + t("jamfor_better_name", lang, name=name_a)
    if better == "b":
        return t("jamfor_better_name", lang, name=name_b) + " ▶"
    if better == "same":
        return "= " + t("jamfor_equal", lang)
    return "– " + t("jamfor_no_direction_or_data", lang)


def _muni_selectors(db, a, b, lang):
    munis = db.municipalities()
    options = [{"label": f"{n} ({c})", "value": c}
               for c, n in zip(munis["municipality_code"], munis["name"])]
    pick = t("jamfor_pick", lang)
    return dbc.Row([
        dbc.Col(C.labelled_select("jamfor-a", t("jamfor_a", lang), options, a, placeholder=pick), md=6),
        dbc.Col(C.labelled_select("jamfor-b", t("jamfor_b", lang), options, b, placeholder=pick), md=6),
    ], className="g-3 mb-3")


def valid_years(db, params: dict) -> list[int] | None:
    """The years ?year= may name (dashboard.urlcheck): the two municipalities' common years."""
    a, b = first(params.get("a")), first(params.get("b"))
    if params.get("unit_a") or params.get("unit_b") or not (valid_code(a) and valid_code(b)) or a == b:
        return None
    return compare_municipalities(db, a, b)["years"]


def _municipality_mode(db, a, b, year, lang):
    asked = [first(a), first(b)]
    a = first(a) if valid_code(first(a)) and db.municipality(first(a)) else None
    b = first(b) if valid_code(first(b)) and db.municipality(first(b)) else None
    children = [
        html.P([t("jamfor_lead", lang), " ",
                dcc.Link(t("jamfor_to_units", lang), href=href("/jamfor", lang, mode="units"))]),
        _muni_selectors(db, a, b, lang),
    ]
    bad = [str(x)[:40] for x, ok in zip(asked, (a, b)) if x and not ok]
    if bad:
        children.append(C.error_state(t("jamfor_unknown_code", lang, codes=", ".join(bad))))
    if not (a and b):
        children.append(C.empty_state(t("jamfor_pick_two", lang)))
        return children
    if a == b:
        children.append(C.alert(t("jamfor_same_twice", lang, name=db.municipality_name(a)), "warning"))
        return children
    name_a, name_b = db.municipality_name(a), db.municipality_name(b)
    cmp = compare_municipalities(db, a, b, year)
    if cmp.get("missing"):
        children.append(C.mart_missing(cmp["missing"], lang))
        return children
    children.append(year_notice(year, cmp["years"], cmp["year"], lang))
    if not cmp["years"] or cmp["rows"].empty:
        children.append(C.empty_state(t("jamfor_no_common", lang)))
        return children
    df = cmp["rows"]
    df["better_text"] = [_better_text(x, name_a, name_b, lang) for x in df["better"]]
    df["perspective_label"] = df["perspective"].map(lambda p: perspective_label(p, lang))
    df["demo"] = df["is_demo"].map(lambda v: t("demo", lang) if v else "")
    n_a, n_b = cmp["n_a"], cmp["n_b"]
    years = cmp["years"]
    when = t("jamfor_latest", lang) if cmp["latest"] else str(cmp["year"])
    options = [{"label": t("jamfor_year_latest", lang), "value": LATEST}] + [
        {"label": str(y), "value": y} for y in reversed(years)]
    children += [
        dbc.Row([
            dbc.Col(html.H2(f"{name_a} – {name_b}, {when}", className="h4"), md=8),
            dbc.Col(C.labelled_select("jamfor-year", t("kommun_year_label", lang), options,
                                      LATEST if cmp["latest"] else cmp["year"]), md=4),
        ], className="align-items-center mb-2"),
        html.P(t("jamfor_summary", lang, a=name_a, b=name_b, na=n_a, nb=n_b, n=len(df))),
        html.P(t("jamfor_no_common_kpis", lang, n=cmp["no_common"]), className="small")
        if cmp["latest"] and cmp["no_common"] else None,
        html.P([dcc.Link(t("jamfor_open", lang, name=name_a), href=href(f"/kommun/{a}", lang)), " · ",
                dcc.Link(t("jamfor_open", lang, name=name_b), href=href(f"/kommun/{b}", lang))]),
        _similar_links(db, a, b, name_a, name_b, lang),
    ]
    for p in PERSPECTIVES:
        part = df[df["perspective"] == p]
        if part.empty:
            continue
        children.append(html.H3(perspective_label(p, lang), className="h5 mt-3"))
        children.append(_comparison_table(part, name_a, name_b, lang))
    span = cmp["year"] if not cmp["latest"] else (
        f"{int(df['year'].min())}–{int(df['year'].max())}" if df["year"].nunique() > 1
        else int(df["year"].iloc[0]))
    sources = ", ".join(sorted({str(s) for s in df["source"] if s}))
    children.append(C.table_with_downloads(
        f"jamfor-{a}-{b}-{cmp['year'] or LATEST}", df,
        [C.col("perspective_label", t("kommun_col_persp", lang)),
         C.col("title", t("kommun_col_kpi", lang), flex=3, text_lang="sv"),
         C.col("unit", t("unit", lang), text_lang="sv"),
         C.col("year", t("year", lang), "int"),
         C.col("value_a", name_a, "number", 1), C.col("value_b", name_b, "number", 1),
         C.col("diff", t("jamfor_diff", lang, a=name_a, b=name_b), "number", 1),
         C.col("better_text", t("jamfor_better", lang)),
         C.col("national_mean", t("kommun_col_nation", lang), "number", 1),
         C.col("similar_a", t("jamfor_similar_to", lang, name=name_a), "number", 1),
         C.col("similar_b", t("jamfor_similar_to", lang, name=name_b), "number", 1),
         C.col("demo", t("demo", lang)),
         C.col("source", t("source", lang), text_lang="sv")],
        lang, caption=t("jamfor_table", lang),
        download=C.download_meta(C.file_stem("jamfor", a, b, cmp["year"] or LATEST), sources, span,
                                 demo="is_demo", title=f"{t('jamfor_table', lang)}: {name_a} – {name_b}")))
    children.append(C.source_caption(C.stored_text(sources), span, lang))
    return children


def _comparison_table(part, name_a, name_b, lang):
    head = [t("kommun_col_kpi", lang), t("year", lang), name_a, name_b, t("jamfor_better", lang),
            t("kommun_col_nation", lang), t("jamfor_similar_to", lang, name=name_a),
            t("jamfor_similar_to", lang, name=name_b)]
    body = []
    for r in part.to_dict("records"):
        r = {k: clean(v) for k, v in r.items()}
        cls = {"a": "sk-diff-better", "b": "sk-diff-better"}.get(r["better"], "")
        title = [html.Span(r["title"], lang="sv")] + ([" ", C.demo_badge(lang)] if r["is_demo"] else [])
        body.append(html.Tr([
            html.Th(title, scope="row", className="fw-normal"),
            html.Td(str(int(r["year"]))),
            html.Td(C.fmt_value(r["value_a"], r["unit"], lang),
                    className="fw-bold" if r["better"] == "a" else None),
            html.Td(C.fmt_value(r["value_b"], r["unit"], lang),
                    className="fw-bold" if r["better"] == "b" else None),
            html.Td(r["better_text"], className=cls),
            html.Td(C.fmt_value(r["national_mean"], r["unit"], lang)),
            html.Td(C.fmt_value(r["similar_a"], r["unit"], lang)),
            html.Td(C.fmt_value(r["similar_b"], r["unit"], lang)),
        ]))
    return html.Div(html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
                                html.Tbody(C.stack_labels(body, head))], className="table table-sm sk-kpi-table sk-stack"),
                    className="table-responsive", tabIndex="0", role="region",
                    **{"aria-label": t("jamfor_table", lang)})


def _similar_links(db, a, b, name_a, name_b, lang):
    """Each municipality's similar municipalities, each a link comparing it with that one."""
    out = []
    for code, name in ((a, name_a), (b, name_b)):
        sets = similar_for(db, code, [])
        if not sets:
            continue
        year, munis = sets[-1]
        links = []
        for i, (other, other_name) in enumerate(munis):
            links += ([", "] if i else []) + [dcc.Link(other_name, href=href("/jamfor", lang, a=code, b=other))]
        out.append(html.P([html.Strong(t("jamfor_similar_list", lang, name=name, year=year)), " ", *links],
                          className="small mb-1 sk-similar-list"))
    if out:
        out.append(html.P([t("jamfor_similar_how", lang), " ",
                           dcc.Link(t("kommun_similar_more", lang), href=href("/om", lang) + "#liknande-kommuner")],
                          className="small text-body-secondary"))
    return html.Div(out) if out else None


# -- units -----------------------------------------------------------------------------------------

def unit_series(db, unit_a: str, unit_b: str) -> pd.DataFrame | None:
    """Monthly values of both units from the unit mart (unit_scorecard: a month not reported is
    a row without value, drawn as a gap): kpi_id, title, unit, perspective, unit_id, period,
    value, source, is_demo. None when the mart is not built."""
    return db.query_view(
        "unit_scorecard",
        "SELECT s.kpi_id, coalesce(k.title, s.kpi_id) AS title, k.unit, k.perspective, s.unit_id, "
        "s.period, s.value, s.source, s.is_demo FROM unit_scorecard s LEFT JOIN unit_kpis k USING (kpi_id) "
        "WHERE s.unit_id IN (?, ?) ORDER BY k.perspective NULLS LAST, title, s.period",
        [unit_a, unit_b])


def _unit_mode(db, unit_a, unit_b, lang):
    ua, ub = _valid_unit(db, unit_a), _valid_unit(db, unit_b)
    units = db.rows_view("org_units", "SELECT unit_id, name, municipality_code, kind FROM org_units "
                                      "ORDER BY municipality_code, name") or []
    options = [{"label": f"{n} ({db.municipality_name(m)}, {t('kind_' + k, lang)})", "value": u}
               for u, n, m, k in units]
    children = [
        html.P([t("jamfor_units_lead", lang), " ",
                dcc.Link(t("jamfor_to_munis", lang), href=href("/jamfor", lang))]),
        dbc.Row([
            dbc.Col(C.labelled_select("jamfor-unit-a", t("jamfor_unit_a", lang), options,
                                      ua and ua["unit_id"], placeholder=t("jamfor_pick_unit", lang)), md=6),
            dbc.Col(C.labelled_select("jamfor-unit-b", t("jamfor_unit_b", lang), options,
                                      ub and ub["unit_id"], placeholder=t("jamfor_pick_unit", lang)), md=6),
        ], className="g-3 mb-3"),
    ]
    if not units:
        children.append(C.not_computed("org_units", lang))
        return children
    if not (ua and ub):
        bad = [str(first(x))[:40] for x, u in ((unit_a, ua), (unit_b, ub)) if x and not u]
        if bad:
            children.append(C.error_state(t("jamfor_unknown_unit", lang, ids=", ".join(bad))))
        children.append(C.empty_state(t("jamfor_pick_two_units", lang)))
        return children
    if ua["unit_id"] == ub["unit_id"]:
        children.append(C.alert(t("jamfor_same_twice", lang, name=ua["name"]), "warning"))
        return children
    df = unit_series(db, ua["unit_id"], ub["unit_id"])
    if df is None:
        children.append(C.mart_missing("unit_scorecard", lang))
        return children
    if df.empty or df["value"].isna().all():
        children.append(C.empty_state(t("missing", lang)))
        return children
    demo = bool(df["is_demo"].any()) or ua["is_demo"] or ub["is_demo"]
    names = {ua["unit_id"]: ua["name"], ub["unit_id"]: ub["name"]}
    children.append(html.H2([f"{ua['name']} – {ub['name']} ", C.demo_badge(lang) if demo else None],
                            className="h4"))
    if demo:
        children.append(html.P(t("jamfor_units_demo", lang), className="small"))
    graphs = []
    reported = df.groupby("kpi_id", sort=False)["value"].transform(lambda v: v.notna().any())
    for i, (kpi_id, g) in enumerate(df[reported].groupby("kpi_id", sort=False)):
        title = str(g["title"].iloc[0])
        unit = clean(g["unit"].iloc[0])
        fig = go.Figure()
        for uid, dash_style, colour in ((ua["unit_id"], "solid", "#1f4e79"), (ub["unit_id"], "dash", "#b35806")):
            s = g[g["unit_id"] == uid]
            fig.add_trace(go.Scatter(
                x=s["period"], y=s["value"], mode="lines+markers", name=names[uid],
                line=dict(dash=dash_style, color=colour, width=2),
                marker=dict(symbol="circle" if dash_style == "solid" else "square", size=5),
                hovertemplate="%{x|%Y-%m}: %{y:,.1f}<extra>" + names[uid] + "</extra>"))
        C.style_figure(fig, lang, height=300)
        fig.update_layout(title=dict(text=title, font=dict(size=15)), legend=dict(orientation="h", y=-0.2),
                          yaxis_title=unit or None, xaxis=dict(tickformat="%Y-%m"))
        years = sorted({p.year for p in pd.to_datetime(g.loc[g["value"].notna(), "period"])})
        graphs.append(dbc.Col([
            # two charts a row: from the second row on, drawn when scrolled to
            C.graph(f"jamfor-unit-graph-{i}", fig, t("jamfor_unit_graph_alt", lang, kpi=title,
                                                       a=ua["name"], b=ub["name"]), lang, lazy=i >= 2),
            C.source_caption(C.stored_text(", ".join(sorted({str(x) for x in g["source"].dropna()})) or None),
                             f"{years[0]}–{years[-1]}" if years else None, lang),
        ], lg=6, className="mb-3"))
    children.append(dbc.Row(graphs))
    df = df.assign(unit=df["unit"].fillna(""))
    wide = df.pivot_table(index=["title", "unit", "period"], columns="unit_id", values="value",
                          aggfunc="first").reset_index()
    wide = wide.rename(columns={ua["unit_id"]: "value_a", ub["unit_id"]: "value_b"})
    for c in ("value_a", "value_b"):
        if c not in wide:
            wide[c] = None
    years_all = sorted({p.year for p in pd.to_datetime(df.loc[df["value"].notna(), "period"])})
    wide["period"] = pd.to_datetime(wide["period"]).dt.strftime("%Y-%m")
    wide = wide.dropna(subset=["value_a", "value_b"], how="all")
    children.append(C.table_with_downloads(
        f"enheter-{ua['unit_id']}-{ub['unit_id']}", wide,
        [C.col("title", t("kommun_col_kpi", lang), flex=3, text_lang="sv"),
         C.col("unit", t("unit", lang), text_lang="sv"),
         C.col("period", t("jamfor_month", lang)),
         C.col("value_a", ua["name"], "number", 1), C.col("value_b", ub["name"], "number", 1)],
        lang, caption=t("jamfor_units_table", lang), page_size=24,
        download=C.download_meta(C.file_stem("enheter", ua["unit_id"], ub["unit_id"]),
                                 ", ".join(sorted({str(x) for x in df["source"].dropna()})),
                                 f"{years_all[0]}–{years_all[-1]}" if years_all else None, demo=demo,
                                 title=f"{t('jamfor_units_table', lang)}: {ua['name']} – {ub['name']}")))
    return children


@C.safe_layout
def layout(a=None, b=None, unit_a=None, unit_b=None, year=None, mode=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    units_mode = first(mode) == "units" or unit_a is not None or unit_b is not None
    body = _unit_mode(db, unit_a, unit_b, lang) if units_mode else _municipality_mode(db, a, b, year, lang)
    return html.Div([
        dcc.Location(id="jamfor-url", refresh="callback-nav"),
        dcc.Store(id="jamfor-lang", data=lang),
        C.page_heading(t("jamfor_title_units" if units_mode else "jamfor_title", lang)),
        *body,
    ])


@callback(Output("jamfor-url", "search"), Input("jamfor-a", "value"), Input("jamfor-b", "value"),
          State("jamfor-lang", "data"), prevent_initial_call=True)
def _munis_to_url(a, b, lang):
    # a new pair gets its own latest common year
    return search_string(lang, a=a if valid_code(a) else None, b=b if valid_code(b) else None)


@callback(Output("jamfor-url", "search", allow_duplicate=True), Input("jamfor-year", "value"),
          State("jamfor-a", "value"), State("jamfor-b", "value"), State("jamfor-lang", "data"),
          prevent_initial_call=True)
def _year_to_url(year, a, b, lang):
    if not year:
        return no_update
    return search_string(lang, a=a, b=b, year=None if year == LATEST else year)


@callback(Output("jamfor-url", "search", allow_duplicate=True), Input("jamfor-unit-a", "value"),
          Input("jamfor-unit-b", "value"), State("jamfor-lang", "data"), prevent_initial_call=True)
def _units_to_url(ua, ub, lang):
    return search_string(lang, mode="units", unit_a=ua or None, unit_b=ub or None)
