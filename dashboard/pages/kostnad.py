"""/kostnad — does quality relate to cost? Composite vs deviation from standard cost, the
study's Diagram 1 rebuilt for the chosen year, the cost model and the structure tests
(SKL 2010, Öppna jämförelser analys, chapter 1: "inget samband")."""
from __future__ import annotations

import math
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard import figures as F
from dashboard.data import get_db, index_demo, parse_year
from dashboard.i18n import cost_term_label, formula_in_words, get_lang, href, page_title, search_string, size_group_label, t
from dashboard.urlcheck import year_notice
from styrkort import formats

dash.register_page(__name__, path="/kostnad", title=page_title("nav_kostnad"), name="Kostnad",
                   charts=True)   # plotly.js loads with the page (plotly_bundle)

SOURCES = Path(__file__).resolve().parents[2] / "warehouse" / "sources"


alert = C.alert

# quality_associations.test codes with a label in the catalogue (key kostnad_test_<code>)
TESTS = ("pearson_cost_deviation", "spearman_cost_deviation", "ols_cost_deviation", "ols_line_cost_deviation",
         "anova_size_group", "anova_skl_group", "pearson_share_80_plus")


def test_label(test, lang: str) -> str:
    return t(f"kostnad_test_{test}", lang) if test in TESTS else str(test)


# ---------------------------------------------------------------- data


def _where_default(db, view):
    return " WHERE is_default" if "is_default" in db.columns(view) else ""


def valid_years(db, params: dict) -> list[int] | None:
    """The years ?year= may name (dashboard.urlcheck)."""
    return cost_years(db) or None


def cost_years(db) -> list[int]:
    return sorted(set(db.years("composite_index")) & set(db.years("cost_deviation")))


def cost_frame(db, year: int) -> pd.DataFrame:
    df = db.query_view(
        "cost_deviation",
        "SELECT c.municipality_code, m.name, c.composite, c.rank, c.size_group, c.is_demo, d.net_cost, "
        "d.standard_cost, d.deviation_pct, d.method "
        "FROM (SELECT * FROM composite_index" + _where_default(db, "composite_index") + ") c "
        "JOIN cost_deviation d ON d.municipality_code = c.municipality_code AND d.year = c.year "
        "JOIN municipalities m ON m.municipality_code = c.municipality_code "
        "WHERE c.year = ? ORDER BY c.rank", [year])
    return df if df is not None else pd.DataFrame()


def study_top20() -> list[str]:
    try:
        return pd.read_csv(SOURCES / "oj2009_top20_cost_deviation_chart.csv")["municipality_name"].tolist()
    except (OSError, KeyError):
        return []


def test_in_words(row: dict, lang: str) -> str:
    """One structure test in plain words."""
    test, p = row.get("test"), row.get("p_value")
    est, stat = row.get("estimate"), row.get("statistic")
    label = test_label(test, lang)
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return f"{label}: {t('missing', lang)}"
    if str(test).startswith(("pearson", "spearman")):
        words = F.association_in_words(est, p, lang)
        if str(test).startswith("spearman"):
            words = words.replace("(r = ", "(rho = ")
        return f"{label}: {words}"
    ptxt = ("p < " + formats.number(0.001, 3, lang)) if p < 0.001 else "p = " + formats.number(p, 2, lang)
    if str(test).startswith("anova"):
        groups = "size_group" if test == "anova_size_group" else "skl_group"
        fval = formats.number(est if est is not None and not _nan(est) else row.get("f", math.nan), 2, lang)
        words = t(f"kostnad_anova_{'none' if p >= 0.05 else 'clear'}_{groups}", lang)
        return f"{label}: {words} (F = {fval}; {ptxt})"
    ci = ""
    if not _nan(row.get("ci_low")) and not _nan(row.get("ci_high")):
        ci = t("kostnad_ci", lang, lo=formats.number(row["ci_low"], 3, lang), hi=formats.number(row["ci_high"], 3, lang))
    clear = t("kostnad_slope_none" if p >= 0.05 else "kostnad_slope_clear", lang)
    return f"{label}: {clear} ({stat_label(stat, lang) if stat else 'b'} = {formats.number(est, 3, lang)}{ci}; {ptxt})"


def stat_label(stat, lang: str) -> str:
    """quality_associations.statistic ('r', 'rho', 'F', 'slope') as shown."""
    key = f"stat_{stat}"
    text = t(key, lang)
    return str(stat) if text == key else text


def p_text(p, lang: str) -> str:
    if _nan(p):
        return "–"
    return ("< " + formats.number(0.001, 3, lang)) if p < 0.001 else formats.number(p, 3, lang)


def num_or_dash(x, decimals: int, lang: str) -> str:
    """'–' where a statistic has no such value (e.g. no CI for an F test)."""
    return "–" if _nan(x) else formats.number(x, decimals, lang)


