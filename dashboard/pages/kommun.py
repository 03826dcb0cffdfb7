"""/kommun/<code> – the Balansen scorecard of one municipality (the four perspectives of Göteborg's Balansen).

All data comes from dashboard.data.scorecard_data (two point reads of the scorecard marts plus small
lookups); this module only turns it into components."""
from __future__ import annotations

import functools
from urllib.parse import unquote

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from dashboard import components as C
from dashboard.data import (PERSPECTIVES, first, get_db, panel_counts, panel_rows, panel_target_counts,
                            scorecard_data, scorecard_years, valid_code)
from dashboard.scorecard_rules import ANCHOR as RULES_ANCHOR
from dashboard.scorecard_rules import (band_icon, band_text, place_text, rule_section, target_icon,
                                       target_summary, target_text, target_words)
from dashboard.data import FACTORS_FOR
from dashboard.i18n import (factor_name, factor_text, get_lang, href, perspective_label, request_lang, search_string,
                           size_group_label, t, trend_label)
from dashboard.urlcheck import year_notice
from styrkort import formats


def _title(code=None, **_):
    lang = request_lang()
    page = t("kommun_tab", lang, code=code) if valid_code(code) else t("municipality", lang)
    return t("page_title", lang, page=page)


dash.register_page(__name__, path_template="/kommun/<code>", title=_title, name="Kommun",
                   order=1)

# -- small pieces -----------------------------------------------------------------------------------

def not_found(code, lang):
    # the pathname arrives percent-encoded; show what the user typed (as text, never HTML)
    shown = unquote(str(first(code) or ""))[:40]
    title = t("kommun_unknown_code", lang, code=shown)
    text = t("kommun_unknown_code_text", lang)
    return html.Div([
        html.H1(title, className="h2"),
        html.P(text),
        dcc.Link(t("kommun_search_link", lang), href=href("/", lang), className="btn btn-primary"),
    ], className="sk-not-found py-4")


def _rank_text(rank, n, lang):
    if rank is None:
        return t("missing", lang)
    return t("rank_of", lang, rank=int(rank), n=int(n)) if n else str(int(rank))


def _header_figures(d, lang):
    comp, unc, cost, pop = d["composite"], d["uncertainty"], d["cost"], d["population"]
    items = []
    # composite index
    if comp:
        comp_dd = [formats.number(comp.get("composite"), 2, lang), " ",
                   C.index_demo_label(comp, lang)]
        items += [html.Dt([t("kommun_composite", lang)]), html.Dd(comp_dd)]
        rank_dd = [_rank_text(comp.get("rank"), comp.get("n"), lang)]
        if comp.get("group_rank") is not None:
            rank_dd.append(html.Div(
                f"{_rank_text(comp.get('group_rank'), comp.get('group_n'), lang)} "
                f"{t('kommun_in_group', lang)}", className="small"))
        if unc and unc.get("rank_p05") is not None:
            rank_dd.append(html.Div(t(
                "kommun_rank_interval", lang,
                lo=formats.number(unc["rank_p05"], 0, lang), hi=formats.number(unc["rank_p95"], 0, lang),
                med=formats.number(unc["rank_median"], 0, lang)), className="small"))
        elif "rank_uncertainty" in d["missing"]:
            rank_dd.append(html.Div(t("kommun_interval_missing", lang), className="small sk-missing"))
        items += [html.Dt(t("kommun_rank", lang, year=comp.get("year"))), html.Dd(rank_dd)]
    else:
        items += [html.Dt(t("kommun_composite", lang)),
                  html.Dd(t("not_computed", lang), className="sk-missing")]
    # cost deviation
    if cost and cost.get("deviation_pct") is not None:
        dev = cost["deviation_pct"]
        sign = "+" if dev > 0 else ""
        method = t("modelled", lang) if cost.get("method") == "modelled" else t("official", lang)
        items += [html.Dt(t("kommun_cost", lang, year=cost.get("year"))),
                  html.Dd([f"{sign}{formats.percent(dev, 1, lang)} ",
                           html.Span(f"({method})", className="badge text-bg-light border",
                                     title=cost.get("source") or None, lang="sv" if cost.get("source") else None),
                           html.Div(t("kommun_cost_detail", lang,
                                      net=formats.kr(cost.get("net_cost"), 0, lang),
                                      std=formats.kr(cost.get("standard_cost"), 0, lang)),
                                    className="small")])]
    else:
        items += [html.Dt(t("kommun_cost", lang, year="")),
                  html.Dd(t("not_computed", lang) if "cost_deviation" in d["missing"]
                          else t("missing", lang), className="sk-missing")]
    # grants: per year as the grant_uptake_by_year mart gives them (sums and share computed there)
    by_year = d.get("grant_years")
    known = [g for g in by_year or [] if g.get("data_level") == "municipality"]
    unknown_years = [str(g["year"]) for g in by_year or [] if g.get("data_level") != "municipality"]
    if known:
        dd = [html.Div(t("kommun_grants_summary", lang, years=g["year"], applied=g["rounds_applied"],
                         rounds=g["rounds_with_data"], granted=formats.kr(g["granted_sek"], 0, lang),
                         share=formats.percent(100 * g["uptake_share"], 0, lang)
                         if g.get("uptake_share") is not None else t("missing", lang)),
                       className="sk-grant-year")
              for g in known]
        if unknown_years:
            dd.append(html.Div(t("kommun_grants_unknown", lang, years=", ".join(unknown_years)),
                               className="small"))
        items += [html.Dt(t("kommun_grants", lang)), html.Dd(dd)]
    else:
        items += [html.Dt(t("kommun_grants", lang)),
                  html.Dd(t("not_computed", lang) if by_year is None else t("missing", lang),
                          className="sk-missing")]
    return html.Dl(items, className="sk-header-figures row row-cols-1 row-cols-md-2 mb-0")


