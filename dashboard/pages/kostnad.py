"""/kostnad — does quality relate to cost? Composite vs deviation from standard cost, the
study's Diagram 1 rebuilt for the chosen year, the cost model and the structure tests
(seed 003, chapter 1: "inget samband")."""
from __future__ import annotations

import math
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard import figures as F
from dashboard.data import get_db, parse_year
from dashboard.i18n import get_lang, page_title, size_group_label, t
from styrkort import formats

dash.register_page(__name__, path="/kostnad", title=page_title("nav_kostnad"), name="Kostnad")

SOURCES = Path(__file__).resolve().parents[2] / "warehouse" / "sources"

TXT = {
    "title": ("Kvalitet och kostnad", "Quality and cost"),
    "lead": ("Hänger ett bra resultat i Öppna jämförelser ihop med hög kostnad? Kostnaden jämförs med "
             "standardkostnaden – vad kommunens struktur motiverar – i procent. Positiv avvikelse betyder "
             "dyrare än strukturen motiverar, negativ billigare.",
             "Do good results in Open comparisons go with high cost? Cost is compared with the standard "
             "cost – what the municipality's structure motivates – in percent. Positive means costlier "
             "than the structure motivates, negative cheaper."),
    "year": ("År (år med både index och kostnadsavvikelse)", "Year (years with both index and cost deviation)"),
    "scatter_h": ("Sammanvägt index och kostnadsavvikelse", "Composite index and cost deviation"),
    "scatter_alt": ("Punktdiagram: en punkt per kommun, index på x-axeln och avvikelse från standardkostnad på y-axeln, med en OLS-linje. {w}",
                    "Scatter plot: one dot per municipality, composite on the x axis and deviation from standard cost on the y axis, with an OLS line. {w}"),
    "d1_h": ("Diagram 1: avvikelse från standardkostnad för de 20 kommunerna med bäst index {y}",
             "Diagram 1: deviation from standard cost for the 20 municipalities with the best index {y}"),
    "d1_lead": ("Som i SKL:s studie 2010: röd stapel = över standardkostnad, grön = under. Varje stapel har "
                "också en text med tecken och \"över/under\", så färgen behövs inte för att läsa diagrammet.",
                "As in SALAR's 2010 study: red bar = above standard cost, green = below. Each bar also has a "
                "label with sign and \"above/below\", so colour is not needed to read it."),
    "d1_study": ("I studien (ÖJ 2009) var de 20 bästa: {names}.", "In the study (ÖJ 2009) the best 20 were: {names}."),
    "model_h": ("Kostnadsmodellen (standardkostnad, modellerad)", "The cost model (standard cost, modelled)"),
    "model_lead": ("Där Kolada saknar officiell standardkostnad skattas den med en regression per år; "
                   "standardkostnaden är modellens förväntade värde. R² = {r2}, n = {n}. Formel: {f}",
                   "Where Kolada has no official standard cost it is estimated with a regression per year; "
                   "the standard cost is the model's fitted value. R² = {r2}, n = {n}. Formula: {f}"),
    "model_official": ("Året har officiell standardkostnad (Kolada); ingen modell behövs.",
                       "The year has the official standard cost (Kolada); no model needed."),
    "tests_h": ("Samband med struktur", "Associations with structure"),
    "no_years": ("Det finns inget år med både sammanvägt index och kostnadsavvikelse i lagret.",
                 "There is no year with both a composite index and a cost deviation in the warehouse."),
    "table_h": ("Kostnadsavvikelse och index per kommun {y}", "Cost deviation and index per municipality {y}"),
}

_t = C.translator(TXT)
alert = C.alert

TEST_LABEL = {
    "pearson_cost_deviation": ("Index och kostnadsavvikelse (Pearson)", "Composite and cost deviation (Pearson)"),
    "spearman_cost_deviation": ("Index och kostnadsavvikelse (Spearman)", "Composite and cost deviation (Spearman)"),
    "ols_cost_deviation": ("Index per procentenhets avvikelse (OLS-lutning)", "Composite per percentage point of deviation (OLS slope)"),
    "anova_size_group": ("Index mellan storleksgrupper (ANOVA)", "Composite between size groups (ANOVA)"),
    "anova_skl_group": ("Index mellan SKL:s kommungrupper (ANOVA)", "Composite between SALAR municipality groups (ANOVA)"),
    "pearson_share_80_plus": ("Index och andel 80+ (Pearson)", "Composite and share aged 80+ (Pearson)"),
}


# ---------------------------------------------------------------- data


def _where_default(db, view):
    return " WHERE is_default" if "is_default" in db.columns(view) else ""


def cost_years(db) -> list[int]:
    return sorted(set(db.years("composite_index")) & set(db.years("cost_deviation")))


