"""/enheter?kommun=1480 – a municipality's Balansen units with a few key figures of their latest
month and links to each unit's scorecard (/enhet/<unit_id>); without ?kommun a list of the
municipalities that have units. The import templates (CSV and Excel, with the unit KPI list)
download from here (dashboard/unit_templates.py serves them)."""
from __future__ import annotations

from collections import Counter

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard.data import first, get_db, valid_code
from dashboard.i18n import get_lang, href, page_title, perspective_label, search_string, t
from dashboard.units_view import month_label, municipality_units, status_counts

dash.register_page(__name__, path="/enheter", title=page_title("nav_enheter"), name="Enheter")

KEY_FIGURES_PER_PERSPECTIVE = 1


def _summaries(db, code: str) -> list[dict] | None:
    df = db.query_view(
        "unit_kpi_summary",
        "SELECT s.unit_id, s.kpi_id, s.perspective, s.current_period, s.value_period, s.value, s.status, "
        "s.peer_median, s.source, k.title, k.unit FROM unit_kpi_summary s JOIN unit_kpis k USING (kpi_id) WHERE s.municipality_code = ?",
        [code])
    return None if df is None else df.to_dict("records")


def key_figures(rows: list[dict]) -> list[tuple[str, str, str | None]]:
    """(kpi_id, title, unit) of the KPI most units report in each perspective (ties by title):
    the columns that make the units comparable at a glance."""
    out = []
    for p in ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet"):
        n = Counter((r["kpi_id"], r["title"], r["unit"]) for r in rows if r["perspective"] == p and r["value"] is not None)
        out += [k for k, _ in sorted(n.items(), key=lambda kv: (-kv[1], kv[0][1]))[:KEY_FIGURES_PER_PERSPECTIVE]]
    return out


def templates_block(lang: str):
    links = [(t("enheter_template_units", lang), "enheter"), (t("enheter_template_values", lang), "enhetsvarden")]
    items = []
    for label, stem in links:
        items.append(html.Li([label, ": ",
                              html.A(["CSV", html.Span(f" – {label}", className="visually-hidden")],
                                     href=f"/enheter/mall/{stem}.csv", download=f"{stem}.csv", className="me-2"),
                              html.A(["Excel", html.Span(f" – {label}", className="visually-hidden")],
                                     href=f"/enheter/mall/{stem}.xlsx", download=f"{stem}.xlsx")]))
    return dbc.Card(dbc.CardBody([
        html.H2(t("enheter_templates_title", lang), className="h5"),
        html.P(t("enheter_templates_text", lang)),
        html.Ul(items),
        html.Pre("styrkort import units enheter.csv\nstyrkort import unit-values enhetsvarden.csv "
                 "[--kpis egna_nyckeltal.csv]\nstyrkort refresh", className="small bg-light p-2 mb-0 sk-pre"),
    ]), className="mb-3 sk-templates", id="enheter-templates")


def _chooser(db, code, lang):
    munis = db.municipalities()
    have = dict(db.rows_view("org_units", "SELECT municipality_code, count(*) FROM org_units GROUP BY 1") or [])
    opts = [{"label": f"{n} ({c})" + (f" – {have[c]} " + t("enheter_units_word", lang) if c in have else ""),
             "value": c} for c, n in zip(munis["municipality_code"], munis["name"])]
    return C.labelled_select("enheter-kommun", t("municipality", lang), opts, code,
                             placeholder=t("jamfor_pick", lang), className="mb-3 sk-year-select")