# Badges depend only on (status/verdict, lang): built once per process and shared by every row
# and page (a component is only read when the layout is serialised): at 40–80 rows a page this
# spares hundreds of component constructions per request.
@functools.lru_cache(maxsize=64)
def _band_badge(band, lang, info=False):
    """'▲ bland de 25 % bästa' for a band code; 'middle50' of a KPI without direction is hollow."""
    icon, cls = band_icon(band, info)
    return html.Span([html.Span(icon, className="sk-status-icon", **{"aria-hidden": "true"}),
                      " ", band_text(band, lang)], className=f"sk-status {cls}")


def _position_cell(k, scope, lang):
    """Band badge and place among all municipalities (scope 'national') or in the size group
    ('group'); a KPI without direction gets the band as information ('högst först')."""
    band, rank = k[f"{scope}_band"], k[f"{scope}_rank"]
    if rank is None:
        return _missing(lang)
    info = k["higher_is_better"] is None
    place = place_text(rank, k[f"{scope}_tied"], k[f"{scope}_n"], lang)
    if info:
        place = f"{place} {t('kommun_place_info', lang)}"
    return [_band_badge(band, lang, info), html.Div(place, className="small")]


@functools.lru_cache(maxsize=64)
def _trend_badge(verdict, lang):
    return C.trend_badge(verdict, lang)


@functools.lru_cache(maxsize=4)
def _demo_badge(lang):
    return C.demo_badge(lang)


@functools.lru_cache(maxsize=4)
def _missing(lang):
    return html.Span(t("missing", lang), className="sk-missing")


def _kpi_row(k, lang):
    unit = k["unit"]
    title_cell = [html.Span(k["title"], className="fw-semibold", lang="sv")]
    if k["is_demo"]:
        title_cell += [" ", _demo_badge(lang)]
    title_cell.append(C.source_caption(C.stored_text(k["source"]), int(k["year"]) if k["value"] is not None else None,
                                       lang))
    if k["value"] is not None:
        # the year beside every value: on "senaste" each KPI has its own latest year
        value_cell = [html.Span(C.fmt_value(k["value"], unit, lang), className="sk-kpi-value"),
                      html.Div(str(int(k["year"])), className="small text-body-secondary sk-kpi-year")]
        if k["target"] is not None:   # the committee's target for the same year, beside the value
            value_cell.append(_target_line(k, unit, lang))
    else:
        value_cell = [_missing(lang)]
        if k["last_value"] is not None:
            value_cell.append(html.Div(t("kommun_latest", lang, value=C.fmt_value(k["last_value"], unit, lang),
                                         year=int(k["last_year"])), className="small"))
    return html.Tr([
        html.Th(title_cell, scope="row", className="fw-normal"),
        html.Td(value_cell),
        html.Td(C.fmt_value(k["group_mean"], unit, lang) if k["group_mean"] is not None
                else _missing(lang)),
        html.Td(C.fmt_value(k["national_mean"], unit, lang) if k["national_mean"] is not None
                else _missing(lang)),
        html.Td(_similar_cell(k, unit, lang)),
        html.Td(_position_cell(k, "national", lang) if k["value"] is not None else _missing(lang),
                className="sk-position"),
        html.Td(_trend_badge(k["trend"], lang)),
        html.Td(_position_cell(k, "group", lang) if k["value"] is not None else _missing(lang),
                className="sk-position"),
        html.Td(C.sparkline(k["spark_years"], k["spark_values"], lang, label=k["title"], unit=unit)),
    ])


# -- the same rows as markup (what the browser gets; ~3x faster than building the components) -------
# kpi_rows_html writes exactly what freezing C.stack_labels([_kpi_row(...)]) writes (a test parses
# both for many municipalities, years and both languages); parts that are the same for many rows
# (badges, a series' sparkline) are written once from their components.

def _markup(component) -> str:
    from dashboard.static_html import _visit
    return _visit(component, frozenset()).html


@functools.lru_cache(maxsize=256)
def _badge_html(kind: str, a, lang: str) -> str:
    if kind == "demo":
        return _markup(_demo_badge(lang))
    if kind == "missing":
        return _markup(_missing(lang))
    if kind == "trend":
        return _markup(_trend_badge(a, lang))
    band, info = a
    return _markup(_band_badge(band, lang, info))


def _e(text) -> str:
    from html import escape
    return escape(str(text), quote=False)


