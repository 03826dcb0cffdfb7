"""/enhet/<unit_id> – Balansen for one unit (Göteborg's model as Stockholm's 2005 follow-up report
describes it): the four perspectives with the latest month, the last 12 and 24 months as
sparklines, the unit against the median and range of the municipality's other units of the same
kind and against its targets, status as icon + text, missing months shown as missing.

Reads the unit marts only (pipelines/units.py via dashboard/units_view.py); the monthly rows
download as CSV/Excel."""
from __future__ import annotations

from urllib.parse import unquote

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashboard import components as C
from dashboard.data import PERSPECTIVES, first, get_db
from dashboard.i18n import get_lang, href, perspective_label, request_lang, t
from dashboard.units_view import (month_label, month_sparkline, status_counts, unit, unit_months, unit_summary,
                                   valid_unit_id)


def _title(unit_id=None, **_):
    lang = request_lang()
    return t("page_title", lang, page=t("enhet_tab", lang, unit_id=str(unit_id or "")[:64]))


dash.register_page(__name__, path_template="/enhet/<unit_id>", title=_title, name="Enhet")

_UNIT_STATUS = {
    # status -> (icon, css class): shapes differ, colour is never needed
    "better": ("▲", "sk-status-better"), "worse": ("▼", "sk-status-worse"), "same": ("●", "sk-status-same"),
    "no_direction": ("–", "sk-status-none"), "no_peers": ("–", "sk-status-none"), "missing": ("?", "sk-status-missing"),
}
_TARGET_STATUS = {"met": ("✔", "sk-status-better"), "near": ("◐", "sk-status-same"), "not_met": ("✖", "sk-status-worse")}
_TREND_ICONS = {"improving": "↗", "worsening": "↘", "no_change": "→", "no_direction": "·", "too_few": "·"}


def status_badge(status, lang):
    icon, cls = _UNIT_STATUS.get(status, _UNIT_STATUS["missing"])
    return html.Span([html.Span(icon, className="sk-status-icon", **{"aria-hidden": "true"}), " ",
                      t(f"enhet_status_{status if status in _UNIT_STATUS else 'missing'}", lang)],
                     className=f"sk-status {cls}")


def target_badge(status, lang):
    icon, cls = _TARGET_STATUS[status]
    return html.Span([html.Span(icon, className="sk-status-icon", **{"aria-hidden": "true"}), " ",
                      t(f"enhet_target_{status}", lang)], className=f"sk-status {cls}")


def not_found(unit_id, lang):
    shown = unquote(str(first(unit_id) or ""))[:64]
    return html.Div([
        html.H1(t("enhet_not_found_title", lang, unit_id=shown), className="h2"),
        html.P(t("enhet_not_found_text", lang)),
        dcc.Link(t("go_home", lang), href=href("/", lang), className="btn btn-primary"),
    ], className="sk-not-found py-4")


def _fmt(kpi, lang):
    return lambda v: C.fmt_value(v, kpi.get("unit"), lang)