def _nan(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def scatter_fit(db, year: int, lang: str) -> tuple[dict | None, str]:
    """(line, words) for the scatter, both from the quality_associations mart: the stored OLS line
    of deviation on the composite (slope, intercept) and the Pearson row in words. Without the
    mart: no line, and the words say which mart to build."""
    qa = db.query_view("quality_associations", "SELECT test, estimate, p_value, intercept FROM quality_associations "
                       "WHERE year = ? AND test IN ('pearson_cost_deviation', 'ols_line_cost_deviation')", [year])
    if qa is None:
        return None, t("mart_missing", lang, view="quality_associations")
    rows = {r["test"]: r for r in qa.to_dict("records")}
    line = rows.get("ols_line_cost_deviation")
    r = rows.get("pearson_cost_deviation") or {}
    words = F.association_in_words(_or_nan(r.get("estimate")), _or_nan(r.get("p_value")), lang)
    return ({"slope": line["estimate"], "intercept": line["intercept"]} if line else None), words


def _or_nan(x):
    return math.nan if _nan(x) else float(x)


# ---------------------------------------------------------------- sections


def _source(df, year, lang):
    methods = set(df["method"].dropna()) if "method" in df else set()
    modelled = "modelled" in methods
    src = t("kostnad_source_modelled" if modelled else "kostnad_source_official", lang)
    return src, modelled


def content(db, year: int, lang: str):
    df = cost_frame(db, year)
    if df.empty:
        return [alert(t("view_missing", lang, view="cost_deviation"), "secondary")]
    src, modelled = _source(df, year, lang)
    src_line = f"{t('source', lang)}: {src}, {t('year', lang).lower()} {year}"
    line, words = scatter_fit(db, year, lang)
    scatter = F.cost_scatter(df, lang, source=None, line=line, title=words)
    top = F.top_by_composite(df[["municipality_code", "name", "rank"]],
                             df[["municipality_code", "deviation_pct", "method"]], 20)
    d1 = F.diagram1(top, lang)
    study = study_top20()
    out = [
        html.H2(t("kostnad_scatter_h", lang), className="h4 mt-3"),
        html.P(html.Strong(words), id="kostnad-words"),
        C.graph("kostnad-scatter", F.for_screen(scatter), t("kostnad_scatter_alt", lang, w=words), lang),
        C.source_caption(src, year, lang, modelled=modelled),
        html.Span(C.index_demo_label(index_demo(db, year), lang), className="ms-2"),
        html.H2(t("kostnad_d1_h", lang, y=year), className="h4 mt-4"),
        html.P(t("kostnad_d1_lead", lang)),
        C.graph("kostnad-diagram1", d1, t("kostnad_d1_h", lang, y=year) + ". " +
                "; ".join(f"{r.name} {F.deviation_label(r.deviation_pct, lang)}" for r in top.itertuples()), lang,
                lazy=True),   # below the scatter: drawn when scrolled to
        C.source_caption(src, year, lang, modelled=modelled),
    ]
    if study:
        out.append(html.P(html.Small(t("kostnad_d1_study", lang, names=", ".join(study))), className="mt-1"))
    table = df.copy()
    table["size_group_label"] = table["size_group"].map(lambda g: size_group_label(g, lang))
    table["method_label"] = table["method"].map(lambda m: t("modelled" if m == "modelled" else "official", lang))
    table["href"] = table["municipality_code"].map(lambda c: href(f"/kommun/{c}", lang))
    cols = [C.col("rank", t("urval_rank", lang), "int"),
            C.col("name", t("municipality", lang), link_field="href"),
            C.col("size_group_label", t("size_group", lang)),
            C.col("composite", t("urval_composite", lang), "number", 2),
            C.col("net_cost", t("kostnad_net_cost_sek_inh", lang), "kr"),
            C.col("standard_cost", t("kostnad_standard_cost_sek_inh", lang), "kr"),
            C.col("deviation_pct", t("kostnad_deviation", lang), "percent", 1),
            C.col("method_label", t("kostnad_method", lang))]
    out += [C.table_with_downloads("kostnad-table", table, cols, lang, page_size=20,
                                   caption=t("kostnad_table_h", lang, y=year),
                                   download=C.download_meta(C.file_stem("kostnad", year), src, year, demo="is_demo",
                                                            title=t("kostnad_table_h", lang, y=year))),
            _model_block(db, year, modelled, lang),
            _tests_block(db, year, lang, demo=bool(df["is_demo"].fillna(False).astype(bool).any()))]
    return out


def _model_block(db, year, modelled, lang):
    head = html.H2(t("kostnad_model_h", lang), className="h4 mt-4")
    cm = db.query_view("cost_model", "SELECT * FROM cost_model WHERE year = ? ORDER BY term", [year])
    if cm is None:
        return html.Div([head, alert(t("view_missing", lang, view="cost_model"), "secondary")])
    if cm.empty:
        return html.Div([head, alert(t("kostnad_model_official", lang) if not modelled else t("no_rows", lang), "secondary")])
    r2 = cm["r_squared"].dropna().iloc[0] if cm["r_squared"].notna().any() else None
    n = cm["n"].dropna().iloc[0] if cm["n"].notna().any() else None
    formula = formula_in_words(cm["term"].tolist(), lang)
    cm = cm.copy()
    cm["modelled"] = t("modelled", lang)
    cm["p_text"] = [p_text(x, lang) for x in cm["p_value"]]
    cm["term_label"] = [cost_term_label(x, lang) for x in cm["term"]]
    cols = [C.col("term_label", t("kostnad_col_term", lang)), C.col("coef", t("kostnad_coefficient", lang), "number", 2),
            C.col("ci_low", t("kostnad_ci_lower", lang), "number", 2),
            C.col("ci_high", t("kostnad_ci_upper", lang), "number", 2),
            C.col("p_text", "p", "p", raw="p_value"), C.col("modelled", t("kostnad_col_status", lang))]
    return html.Div([head,
                     html.P(t("kostnad_model_lead", lang, r2=formats.number(r2, 2, lang), n=formats.number(n, 0, lang),
                               f=formula)),
                     C.table_with_downloads("kostnad-model", cm, cols, lang,
                                            caption=f"{t('kostnad_model_h', lang)} {year}",
                                            download=C.download_meta(
                                                C.file_stem("kostnadsmodell", year), t("kostnad_model_source", lang),
                                                year, demo=False, settings=[(t("dl_formula", lang), formula)],
                                                title=f"{t('kostnad_model_h', lang)} {year}")),
                     C.source_caption(t("kostnad_model_source", lang), year, lang, modelled=True)])


def _tests_block(db, year, lang, demo=True):
    head = html.H2(t("kostnad_tests_h", lang), className="h4 mt-4")
    qa = db.query_view("quality_associations", "SELECT * FROM quality_associations WHERE year = ? ORDER BY test",
                       [year])
    if qa is None:
        return html.Div([head, alert(t("view_missing", lang, view="quality_associations"), "secondary")])
    if qa.empty:
        return html.Div([head, alert(t("no_rows", lang), "secondary")])
    qa = qa.copy()
    qa["label"] = qa["test"].map(lambda x: test_label(x, lang))
    words = [test_in_words(r, lang) for r in qa.to_dict("records")]
    qa["words"] = words
    qa["statistic_label"] = [stat_label(x, lang) for x in qa["statistic"]]
    qa["ci_low_text"] = [num_or_dash(x, 3, lang) for x in qa["ci_low"]]
    qa["ci_high_text"] = [num_or_dash(x, 3, lang) for x in qa["ci_high"]]
    qa["p_text"] = [p_text(x, lang) for x in qa["p_value"]]
    cols = [C.col("label", t("kostnad_col_test", lang)), C.col("statistic_label", t("kostnad_statistic", lang)),
            C.col("estimate", t("kostnad_estimate", lang), "number", 3),
            C.col("ci_low_text", t("kostnad_ci_lower", lang), decimals=3, raw="ci_low"),
            C.col("ci_high_text", t("kostnad_ci_upper", lang), decimals=3, raw="ci_high"),
            C.col("p_text", "p", "p", raw="p_value"), C.col("n", "n", "int")]
    return html.Div([head, html.Ul([html.Li(w) for w in words], id="kostnad-tests-words"),
                     C.table_with_downloads("kostnad-tests", qa, cols, lang, download=C.download_meta(
                         C.file_stem("kostnad-samband", year), t("kostnad_tests_source", lang), year,
                         demo=demo, title=f"{t('kostnad_tests_h', lang)} {year}")),
                     C.source_caption(t("kostnad_tests_source", lang),
                                      year, lang)])


@C.safe_layout
def layout(year=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    head = C.page_heading(t("kostnad_title", lang), t("kostnad_lead", lang))
    years = cost_years(db)
    if not years:
        return html.Div([head, alert(t("kostnad_no_years", lang), "secondary")])
    asked, year = year, parse_year(year, years) or years[-1]
    return html.Div([
        head,
        year_notice(asked, years, year, lang),
        dcc.Store(id="kostnad-lang", data=lang),
        dcc.Location(id="kostnad-loc", refresh="callback-nav"),
        html.Div([html.Label(t("kostnad_year", lang), htmlFor="kostnad-year", className="form-label"),
                  dbc.Select(id="kostnad-year", options=[{"label": str(y), "value": str(y)} for y in years],
                             value=str(year), style={"maxWidth": "12rem"})], className="mb-3"),
        dcc.Loading(html.Div(content(db, year, lang), id="kostnad-content")),
    ])


@callback(Output("kostnad-loc", "search"), Input("kostnad-year", "value"), State("kostnad-lang", "data"),
          prevent_initial_call=True)
def _year(year, lang):
    try:
        year = int(year)
    except (TypeError, ValueError):
        return no_update
    return search_string(lang, year=year)