def _position_html(k, scope, lang) -> str:
    band, rank = k[f"{scope}_band"], k[f"{scope}_rank"]
    if rank is None:
        return _badge_html("missing", None, lang)
    info = k["higher_is_better"] is None
    place = place_text(rank, k[f"{scope}_tied"], k[f"{scope}_n"], lang)
    if info:
        place = f"{place} {t('kommun_place_info', lang)}"
    return _badge_html("band", (band, info), lang) + f'<div class="small">{_e(place)}</div>'


def _similar_html(k, unit, lang) -> str:
    """_similar_cell as markup."""
    if k["value"] is None or k["similar_mean"] is None:
        return _badge_html("missing", None, lang)
    out = _e(C.fmt_value(k["similar_mean"], unit, lang))
    if k["similar_n"] is not None and k["similar_n"] < SIMILAR_K:
        out += f'<div class="small">{_e(t("kommun_similar_n", lang, n=k["similar_n"], k=SIMILAR_K))}</div>'
    return out


def _kpi_row_html(k, labels: list[str], lang) -> str:
    from html import escape
    unit, missing = k["unit"], _badge_html("missing", None, lang)
    value = k["value"] is not None
    title = f'<span class="fw-semibold" lang="sv">{_e(k["title"])}</span>'
    if k["is_demo"]:
        title += " " + _badge_html("demo", None, lang)
    src = k["source"]
    src = (f'<span lang="sv">{_e(src)}</span>' if src is not None and src == src and src != ""
           else _e(t("missing", lang)))          # as C.source_caption(C.stored_text(...)) writes it
    year = f', {_e(t("year", lang).lower())} {int(k["year"])}' if value else ""
    title += f'<small class="sk-source text-body-secondary">{_e(t("source", lang))}: {src}{year}</small>'

    if value:
        cell = (f'<span class="sk-kpi-value">{_e(C.fmt_value(k["value"], unit, lang))}</span>'
                f'<div class="small text-body-secondary sk-kpi-year">{int(k["year"])}</div>')
        if k["target"] is not None:
            cell += _markup(_target_line(k, unit, lang))
    else:
        cell = missing
        if k["last_value"] is not None:
            cell += '<div class="small">' + _e(t("kommun_latest", lang, value=C.fmt_value(k["last_value"], unit, lang),
                                                 year=int(k["last_year"]))) + "</div>"
    cells = [
        ("th", ' scope="row" class="fw-normal"', title),
        ("td", "", cell),
        ("td", "", _e(C.fmt_value(k["group_mean"], unit, lang)) if k["group_mean"] is not None else missing),
        ("td", "", _e(C.fmt_value(k["national_mean"], unit, lang)) if k["national_mean"] is not None else missing),
        ("td", "", _similar_html(k, unit, lang)),
        ("td", ' class="sk-position"', _position_html(k, "national", lang) if value else missing),
        ("td", "", _badge_html("trend", k["trend"], lang)),
        ("td", ' class="sk-position"', _position_html(k, "group", lang) if value else missing),
        ("td", "", _markup(C.sparkline(k["spark_years"], k["spark_values"], lang, label=k["title"], unit=unit))),
    ]
    return "<tr>" + "".join(f'<{tag}{attrs} data-label="{escape(str(label))}">{inner}</{tag}>'
                            for (tag, attrs, inner), label in zip(cells, labels)) + "</tr>"


def kpi_rows(rows, head, lang):
    """The panel's body rows: markup for the browser, the components (C.stack_labels of
    _kpi_row) built only when something reads them (tests, the layout helpers)."""
    from dashboard.static_html import StaticHtml
    return StaticHtml("tbody", {}, "".join(_kpi_row_html(r, head, lang) for r in rows),
                      source=lambda: html.Tbody(C.stack_labels([_kpi_row(r, lang) for r in rows], head)))


def _target_line(k, unit, lang):
    """'mål 90,0 %' and '✓ uppnått' (icon + text) under the value; demo targets say so."""
    icon, cls = target_icon(k["target_status"])
    head = [t("target_label", lang, target=C.fmt_value(k["target"], unit, lang))]
    if k["target_is_demo"]:
        head += [" ", _demo_badge(lang)]
    words = target_words({**k, "unit": unit}, lang)
    return html.Div([html.Span(head), " ",
                     html.Span([html.Span(words[:1], className="sk-status-icon", **{"aria-hidden": "true"}),
                                words[1:]], className=f"sk-status {cls}")],
                    className="small sk-target", title=k["target_decided_by"] or None)


def _similar_cell(k, unit, lang):
    """Mean of the similar municipalities the same year; 'n av 7' when some lack a value."""
    if k["value"] is None or k["similar_mean"] is None:
        return _missing(lang)
    out = [C.fmt_value(k["similar_mean"], unit, lang)]
    if k["similar_n"] is not None and k["similar_n"] < SIMILAR_K:
        out.append(html.Div(t("kommun_similar_n", lang, n=k["similar_n"], k=SIMILAR_K), className="small"))
    return out