def cost_frame(db, year: int) -> pd.DataFrame:
    df = db.query_view(
        "cost_deviation",
        "SELECT c.municipality_code, m.name, c.composite, c.rank, c.size_group, d.net_cost, "
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
    label = TEST_LABEL.get(test, (test, test))[1 if lang == "en" else 0]
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return f"{label}: {t('missing', lang)}"
    if str(test).startswith(("pearson", "spearman")):
        words = F.association_in_words(est, p, lang)
        if str(test).startswith("spearman"):
            words = words.replace("(r = ", "(rho = ")
        return f"{label}: {words}"
    ptxt = ("p < " + formats.number(0.001, 3, lang)) if p < 0.001 else "p = " + formats.number(p, 2, lang)
    if str(test).startswith("anova"):
        groups = "storleksgrupperna" if test == "anova_size_group" else "kommungrupperna"
        fval = formats.number(est if est is not None and not _nan(est) else row.get("f", math.nan), 2, lang)
        if lang == "en":
            words = "No clear difference between the groups" if p >= 0.05 else "A clear difference between the groups"
        else:
            words = f"Ingen tydlig skillnad mellan {groups}" if p >= 0.05 else f"Tydlig skillnad mellan {groups}"
        return f"{label}: {words} (F = {fval}; {ptxt})"
    ci = ""
    if not _nan(row.get("ci_low")) and not _nan(row.get("ci_high")):
        ci = f"; 95 % KI {formats.number(row['ci_low'], 3, lang)} till {formats.number(row['ci_high'], 3, lang)}" \
            if lang != "en" else f"; 95% CI {formats.number(row['ci_low'], 3, lang)} to {formats.number(row['ci_high'], 3, lang)}"
    clear = ("ingen tydlig lutning" if p >= 0.05 else "tydlig lutning") if lang != "en" else \
        ("no clear slope" if p >= 0.05 else "clear slope")
    return f"{label}: {clear} ({stat or 'b'} = {formats.number(est, 3, lang)}{ci}; {ptxt})"


def p_text(p, lang: str) -> str:
    if _nan(p):
        return "–"
    return ("< " + formats.number(0.001, 3, lang)) if p < 0.001 else formats.number(p, 3, lang)


def num_or_dash(x, decimals: int, lang: str) -> str:
    """'–' where a statistic has no such value (e.g. no CI for an F test)."""
    return "–" if _nan(x) else formats.number(x, decimals, lang)


def _nan(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


# ---------------------------------------------------------------- sections


def _source(df, year, lang):
    methods = set(df["method"].dropna()) if "method" in df else set()
    modelled = "modelled" in methods
    src = ("Sammanvägt index (demodata); nettokostnad äldreomsorg Kolada N20014, standardkostnad "
           + ("modellerad" if modelled else "officiell (Kolada)")) if lang != "en" else \
          ("Composite index (demo data); net cost elderly care Kolada N20014, standard cost "
           + ("modelled" if modelled else "official (Kolada)"))
    return src, modelled


def content(db, year: int, lang: str):
    df = cost_frame(db, year)
    if df.empty:
        return [alert(t("view_missing", lang, view="cost_deviation"), "secondary")]
    src, modelled = _source(df, year, lang)
    src_line = f"{t('source', lang)}: {src}, {t('year', lang).lower()} {year}"
    fit = F.ols_fit(df["composite"], df["deviation_pct"])
    words = F.association_in_words(fit.r, fit.p, lang)
    scatter = F.cost_scatter(df, lang, source=None)
    top = F.top_by_composite(df[["municipality_code", "name", "rank"]],
                             df[["municipality_code", "deviation_pct", "method"]], 20)
    d1 = F.diagram1(top, lang)
    study = study_top20()
    out = [
        html.H2(_t("scatter_h", lang), className="h4 mt-3"),
        html.P(html.Strong(words), id="kostnad-words"),
        C.graph("kostnad-scatter", F.for_screen(scatter), _t("scatter_alt", lang, w=words), lang),
        C.source_caption(src, year, lang, modelled=modelled),
        html.Span(C.demo_badge(lang), className="ms-2"),
        html.H2(_t("d1_h", lang, y=year), className="h4 mt-4"),
        html.P(_t("d1_lead", lang)),
        C.graph("kostnad-diagram1", d1, _t("d1_h", lang, y=year) + ". " +
                "; ".join(f"{r.name} {F.deviation_label(r.deviation_pct, lang)}" for r in top.itertuples()), lang),
        C.source_caption(src, year, lang, modelled=modelled),
    ]
    if study:
        out.append(html.P(html.Small(_t("d1_study", lang, names=", ".join(study))), className="mt-1"))
    table = df.copy()
    table["size_group_label"] = table["size_group"].map(lambda g: size_group_label(g, lang))
    table["method_label"] = table["method"].map(lambda m: t("modelled" if m == "modelled" else "official", lang))
    table["href"] = table["municipality_code"].map(lambda c: f"/kommun/{c}" + ("?lang=en" if lang == "en" else ""))
    cols = [C.col("rank", "Rang" if lang != "en" else "Rank", "int"),
            C.col("name", "Kommun" if lang != "en" else "Municipality", link_field="href"),
            C.col("size_group_label", t("size_group", lang)),
            C.col("composite", "Index" if lang != "en" else "Composite", "number", 2),
            C.col("net_cost", "Nettokostnad (kr/inv)" if lang != "en" else "Net cost (SEK/inh.)", "kr"),
            C.col("standard_cost", "Standardkostnad (kr/inv)" if lang != "en" else "Standard cost (SEK/inh.)", "kr"),
            C.col("deviation_pct", "Avvikelse (%)" if lang != "en" else "Deviation (%)", "percent", 1),
            C.col("method_label", "Metod" if lang != "en" else "Method")]
    out += [C.table_with_downloads("kostnad-table", table, cols, lang, page_size=20,
                                   caption=_t("table_h", lang, y=year)),
            _model_block(db, year, modelled, lang), _tests_block(db, year, lang)]
    return out


def _model_block(db, year, modelled, lang):
    head = html.H2(_t("model_h", lang), className="h4 mt-4")
    cm = db.query_view("cost_model", "SELECT * FROM cost_model WHERE year = ? ORDER BY term", [year])
    if cm is None:
        return html.Div([head, alert(t("view_missing", lang, view="cost_model"), "secondary")])
    if cm.empty:
        return html.Div([head, alert(_t("model_official", lang) if not modelled else t("no_rows", lang), "secondary")])
    r2 = cm["r_squared"].dropna().iloc[0] if cm["r_squared"].notna().any() else None
    n = cm["n"].dropna().iloc[0] if cm["n"].notna().any() else None
    formula = cm["formula"].dropna().iloc[0] if "formula" in cm and cm["formula"].notna().any() else ""
    cm = cm.copy()
    cm["modelled"] = t("modelled", lang)
    cm["p_text"] = [p_text(x, lang) for x in cm["p_value"]]
    cols = [C.col("term", "Term"), C.col("coef", "Koefficient" if lang != "en" else "Coefficient", "number", 2),
            C.col("ci_low", "95 % KI, nedre" if lang != "en" else "95% CI, lower", "number", 2),
            C.col("ci_high", "95 % KI, övre" if lang != "en" else "95% CI, upper", "number", 2),
            C.col("p_text", "p"), C.col("modelled", "Status")]
    return html.Div([head,
                     html.P(_t("model_lead", lang, r2=formats.number(r2, 2, lang), n=formats.number(n, 0, lang),
                               f=formula)),
                     C.table_with_downloads("kostnad-model", cm, cols, lang,
                                            caption=f"{_t('model_h', lang)} {year}"),
                     C.source_caption("Kolada N20014, N01960, N01813; SCB; SKL 2005", year, lang, modelled=True)])


def _tests_block(db, year, lang):
    head = html.H2(_t("tests_h", lang), className="h4 mt-4")
    qa = db.query_view("quality_associations", "SELECT * FROM quality_associations WHERE year = ? ORDER BY test",
                       [year])
    if qa is None:
        return html.Div([head, alert(t("view_missing", lang, view="quality_associations"), "secondary")])
    if qa.empty:
        return html.Div([head, alert(t("no_rows", lang), "secondary")])
    qa = qa.copy()
    qa["label"] = qa["test"].map(lambda x: TEST_LABEL.get(x, (x, x))[1 if lang == "en" else 0])
    words = [test_in_words(r, lang) for r in qa.to_dict("records")]
    qa["words"] = words
    qa["ci_low_text"] = [num_or_dash(x, 3, lang) for x in qa["ci_low"]]
    qa["ci_high_text"] = [num_or_dash(x, 3, lang) for x in qa["ci_high"]]
    qa["p_text"] = [p_text(x, lang) for x in qa["p_value"]]
    cols = [C.col("label", "Test"), C.col("statistic", "Mått" if lang != "en" else "Statistic"),
            C.col("estimate", "Skattning" if lang != "en" else "Estimate", "number", 3),
            C.col("ci_low_text", "95 % KI, nedre" if lang != "en" else "95% CI, lower"),
            C.col("ci_high_text", "95 % KI, övre" if lang != "en" else "95% CI, upper"),
            C.col("p_text", "p"), C.col("n", "n", "int")]
    return html.Div([head, html.Ul([html.Li(w) for w in words], id="kostnad-tests-words"),
                     C.table_with_downloads("kostnad-tests", qa, cols, lang),
                     C.source_caption("styrkort (statsmodels, scipy) på index och kostnadsavvikelse"
                                      if lang != "en" else "styrkort (statsmodels, scipy) on index and cost deviation",
                                      year, lang)])


@C.safe_layout
def layout(year=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    head = C.page_heading(_t("title", lang), _t("lead", lang))
    years = cost_years(db)
    if not years:
        return html.Div([head, alert(_t("no_years", lang), "secondary")])
    year = parse_year(year, years) or years[-1]
    return html.Div([
        head,
        dcc.Store(id="kostnad-lang", data=lang),
        dcc.Location(id="kostnad-loc", refresh="callback-nav"),
        html.Div([html.Label(_t("year", lang), htmlFor="kostnad-year", className="form-label"),
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
    return f"?year={year}" + ("&lang=en" if lang == "en" else "")