def kpi_card(k: dict, lang: str):
    """One key figure: latest value and month, peers, status, target, 12-month trend, sparklines."""
    fmt = _fmt(k, lang)
    title = [html.Span(k["title"], lang="sv")] + ([" ", C.demo_badge(lang)] if k.get("kpi_is_demo") else [])
    value = k.get("value")
    when = month_label(k.get("value_period"), lang)
    rows = []
    if k.get("peer_n"):
        rows += [html.Dt(t("enhet_peers", lang, n=k["peer_n"])),
                 html.Dd(t("enhet_peer_range", lang, median=fmt(k["peer_median"]), lo=fmt(k["peer_min"]),
                           hi=fmt(k["peer_max"])))]
    else:
        rows += [html.Dt(t("enhet_peers_none_label", lang)), html.Dd(t("enhet_peers_none", lang))]
    rows += [html.Dt(t("enhet_status_label", lang)), html.Dd(status_badge(k.get("status"), lang))]
    if k.get("target") is not None:
        # the target is the committee's for the year of the month shown, judged against that month
        year = getattr(k.get("value_period"), "year", None)
        rows += [html.Dt(t("enhet_target_label_year", lang, year=year) if year else t("enhet_target_label", lang)),
                 html.Dd([fmt(k["target"]), " ",
                          target_badge(k["target_status"], lang) if k.get("target_status") else ""])]
    trend = k.get("trend")
    trend_text = t(f"enhet_trend_{trend}", lang)
    if trend in ("improving", "worsening", "no_change"):
        trend_text += " " + t("enhet_trend_means", lang, now=fmt(k["mean_12m"]), before=fmt(k["mean_prev_12m"]))
    rows += [html.Dt(t("enhet_trend_label", lang)),
             html.Dd([html.Span(_TREND_ICONS.get(trend, "·"), **{"aria-hidden": "true"}), " ", trend_text],
                     className="sk-trend")]
    periods, values, peers = k.get("spark_periods") or [], k.get("spark_values") or [], k.get("spark_peer_median") or []
    sparks = []
    for n_months in (12, 24):
        p, v, m = periods[-n_months:], values[-n_months:], peers[-n_months:]
        missing = sum(1 for x in v if x is None)
        label = t("enhet_spark_label", lang, n=n_months, title=k["title"])
        sparks.append(html.Figure([
            month_sparkline(p, v, m, lang, label, fmt),
            html.Figcaption([t("enhet_spark_caption", lang, n=n_months),
                             html.Br(), t("enhet_spark_missing", lang, missing=missing, n=len(p))
                             if missing else t("enhet_spark_complete", lang, n=len(p))],
                            className="small text-body-secondary"),
        ], className="sk-unit-spark mb-0"))
    return html.Article(dbc.CardBody([
        html.H3(title, className="h6 mb-1"),
        html.P([html.Span(fmt(value) if value is not None else t("missing", lang),
                          className="sk-kpi-value fs-4" if value is not None else "sk-missing fs-5"),
                " ", html.Span(when, className="small text-body-secondary")], className="mb-2"),
        html.Dl(rows, className="sk-unit-facts mb-2"),
        html.Div(sparks, className="d-flex flex-wrap gap-3 sk-unit-sparks"),
    ]), className=f"card h-100 sk-unit-kpi sk-unit-kpi-{k.get('status') or 'missing'}", id=f"enhet-kpi-{k['kpi_id']}")


def _panel(perspective: str, kpis: list[dict], counts: dict | None, lang: str):
    """One perspective's cards under the counts the pipelines stored (unit_status_counts)."""
    hid = f"enhet-persp-{perspective}"
    counts = counts or {}
    summary = t("enhet_panel_summary", lang, n=counts.get("n_kpis", 0), better=counts.get("n_better", 0),
                same=counts.get("n_same", 0), worse=counts.get("n_worse", 0),
                missing=counts.get("n_missing", 0)) if kpis else t("enhet_no_kpis", lang)
    body = html.Div([dbc.Col(kpi_card(k, lang)) for k in kpis], className="row row-cols-1 row-cols-lg-2 g-3") \
        if kpis else None
    return html.Section([
        html.H2(perspective_label(perspective, lang), id=hid, className="h4"),
        html.P(summary, className="small"),
        body,
    ], className="card card-body mb-3 sk-perspective", **{"aria-labelledby": hid})


def _months_table(db, u, lang):
    df = unit_months(db, u["unit_id"])
    if df is None or df.empty:
        return None
    df = df.copy()
    df["month"] = [month_label(p, lang) for p in df["period"]]
    df["period"] = [f"{p.year}-{p.month:02d}" for p in df["period"]]
    df["perspective_label"] = [perspective_label(p, lang) for p in df["perspective"]]
    df["status_text"] = [t(f"enhet_status_{s}", lang) for s in df["status"]]
    df["target_text"] = [t(f"enhet_target_{s}", lang) if s else "" for s in df["target_status"]]
    cols = [C.col("period", t("jamfor_month", lang)), C.col("perspective_label", t("kommun_col_persp", lang)),
            C.col("title", t("kommun_col_kpi", lang), flex=3, text_lang="sv"), C.col("unit", t("unit", lang)),
            C.col("value", t("kommun_col_value", lang), "number", 1),
            C.col("peer_median", t("enhet_col_median", lang), "number", 1),
            C.col("peer_min", t("enhet_col_min", lang), "number", 1),
            C.col("peer_max", t("enhet_col_max", lang), "number", 1),
            C.col("peer_n", t("enhet_col_peer_n", lang), "int"),
            C.col("status_text", t("enhet_status_label", lang))]
    if df["target"].notna().any():     # targets only where a targets view gave the unit some
        cols += [C.col("target", t("enhet_target_label", lang), "number", 1),
                 C.col("target_text", t("enhet_col_target_status", lang))]
    cols.append(C.col("source", t("source", lang), text_lang="sv"))
    return C.table_with_downloads(
        f"enhet-{u['unit_id']}", df, cols, lang, caption=t("enhet_months_table", lang, name=u["name"]), page_size=24,
        download=C.download_meta(f"enhet-{u['unit_id']}", source=", ".join(sorted({str(s) for s in df["source"]
                                                                                  if s})),
                                 year=f"{df['period'].min()}–{df['period'].max()}",
                                 demo=bool(u.get("is_demo")), title=t("enhet_months_table", lang, name=u["name"])))