def _similar_list(d, lang):
    """'Liknande kommuner (struktur 2011): Stockholm, Malmö, …' with links to their scorecards."""
    if not d.get("similar"):
        return None
    parts = []
    for year, munis in d["similar"]:
        links = []
        for i, (code, name) in enumerate(munis):
            links += ([", "] if i else []) + [dcc.Link(name, href=href(f"/kommun/{code}", lang))]
        parts.append(html.P([html.Strong(t("kommun_similar_title", lang, year=year)), " ", *links],
                            className="small mb-1 sk-similar-list"))
    parts.append(html.P([t("kommun_similar_how", lang), " ",
                         dcc.Link(t("kommun_similar_more", lang), href=href("/om", lang) + "#liknande-kommuner")],
                        className="small text-body-secondary mb-0"))
    return html.Div(parts, className="mt-2")


def _weak(counts: dict | None) -> bool:
    """A perspective is weak when at least half of its rated KPIs (with direction and a
    quartile) are among the worst 25 % of all municipalities (scorecard_status_counts)."""
    if not counts:
        return False
    rated = counts["best"] + counts["middle"] + counts["worst"]
    return rated >= 2 and counts["worst"] * 2 >= rated


def _success_factor_box(perspective, lang):
    items = []
    for n in FACTORS_FOR[perspective]:
        items.append(html.Li([html.Strong(f"{factor_name(n, lang)}: "), factor_text(n, lang)]))
    return dbc.Alert([
        html.H3(t("kommun_weak_title", lang), className="h6"),
        html.P(t("kommun_weak_text", lang), className="mb-1"),
        html.Ul(items, className="mb-1"),
        dcc.Link(t("kommun_weak_more", lang), href=href("/om", lang) + "#framgangsfaktorer"),
    ], color="warning", className="mt-2 mb-0 sk-success-factors")


# A perspective with up to MAX_ROWS KPIs shows them all; a longer one (an imported Kolada
# catalogue can hold hundreds) shows its first SHORT_ROWS, values first, with a link to ?alla=1.
# Every row costs ~0.3 ms of components and sparkline on the server, so this bounds the
# scorecard callback (issue 4: p95 <= 50 ms at Kolada scale); the embedded default has at most
# 17 KPIs a perspective and always shows all.
MAX_ROWS = 20
SHORT_ROWS = 10
SIMILAR_K = 7        # similar municipalities per municipality (pipelines/similar.py)
LATEST = "senaste"   # the year selector's value for "each KPI's latest year" (the default)


def panel_summary(counts: dict | None, lang: str):
    """The panel's summary line from the scorecard_status_counts mart (the nämndrapport PDF prints
    the same counts): 'N nyckeltal. Bland alla kommuner: …'; without the mart a clear message."""
    if counts is None:
        return C.mart_missing("scorecard_status_counts", lang)
    return html.P(t("kommun_panel_summary", lang, **counts), className="small mb-2")


def _panel(perspective, rows, lang, code=None, show_all=False, year=None, counts=None, goal_counts=None):
    head = [t("kommun_col_kpi", lang), t("kommun_col_value", lang), t("kommun_col_group", lang),
            t("kommun_col_nation", lang), t("kommun_col_similar", lang), t("kommun_col_status", lang),
            t("trend", lang),
            t("kommun_col_rank", lang), t("kommun_col_spark", lang)]
    pid = f"persp-{perspective}"
    body = [html.H2(perspective_label(perspective, lang), id=pid, className="card-title")]
    if not rows:
        body.append(C.empty_state(t("kommun_no_kpis", lang)))
    else:
        body.append(panel_summary(counts, lang))
        goals = target_summary(goal_counts, lang)   # the mart's counts, the same words as the PDF
        if goals:
            body.append(html.P(goals, className="small mb-2 fw-semibold sk-target-summary"))
        # KPIs with a value this year first; long lists are cut (the download has them all)
        ordered = [r for r in rows if r["value"] is not None] + [r for r in rows if r["value"] is None]
        shown = ordered if show_all or len(ordered) <= MAX_ROWS else ordered[:SHORT_ROWS]
        body.append(html.Div(html.Table([
            html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
            kpi_rows(shown, head, lang),
        ], className="table table-sm sk-kpi-table sk-stack mb-0"), className="table-responsive",
            # a table wider than the screen scrolls: reachable and named for keyboard users
            # (below 768 px it stacks into cards instead: sk-stack in styrkort.css)
            tabIndex="0", role="region",
            **{"aria-label": t("kommun_table_label", lang, perspective=perspective_label(perspective, lang))}))
        if len(shown) < len(ordered) and code:
            body.append(html.P([t("kommun_shown", lang, shown=len(shown), n=len(ordered)), " ",
                                dcc.Link(t("kommun_show_all", lang),
                                         href=href(f"/kommun/{code}", lang, year=year, alla=1))],
                               className="mt-2 mb-0 small"))
        if _weak(counts):
            body.append(_success_factor_box(perspective, lang))
        with_values = [r["kpi_id"] for r in rows if r["spark_values"]]
        if code and with_values:
            body.append(html.P(dcc.Link(
                t("kommun_panel_trends", lang, perspective=perspective_label(perspective, lang).lower()),
                href=href("/trender", lang, code=code, kpis=",".join(with_values[:8]))),
                className="mt-2 mb-0"))
    return html.Section(dbc.Card(dbc.CardBody(body), className="sk-perspective h-100"),
                        className="mb-3", **{"aria-labelledby": pid})


