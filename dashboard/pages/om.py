"""/om – where the data comes from (the datasets view: dates, provenance, demo flags), the
pipeline runs with their config hashes, and the methods in plain Swedish (English on request)."""
from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard import components as C
from dashboard.scorecard_rules import rule_section, similar_method_section, whatif_method_section
from dashboard.data import get_db, success_factors
from dashboard.i18n import factor_name, factor_text, get_lang, href, page_title, t

dash.register_page(__name__, path="/om", title=page_title("nav_om"), name="Om", order=9)

# The methods in plain words, in this order; catalogue keys om_m_<id>_h (heading) and
# om_m_<id>_text (paragraphs separated by a blank line).
METHODS = ("demo", "index", "size_groups", "selection", "cost", "trends", "grants", "formats")


def method_sections(lang: str) -> list:
    out = []
    for m in METHODS:
        out.append(html.H3(t(f"om_m_{m}_h", lang), className="h5 mt-3"))
        out += [html.P(p) for p in t(f"om_m_{m}_text", lang).split("\n\n")]
    return out


def _datasets(db, lang):
    df = db.query_view("datasets", "SELECT dataset, description, source, file, sha256, loaded_at, "
                                   "is_demo FROM datasets ORDER BY is_demo, dataset")
    if df is None or df.empty:
        return C.not_computed("datasets", lang)
    df = df.copy()
    df["loaded"] = pd.to_datetime(df["loaded_at"]).dt.strftime("%Y-%m-%d %H:%M")
    df["demo"] = df["is_demo"].map(lambda v: t("demo", lang).upper() if v else t("no", lang))
    df["sha"] = df["sha256"].map(lambda v: v[:12] if isinstance(v, str) else "")
    n_demo = int(df["is_demo"].sum())
    return html.Div([
        html.P(t("om_datasets_text", lang, n=len(df), demo=n_demo)),
        C.table_with_downloads(
            "datakallor", df,
            [C.col("dataset", t("om_col_dataset", lang)),
             C.col("description", t("om_col_description", lang), flex=3, text_lang="sv"),
             C.col("source", t("source", lang), flex=3, text_lang="sv"),
             C.col("file", t("om_col_file", lang), flex=2),
             C.col("loaded", t("om_col_loaded", lang)),
             C.col("demo", t("demo", lang)),
             C.col("sha", "SHA-256")],
            lang, caption=t("om_datasets", lang), page_size=30,
            download=C.download_meta("om-datamangder", t("om_datasets", lang), demo="is_demo",
                                     title=t("om_datasets", lang))),
    ])


def _runs(db, lang):
    df = db.query_view("pipeline_runs", "SELECT step, year, config_hash, started_at FROM pipeline_runs "
                                        "ORDER BY started_at DESC, step, year LIMIT 500")
    if df is None:
        return C.not_computed("pipeline_runs", lang)
    if df.empty:
        return C.empty_state(t("no_rows", lang))
    df = df.copy()
    df["started"] = pd.to_datetime(df["started_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return C.table_with_downloads(
        "korningar", df,
        [C.col("step", t("om_col_step", lang)), C.col("year", t("year", lang)),
         C.col("config_hash", t("om_col_hash", lang)), C.col("started", t("om_col_started", lang))],
        lang, caption=t("om_runs", lang), page_size=15,
        download=C.download_meta("om-berakningskorningar", "pipeline_runs", demo=False, title=t("om_runs", lang)))


def _factors(lang):
    items = []
    for n in sorted(success_factors()):
        items.append(html.Li([html.Strong(factor_name(n, lang)), ": ", factor_text(n, lang)]))
    return html.Section([
        html.H2(t("om_factors", lang), id="framgangsfaktorer", className="h4"),
        html.P(t("om_factors_text", lang)),
        html.Ol(items),
    ], className="mb-4")


@C.safe_layout
def layout(lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    methods = method_sections(lang)
    return html.Div([
        C.page_heading(t("om_title", lang), t("om_lead", lang)),
        dbc.Row([
            dbc.Col([
                html.Section([html.H2(t("om_datasets", lang), className="h4"), _datasets(db, lang)],
                             className="mb-4"),
                html.Section([html.H2(t("om_methods", lang), className="h4"), *methods],
                             className="mb-4"),
                rule_section(lang, "h2"),
                similar_method_section(lang),
                whatif_method_section(lang),
                _factors(lang),
                html.Section([html.H2(t("om_runs", lang), className="h4"),
                              html.P(t("om_runs_text", lang)), _runs(db, lang)], className="mb-4"),
                html.P(dcc.Link(t("go_home", lang), href=href("/", lang))),
            ]),
        ]),
    ])