def _span(summary: list[dict], lang: str) -> str | None:
    """The months the shown values are from: 'oktober 2013–december 2013' or one month."""
    months = sorted(k["value_period"] for k in summary if k.get("value") is not None)
    if not months:
        return None
    lo, hi = month_label(months[0], lang), month_label(months[-1], lang)
    return lo if lo == hi else f"{lo}–{hi}"


@C.safe_layout
def layout(unit_id=None, lang=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    uid = unquote(str(first(unit_id) or ""))
    u = unit(db, uid) if valid_unit_id(uid) else None
    if u is None:
        return not_found(unit_id, lang)
    summary = unit_summary(db, uid)
    kind = t(f"kind_{u['kind']}", lang)
    facts = [kind, u.get("municipality_name") or u["municipality_code"]]
    if u.get("district"):
        facts.append(u["district"])
    if u.get("provider"):
        facts.append(t(f"provider_{u['provider']}", lang))
    header = html.Div([
        html.H1([u["name"], " ", C.demo_badge(lang) if u.get("is_demo") else None], className="h2 mb-1"),
        html.P(" · ".join(str(f) for f in facts), className="mb-1"),
        html.P([t("enhet_id", lang), f": {uid}"], className="small text-body-secondary mb-2"),
        html.Div([
            dcc.Link(t("enhet_all_units", lang, municipality=u.get("municipality_name") or ""),
                     href=href("/enheter", lang, kommun=u["municipality_code"]), className="btn btn-outline-primary btn-sm"),
            dcc.Link(t("enhet_compare", lang), href=href("/jamfor", lang, unit_a=uid),
                     className="btn btn-outline-primary btn-sm"),
            dcc.Link(t("enhet_municipality", lang, municipality=u.get("municipality_name") or ""),
                     href=href(f"/kommun/{u['municipality_code']}", lang), className="btn btn-outline-primary btn-sm"),
        ], className="d-flex gap-2 flex-wrap"),
    ], className="mb-3")
    if summary is None:
        return html.Div([header, C.mart_missing("unit_kpi_summary", lang)])
    if not summary:
        return html.Div([header, C.empty_state(t("enhet_no_values", lang))])
    counts = status_counts(db, unit_id=uid)
    if counts is None:
        return html.Div([header, C.mart_missing("unit_status_counts", lang)])
    current = summary[0]["current_period"]
    by_persp = {p: [k for k in summary if k.get("perspective") == p] for p in PERSPECTIVES}
    demo_note = html.P(t("enhet_demo_note", lang), className="small") if u.get("is_demo") else None
    sources = sorted({str(k["source"]) for k in summary if k.get("source")})
    return html.Div([
        header,
        html.P(t("enhet_lead", lang, month=month_label(current, lang), kind=kind,
                 municipality=u.get("municipality_name") or ""), className="mb-1"),
        html.P(t("enhet_legend", lang), className="small text-body-secondary"),
        demo_note,
        html.Div([_panel(p, by_persp[p], counts.get(p), lang) for p in PERSPECTIVES]),
        C.source_caption(C.stored_text(", ".join(sources)) if sources else None,
                         _span(summary, lang), lang),
        html.H2(t("enhet_months_title", lang), className="h5 mt-4"),
        _months_table(db, u, lang),
        html.P([t("enhet_templates_hint", lang), " ",
                dcc.Link(t("enhet_templates_link", lang), href=href("/enheter", lang, kommun=u["municipality_code"]))],
               className="small mt-3"),
    ], className="sk-unit-scorecard")