def _units_section(d, lang):
    units = d["units"]
    if not units:
        return None
    items = []
    for u in units:
        others = [o for o in units if o["unit_id"] != u["unit_id"] and o["kind"] == u["kind"]]
        link = (dcc.Link(t("kommun_compare_unit", lang, other=others[0]["name"]),
                         href=href("/jamfor", lang, unit_a=u["unit_id"], unit_b=others[0]["unit_id"]),
                         className="ms-2") if others else None)
        kind = t(f"kind_{u['kind']}", lang)
        items.append(html.Li([dcc.Link(u["name"], href=href(f"/enhet/{u['unit_id']}", lang),
                                       className="fw-semibold"), f" ({kind}) ",
                              C.demo_badge(lang) if u.get("is_demo") else None, link]))
    return html.Section([html.H2(t("kommun_units", lang), className="h4"),
                         html.P(t("kommun_units_text", lang)),
                         html.Ul(items),
                         dcc.Link(t("kommun_all_units", lang), href=href("/enheter", lang, kommun=d["code"]))],
                        className="mb-4")


GRANT_COLS = [("round", "grant_round", "text"), ("pot", "grant_pot", "int"),
              ("applied", "grant_applied", "bool"), ("frame_sek", "grant_frame", "kr"),
              ("granted_sek", "grant_granted", "kr"), ("paid_sek", "grant_paid", "kr"),
              ("returned_sek", "grant_returned", "kr"), ("uptake_pct", "grant_uptake", "percent")]


def grant_download(d: dict, lang: str) -> C.ServerTable:
    """The grant history as downloaded (raw values; table_file rounds and labels them)."""
    df = pd.DataFrame(d["grants"])
    cols = [C.col(c, t(k, lang), "share" if c == "uptake_pct" else kind, 0)
            for c, k, kind in GRANT_COLS] + [C.col("source", t("source", lang))]
    df["uptake_pct"] = df["uptake_share"]
    rounds = [str(r) for r in df["round"]]
    df["year"] = [int(r[:4]) for r in rounds]   # the round's year ('2013:1' -> 2013)
    cols.insert(1, C.col("year", t("year", lang), "int"))
    meta = C.download_meta(C.file_stem("statsbidrag", d["code"]), "; ".join(sorted(set(df["source"].dropna()))),
                           f"{rounds[0][:4]}–{rounds[-1][:4]}" if rounds else None, demo=False,
                           title=f"{t('kommun_grant_history', lang)}: {d['municipality']['name']}")
    return C.ServerTable(df, cols, meta)


def _grant_table(d, lang):
    grants = d["grants"]
    if not grants:
        return None
    head = [t(k, lang) for _, k, _ in GRANT_COLS]
    body = []
    for g in grants:
        g = dict(g, uptake_pct=None if g.get("uptake_share") is None else 100 * g["uptake_share"])
        cells = []
        for col, _, kind in GRANT_COLS:
            v = g.get(col)
            if v is None and col != "round":
                cells.append(html.Td(t("missing", lang), className="sk-missing"))
            else:
                cells.append(html.Td(C.fmt_kind(v, kind, lang, 0)))
        body.append(html.Tr(cells))
    sources = sorted({str(g.get("source")) for g in grants if g.get("source")})
    years = sorted({str(g["round"])[:4] for g in grants})
    # rounds with round totals only: said once, from the catalogue (the source stays a source)
    unknown = sorted({str(g["round"])[:4] for g in grants if g.get("data_level") != "municipality"})
    return html.Section([
        html.H2(t("kommun_grant_history", lang), className="h4", id="kommun-grants"),
        html.Div(html.Table([html.Thead(html.Tr([html.Th(h, scope="col") for h in head])),
                             html.Tbody(C.stack_labels(body, head))], className="table table-sm sk-stack"),
                 className="table-responsive"),
        C.download_buttons("kommun-bidrag", [d["code"]], lang, t("kommun_grant_history", lang)),
        C.source_caption(C.stored_text("; ".join(sources)) if sources else t("kommun_grants_source", lang),
                         "–".join(dict.fromkeys([years[0], years[-1]])), lang,
                         extra=t("kommun_grants_unknown", lang, years=", ".join(unknown)) if unknown else None),
    ], className="mb-4", **{"aria-labelledby": "kommun-grants"})