@C.safe_layout
def layout(kommun=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    code = first(kommun)
    code = code if valid_code(code) and db.municipality(code) else None
    children = [dcc.Location(id="enheter-url", refresh="callback-nav"), dcc.Store(id="enheter-lang", data=lang)]
    name = db.municipality_name(code) if code else None
    children.append(C.page_heading(t("enheter_title_in", lang, municipality=name) if name else t("nav_enheter", lang),
                                   t("enheter_lead", lang)))
    children.append(_chooser(db, code, lang))
    if code is None:
        have = db.rows_view("org_units", "SELECT u.municipality_code, m.name, count(*), bool_or(u.is_demo) "
                                         "FROM org_units u JOIN municipalities m USING (municipality_code) "
                                         "GROUP BY ALL ORDER BY m.name") or []
        children.append(html.H2(t("enheter_with_units", lang), className="h5"))
        children.append(html.Ul([html.Li([dcc.Link(f"{n} ({c})", href=href("/enheter", lang, kommun=c)),
                                          f" – {k} {t('enheter_units_word', lang)}",
                                          " ", C.demo_badge(lang) if demo else None]) for c, n, k, demo in have])
                        if have else C.empty_state(t("enheter_none_anywhere", lang)))
        children.append(templates_block(lang))
        return html.Div(children)

    units = municipality_units(db, code)
    if not units:
        children.append(C.empty_state(t("enheter_none", lang, municipality=name)))
        children.append(templates_block(lang))
        return html.Div(children)
    rows = _summaries(db, code)
    if rows is None:
        children.append(C.mart_missing("unit_kpi_summary", lang))
        rows = []
    counts_by_unit = status_counts(db, code=code)
    if counts_by_unit is None:
        children.append(C.mart_missing("unit_status_counts", lang))
        counts_by_unit = {}
    figures = key_figures(rows)
    by_unit: dict[str, dict] = {}
    for r in rows:
        by_unit.setdefault(r["unit_id"], {})[r["kpi_id"]] = r
    table_rows = []
    for u in units:
        mine = by_unit.get(u["unit_id"], {})
        counts = counts_by_unit.get(u["unit_id"], {})
        current = counts.get("current_period")
        rec = {"unit_id": u["unit_id"], "name": u["name"], "link": href(f"/enhet/{u['unit_id']}", lang),
               "kind": t(f"kind_{u['kind']}", lang), "district": u["district"] or "",
               "provider": t(f"provider_{u['provider']}", lang) if u["provider"] else "",
               "month": month_label(current, lang) if current else t("missing", lang),
               "better": counts.get("n_better", 0), "same": counts.get("n_same", 0),
               "worse": counts.get("n_worse", 0), "missing": counts.get("n_missing", 0), "demo": t("demo", lang) if u["is_demo"] else ""}
        for kid, _title, _unit in figures:
            rec[kid] = mine[kid]["value"] if kid in mine else None
        table_rows.append(rec)
    df = pd.DataFrame(table_rows)
    cols = [C.col("name", t("unit", lang), link_field="link", flex=2),
            C.col("kind", t("enheter_col_kind", lang)), C.col("district", t("enheter_col_district", lang)),
            C.col("provider", t("enheter_col_provider", lang)), C.col("month", t("enheter_col_month", lang))]
    for kid, title, unit in figures:
        cols.append(C.col(kid, title if not unit or f"({unit})" in title else f"{title} ({unit})", "number", 1))
    cols += [C.col("better", t("enheter_col_better", lang), "int"), C.col("same", t("enheter_col_same", lang), "int"),
             C.col("worse", t("enheter_col_worse", lang), "int"), C.col("missing", t("enheter_col_missing", lang), "int"),
             C.col("demo", t("demo", lang))]
    demo_any = any(u["is_demo"] for u in units)
    sources = ", ".join(sorted({str(r["source"]) for r in rows if r.get("source")}))
    months = sorted(r["value_period"] for r in rows if r.get("value") is not None)
    span = _month_span(months, lang)
    children += [
        html.P(t("enheter_summary", lang, n=len(units), municipality=name), className="mb-1"),
        html.P(t("enheter_demo_note", lang), className="small") if demo_any else None,
        _unit_cards(table_rows, figures, lang),
        html.P(C.source_caption(C.stored_text(sources) if sources else None, span, lang)) if rows else None,
        html.H2(t("enheter_table_title", lang), className="h5 mt-3"),
        C.table_with_downloads(f"enheter-{code}", df, cols, lang, caption=t("enheter_table_title", lang),
                               download=C.download_meta(f"enheter-{code}", source=sources or None, year=span,
                                                        demo="demo" if demo_any else False,
                                                        title=t("enheter_title_in", lang, municipality=name))),
        html.P([dcc.Link(t("jamfor_open", lang, name=name), href=href(f"/kommun/{code}", lang)), " · ",
                dcc.Link(t("jamfor_title_units", lang), href=href("/jamfor", lang, mode="units"))], className="mt-2"),
        templates_block(lang),
    ]
    return html.Div(children)


def _month_span(months: list, lang: str) -> str | None:
    """'januari 2012–december 2013' (or one month) for the months the shown figures are from."""
    if not months:
        return None
    lo, hi = month_label(months[0], lang), month_label(months[-1], lang)
    return lo if lo == hi else f"{lo}–{hi}"


def _unit_cards(rows, figures, lang):
    """Each unit as a card with its key figures: readable on a phone, links to the unit."""
    cards = []
    for r in rows:
        facts = [r["kind"]] + [x for x in (r["district"], r["provider"]) if x]
        figs = [html.Li([html.Span(title, lang="sv"), ": ",
                         html.Strong(C.fmt_value(r.get(kid), unit, lang))]) for kid, title, unit in figures]
        cards.append(dbc.Col(html.Article(dbc.CardBody([
            html.H3([dcc.Link(r["name"], href=r["link"]), " ", C.demo_badge(lang) if r["demo"] else None],
                    className="h6 mb-1"),
            html.P(" · ".join(facts), className="small mb-1"),
            html.P(t("enheter_card_counts", lang, month=r["month"], better=r["better"], same=r["same"],
                     worse=r["worse"], missing=r["missing"]), className="small mb-1"),
            html.Ul(figs, className="small mb-0 ps-3") if figs else None,
        ]), className="card h-100 sk-unit-card")))
    return html.Div(cards, className="row row-cols-1 row-cols-md-2 row-cols-xl-3 g-3 mb-3")


@callback(Output("enheter-url", "search"), Input("enheter-kommun", "value"), State("enheter-lang", "data"),
          prevent_initial_call=True)
def _kommun_to_url(code, lang):
    if not valid_code(code):
        return no_update
    return search_string(lang, kommun=code)