def scorecard_download(d: dict, lang: str) -> C.ServerTable:
    """All KPIs of the scorecard as downloaded: raw values, rounded by table_file as the
    panels show them; each row's year and demo flag."""
    rows = []
    for r in d["kpi_rows"]:
        has = r["value"] is not None
        rows.append({
            "perspective": perspective_label(r["perspective"], lang), "title": r["title"],
            "unit": r["unit"], "year": r["year"] if has else None, "value": r["value"],
            "group_mean": r["group_mean"], "national_mean": r["national_mean"],
            "similar_mean": r["similar_mean"] if has else None, "similar_n": r["similar_n"] if has else None,
            "target": r["target"] if has else None,
            "target_status": target_text({**r, "unit": r["unit"]}, lang) if has and r["target"] is not None else "",
            "status": (band_text(r["status"], lang) if r["status"] != "no_direction" or not r["national_band"]
                       else f"{band_text(r['national_band'], lang)} ({t('status_no_direction', lang)})")
            if has else t("missing", lang),
            "national_rank": r["national_rank"], "national_tied": r["national_tied"],
            "national_n": r["national_n"],
            "group_band": band_text(r["group_band"], lang) if has else t("missing", lang),
            "group_rank": r["group_rank"], "group_tied": r["group_tied"], "group_n": r["group_n"],
            "trend": trend_label(r["trend"], lang) if r["trend"] else t("missing", lang),
            "is_demo": bool(r["is_demo"]), "source": r["source"]})
    cols = [C.col("perspective", t("kommun_col_persp", lang)), C.col("title", t("kommun_col_kpi", lang)),
            C.col("unit", t("unit", lang)), C.col("year", t("year", lang), "int"),
            C.col("value", t("kommun_col_value", lang), "auto"),
            C.col("group_mean", t("kommun_col_group", lang), "auto"),
            C.col("national_mean", t("kommun_col_nation", lang), "auto"),
            C.col("similar_mean", t("kommun_col_similar", lang), "auto"),
            C.col("similar_n", t("kommun_col_similar_n", lang), "int"),
            C.col("target", t("kommun_col_target", lang), "auto"),
            C.col("target_status", t("kommun_col_target_status", lang)),
            C.col("status", t("kommun_col_status", lang)),
            C.col("national_rank", t("kommun_col_national_rank", lang), "int"),
            C.col("national_tied", t("kommun_col_tied", lang), "int"),
            C.col("national_n", t("kommun_col_national_n", lang), "int"),
            C.col("group_band", t("kommun_col_rank", lang)),
            C.col("group_rank", t("kommun_col_group_rank", lang), "int"),
            C.col("group_tied", t("kommun_col_group_tied", lang), "int"),
            C.col("group_n", t("kommun_col_group_n", lang), "int"),
            C.col("trend", t("trend", lang)), C.col("source", t("source", lang))]
    years = sorted({r["year"] for r in rows if r["year"] is not None})
    span = d["year"] or (f"{years[0]}–{years[-1]}" if len(years) > 1 else (years[0] if years else None))
    meta = C.download_meta(C.file_stem("styrkort", d["code"], d["year"] or LATEST),
                           "; ".join(sorted({str(r["source"]) for r in rows if r["source"]})),
                           span, demo="is_demo",
                           title=f"{d['municipality']['name']}: {t('kommun_all_kpis', lang)}")
    return C.ServerTable(pd.DataFrame(rows), cols, meta)


@C.server_download("kommun-styrkort")
def _download_scorecard(args, lang):
    code, year = (args + [None, None])[:2]
    d = scorecard_data(get_db(), code, year, lang)   # validates code and year again
    if not d["found"]:
        return None
    return scorecard_download(d, lang)


@C.server_download("kommun-bidrag")
def _download_grants(args, lang):
    d = scorecard_data(get_db(), (args or [None])[0], None, lang)
    if not d["found"] or not d["grants"]:
        return None
    return grant_download(d, lang)


# -- what would move the rank (marts index_contributions, index_whatif) --------------------------------

def waterfall_steps(w: dict, lang: str) -> list[tuple[str, float, str]]:
    """The composite as a waterfall: the group-median baseline, each area's contribution, the
    composite (components.waterfall_svg draws it; every bar carries its value as text)."""
    c = w["contributions"]
    return ([(t("whatif_baseline", lang), c[0]["baseline"], "absolute")]
            + [(r["area"], r["contribution"], "relative") for r in c]
            + [(t("kommun_composite", lang), c[0]["composite"], "total")])


def _whatif_sentence(r, lang, db):
    kpi = db.kpi(r["kpi_id"]) or {"title": r["kpi_id"], "unit": None}
    key = "whatif_median" if r["scenario"] == "group_median" else "whatif_quartile"
    text = t(key, lang, kpi=kpi["title"], value=C.fmt_value(r["target_value"], kpi.get("unit"), lang),
             now=C.fmt_value(r["value"], kpi.get("unit"), lang), rank=int(r["rank"]), new=int(r["new_rank"]))
    if r["group_rank"] is not None and r["new_group_rank"] is not None:
        text += " " + t("whatif_group", lang, rank=int(r["group_rank"]), new=int(r["new_group_rank"]))
    return text


def _whatif_section(d, lang):
    w = d.get("whatif")
    if not w:
        return None
    comp = d["composite"] or {}
    demo = any(r["is_demo"] for r in w["contributions"])
    c = w["contributions"]
    table = html.Table([
        html.Caption(t("whatif_table_caption", lang), className="visually-hidden"),
        html.Thead(html.Tr([html.Th(h, scope="col") for h in (
            t("whatif_col_area", lang), t("whatif_col_share", lang), t("whatif_col_score", lang),
            t("whatif_col_median", lang), t("whatif_col_contribution", lang))])),
        html.Tbody([html.Tr([html.Th(r["area"], scope="row", className="fw-normal"),
                             html.Td(formats.percent(100 * r["weight_share"], 0, lang)),
                             html.Td(formats.number(r["score"], 2, lang)),
                             html.Td(formats.number(r["group_median_score"], 2, lang)),
                             html.Td(("+" if r["contribution"] > 0 else "") + formats.number(r["contribution"], 2, lang))])
                    for r in c]),
    ], className="table table-sm mb-0")
    top = w["top"]
    db = get_db()
    moves = (html.Ol([html.Li(_whatif_sentence(r, lang, db)) for r in top], className="mb-2 sk-whatif-list")
             if top else html.P(t("whatif_none", lang)))
    label = t("whatif_graph_alt", lang, year=w["year"], base=formats.number(c[0]["baseline"], 2, lang),
              total=formats.number(c[0]["composite"], 2, lang))
    return html.Section([
        # labelled as modelled arithmetic (a what-if), never as a measured figure
        html.H2([t("whatif_title", lang), " ",
                 html.Span(t("whatif_badge", lang), className="badge text-bg-secondary fw-normal sk-whatif-badge"),
                 " ", _demo_badge(lang) if demo else None], id="kommun-whatif", className="h4"),
        html.P(t("whatif_lead", lang, year=w["year"], rank=comp.get("rank"), n=comp.get("n"),
                 grank=comp.get("group_rank"), gn=comp.get("group_n"))),
        dbc.Row([
            dbc.Col([html.Div(C.waterfall_svg(waterfall_steps(w, lang), lang, t("whatif_axis", lang), label),
                              className="sk-graph mb-1"),
                     html.Small(t("whatif_waterfall_note", lang), className="sk-source text-body-secondary d-block"),
                     html.Details([html.Summary(t("whatif_as_table", lang)),
                                   html.Div(table, className="table-responsive", tabIndex="0", role="region",
                                            **{"aria-label": t("whatif_table_caption", lang)})])], lg=6),
            dbc.Col([html.H3(t("whatif_top_title", lang), className="h5"), moves,
                     html.P([html.Strong(t("whatif_not_causal_h", lang)), " ", t("whatif_not_causal", lang), " ",
                             dcc.Link(t("whatif_method_link", lang), href=href("/om", lang) + "#vad-flyttar-rangen")],
                            className="small sk-whatif-note")], lg=6),
        ]),
    ], className="mb-4", **{"aria-labelledby": "kommun-whatif"})


# -- targets: the section with the template ------------------------------------------------------------
# The template lists every KPI of the scorecard with the importer's own column names
# (warehouse/importers/targets.py), prefilled with the targets already stored; the last four
# columns are information the importer ignores.
TEMPLATE_COLUMNS = ("municipality_code", "kpi_id", "year", "target", "unit_id", "tolerance", "decided_by",
                    "comment", "kpi_title", "unit", "latest_year", "latest_value")


def _targets_section(d, lang):
    n = sum(1 for r in d["kpi_rows"] if r["target"] is not None)
    return html.Section([
        html.H2(t("kommun_targets_h", lang), id="kommun-targets", className="h4"),
        html.P(t("kommun_targets_text", lang, n=n)),
        C.download_buttons("kommun-malmall", [d["code"]], lang, t("kommun_targets_template", lang)),
    ], className="mb-4", **{"aria-labelledby": "kommun-targets"})


def target_template(d: dict, lang: str) -> C.ServerTable:
    """The target template of one municipality (CSV or Excel through the one download helper)."""
    rows = []
    for r in d["kpi_rows"]:
        year = r["year"] if r["value"] is not None else r["last_year"]
        own = r["target"] is not None and not r["target_is_demo"]
        rows.append({
            "municipality_code": d["code"], "kpi_id": r["kpi_id"], "year": year,
            # only the municipality's own targets are prefilled: demo targets never leave as real ones
            "target": r["target"] if own else None, "unit_id": "",
            "tolerance": None if not own or r["target_tolerance_default"] else r["target_tolerance"],
            "decided_by": (r["target_decided_by"] or "") if own else "", "comment": "",
            "kpi_title": r["title"], "unit": r["unit"] or "", "latest_year": r["last_year"],
            "latest_value": r["last_value"], "is_demo": bool(r["is_demo"])})
    # numbers stay numbers in Excel; a code with a leading zero stays text (an Excel number would
    # lose the zero), and the importer reads both
    kinds = {"municipality_code": "text" if str(d["code"]).startswith("0") else "int", "year": "int",
             "target": ("number", 4), "tolerance": ("number", 4), "latest_year": "int",
             "latest_value": ("number", 4)}

    def spec(c):
        kind = kinds.get(c, "text")
        return C.col(c, c, kind[0], decimals=kind[1]) if isinstance(kind, tuple) else C.col(c, c, kind)

    cols = [spec(c) for c in TEMPLATE_COLUMNS]
    # the demo column says which latest values are demo data (the importer ignores it)
    meta = C.download_meta(C.file_stem("malmall", d["code"]), None, None, demo="is_demo",
                           title=f"{d['municipality']['name']}: {t('kommun_targets_template', lang)}")
    return C.ServerTable(pd.DataFrame(rows, columns=[*TEMPLATE_COLUMNS, "is_demo"]), cols, meta)


@C.server_download("kommun-malmall")
def _download_template(args, lang):
    d = scorecard_data(get_db(), (args or [None])[0], None, lang)   # validates the code again
    if not d["found"]:
        return None
    return target_template(d, lang)


# -- the page -----------------------------------------------------------------------------------------

@C.safe_layout
def layout(code=None, year=None, lang=None, alla=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    code = unquote(str(first(code))) if code is not None else None
    d = scorecard_data(db, code, year, lang)
    if not d["found"]:
        return not_found(code, lang)
    page = render(d, lang, show_all=first(alla) == "1")
    notice = year_notice(year, d["years"], d["year"], lang)
    if notice is not None:
        page.children.insert(4, notice)  # under the header
    return page


def valid_years(db, params: dict) -> list[int] | None:
    """The years ?year= may name (dashboard.urlcheck): the municipality's scorecard years."""
    return scorecard_years(db, params.get("code"))


def render(d, lang, show_all=False):
    m, pop = d["municipality"], d["population"]
    size = size_group_label((pop or {}).get("size_group"), lang)
    facts = [m["county_name"], size]
    if pop and pop.get("population") is not None:
        facts.append(t("kommun_population", lang, pop=formats.number(pop["population"], 0, lang),
                       year=pop["year"]))
    years = d["years"]
    # "senaste" (each KPI's latest year) first, then any single year
    year_options = [{"label": t("kommun_year_latest", lang), "value": LATEST}] + [
        {"label": str(y), "value": y} for y in reversed(years)]
    year_select = C.labelled_select(
        "kommun-year", t("kommun_year_label", lang), year_options,
        LATEST if d["latest"] else d["year"], className="sk-year-select") if years else None

    # the plain rows, not d["kpis"].to_dict(): that alone took ~10 ms at ~550 KPIs; grouped
    # by the same function as the nämndrapport PDF
    rows_by = panel_rows(d)

    compare = dcc.Link(t("kommun_compare", lang), href=href("/jamfor", lang, a=d["code"]),
                       className="btn btn-outline-primary btn-sm")
    trends = dcc.Link(t("kommun_trends", lang), href=href("/trender", lang, code=d["code"]),
                      className="btn btn-outline-primary btn-sm")
    header = dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                html.H1(m["name"], className="h2 mb-1"),
                html.P(" · ".join(str(f) for f in facts), className="mb-1"),
                html.P([t("code", lang), f": {d['code']}"], className="small text-body-secondary mb-2"),
                html.Div([compare, " ", trends], className="d-flex gap-2 flex-wrap"),
                _similar_list(d, lang),
            ], md=5),
            dbc.Col(_header_figures(d, lang), md=7),
        ]),
        C.source_caption(C.stored_text(pop.get("population_source")) if pop else None, pop.get("year") if pop else None,
                         lang, extra=t("kommun_header_source", lang)) if pop else None,
    ]), className="mb-3")

    missing_note = None
    not_built = [v for v in d["missing"] if v in ("scorecard", "scorecard_series", "trends", "kpi_positions",
                                                   "target_status_counts")]
    if not_built:
        missing_note = C.mart_missing(", ".join(not_built), lang)

    return html.Div([
        dcc.Location(id="kommun-url", refresh="callback-nav"),
        dcc.Store(id="kommun-lang", data=lang),
        # the URL's language part ("" or "lang=en"), for the year selector (styrkort.js)
        dcc.Store(id="kommun-lang-query", data=search_string(lang).lstrip("?")),
        dcc.Store(id="kommun-all", data="1" if show_all else None),
        header,
        html.Div([html.P([t("kommun_lead_latest", lang) if d["latest"]
                          else t("kommun_lead", lang, year=d["year"]), " ",
                          html.A(t("kommun_rule_link", lang), href=f"#{RULES_ANCHOR}")],
                         className="mb-0 me-3"),
                  year_select], className="d-flex flex-wrap align-items-center justify-content-between mb-3"),
        missing_note,
        html.Div([_panel(p, rows_by.get(p, []), lang, d["code"], show_all, d["year"],
                         panel_counts(d, p), panel_target_counts(d, p)) for p in PERSPECTIVES]),
        _targets_section(d, lang),
        _whatif_section(d, lang),
        rule_section(lang, "h2"),
        html.Div([html.Span(t("kommun_download_all", lang), className="me-2"),
                  C.download_buttons("kommun-styrkort", [d["code"], d["year"] or LATEST], lang,
                                     t("kommun_all_kpis", lang))],
                 className="d-flex flex-wrap align-items-center gap-2 mb-4", id=f"styrkort-{d['code']}-download"),
        _units_section(d, lang),
        _grant_table(d, lang),
    ], className="sk-scorecard")


# the year into the URL in the browser (styrkort.js kommunYearSearch, as search_string words it):
# "senaste" is the default, a URL without ?year= (shareable, and the back button works); no
# round trip before the page router fetches the scorecard for that year
clientside_callback(
    ClientsideFunction(namespace="styrkort", function_name="kommunYearSearch"),
    Output("kommun-url", "search"), Input("kommun-year", "value"),
    State("kommun-lang-query", "data"), State("kommun-all", "data"), prevent_initial_call=True)
