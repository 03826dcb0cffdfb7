"""/statsbidrag — the performance grants for local dignity guarantees 2011–2013 (Socialstyrelsen 2014, status report on performance grants)
and Stockholm's return of unspent stimulus grant 2012–2013.

Per-municipality outcomes exist only for 2013 (Socialstyrelsen 2014, Bilaga 1); for 2011 and
2012 only round totals exist, and the page says so instead of showing invented zeros."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import components as C
from dashboard import figures as F
from dashboard.cache import per_warehouse
from dashboard.geo import geojson_url
from dashboard.data import first, get_db, valid_code
from dashboard.i18n import get_lang, href, page_title, search_string, size_group_label, t
from dashboard.static_html import staticize
from styrkort import formats
from styrkort.grant_texts import AGREEMENTS, CHECK_TEXTS, agreement_text, check_text, note_text  # noqa: F401

dash.register_page(__name__, path="/statsbidrag", title=page_title("nav_statsbidrag"), name="Statsbidrag",
                   charts=True)   # plotly.js loads with the page (plotly_bundle)

GEOJSON = Path(__file__).resolve().parents[2] / "warehouse" / "sources" / "swedish_municipalities.geojson"
ROUND_ORDER = ["2011:1", "2011:2", "2012", "2013:1", "2013:2"]


alert = C.alert


def _src(lang, which="000"):
    return t("src_stockholm_2014" if which == "001" else "src_socialstyrelsen_2014", lang)


def _round_coords(c, nd: int = 3):
    if isinstance(c, (list, tuple)):
        return [_round_coords(x, nd) for x in c]
    return round(c, nd) if isinstance(c, float) else c


@lru_cache(maxsize=1)
def geojson() -> dict:
    """Municipality polygons with coordinates rounded to 0,001° (about 100 m): the map is sent
    to the browser with the page, and this halves its size without a visible difference."""
    g = json.loads(GEOJSON.read_text(encoding="utf-8"))
    for f in g["features"]:
        f["geometry"]["coordinates"] = _round_coords(f["geometry"]["coordinates"])
        f["properties"] = {"id": f["properties"]["id"], "name": f["properties"].get("kom_namn")}
    return g


def _round_key(r):
    return ROUND_ORDER.index(r) if r in ROUND_ORDER else 99


# ---------------------------------------------------------------- pure transforms


def rounds_table(summary: pd.DataFrame, total_label: str) -> pd.DataFrame:
    """Tabell 2 as the grant_round_summary mart stores it (the rounds, then its total row with
    the summed amounts and the paid share): rounds in order, the total row labelled."""
    df = summary.assign(_k=summary["round"].map(_round_key), _t=summary["is_total"].astype(bool))
    df = df.sort_values(["_t", "_k", "pot"]).drop(columns=["_k", "_t"]).reset_index(drop=True)
    df["round"] = [total_label if tot else r for r, tot in zip(df["round"], df["is_total"])]
    df["performance_required"] = df["performance_required"].fillna("")
    return df


def _num(x, lang):
    """Amounts without decimals, ratios with three."""
    if x is None or pd.isna(x):
        return t("missing", lang)
    return formats.number(x, 0 if abs(x) >= 100 or float(x).is_integer() else 3, lang)


def reconciliation_display(d: pd.DataFrame, lang: str, name_of=lambda code: code) -> pd.DataFrame:
    d = d.copy()
    d["check_text"] = [check_text(c, lang, name_of) for c in d["check"]]
    d["expected_text"] = [_num(x, lang) for x in d["expected"]]
    d["actual_text"] = [_num(x, lang) for x in d["actual"]]
    d["difference_text"] = [(("+" if x > 0 else "") + _num(x, lang)) if x is not None and not pd.isna(x)
                            else t("missing", lang) for x in d["difference"]]
    d["agrees"] = [agreement_text(a, lang) for a in d["agreement"]]
    d["note_text"] = [note_text(n, v, lang) for n, v in zip(d["note"], d["note_values"])]
    return d


# ---------------------------------------------------------------- sections


def _rounds_block(db, lang):
    head = [html.H2(t("statsbidrag_rounds_h", lang), className="h4 mt-3")]
    r = db.query_view("grant_round_summary",
                      "SELECT round, pot, is_total, performance_required, announced_sek, paid_sek, paid_share, "
                      "municipalities_granted FROM grant_round_summary")
    if r is None:
        return html.Div(head + [C.mart_missing("grant_round_summary", lang)])
    if r.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    df = rounds_table(r, t("statsbidrag_total_row", lang))
    cols = [C.col("round", t("grant_round", lang)),
            C.col("performance_required", t("statsbidrag_requirement", lang), text_lang="sv"),
            C.col("announced_sek", t("statsbidrag_announced", lang), "kr"),
            C.col("paid_sek", t("grant_paid", lang), "kr"),
            C.col("paid_share", t("statsbidrag_share_paid", lang), "share", 0),
            C.col("municipalities_granted", t("statsbidrag_municipalities_granted", lang), "int")]
    return html.Div(head + [C.table_with_downloads("statsbidrag-rounds", df, cols, lang, download=C.download_meta(
                                "statsbidrag-omgangar-2011-2013", t("statsbidrag_src_table2", lang, src=_src(lang)),
                                "2011–2013", demo=False, title=t("statsbidrag_rounds_h", lang))),
                            C.source_caption(t("statsbidrag_src_table2", lang, src=_src(lang)), "2011–2013", lang)])


def _uptake(db) -> pd.DataFrame | None:
    return db.query_view("grant_uptake", "SELECT u.*, m.name FROM grant_uptake u "
                         "JOIN municipalities m USING (municipality_code)")


def _size_block(db, lang):
    """Uptake per round and size group, read from the grant_uptake_by_size_group mart (the
    share is computed once, in pipelines/grants.py); rounds with per-municipality outcomes."""
    head = [html.H2(t("statsbidrag_size_h", lang), className="h4 mt-4")]
    agg = db.query_view("grant_uptake_by_size_group",
                        "SELECT * FROM grant_uptake_by_size_group WHERE data_level = 'municipality'")
    if agg is None:
        return html.Div(head + [C.mart_missing("grant_uptake_by_size_group", lang)])
    if agg.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    agg = agg.assign(_k=agg["round"].map(_round_key)).sort_values(["_k", "pot", "size_group"]).drop(columns="_k")
    agg["uptake_pct"] = 100 * agg["uptake_share"]       # the mart's share as percent for the chart
    fig = F.uptake_by_group_bar(agg, lang)
    agg["size_group_label"] = agg["size_group"].map(lambda g: size_group_label(g, lang))
    cols = [C.col("round", t("grant_round", lang)), C.col("size_group_label", t("size_group", lang)),
            C.col("municipalities", t("statsbidrag_municipalities", lang), "int"),
            C.col("applied", t("grant_applied", lang), "int"),
            C.col("frame_sek", t("grant_frame", lang), "kr"),
            C.col("granted_sek", t("grant_granted", lang), "kr"),
            C.col("uptake_share", t("statsbidrag_granted_of_frame", lang), "share", 1)]
    years = sorted({str(r)[:4] for r in agg["round"]})
    # below the rounds table, under the first screen on a laptop: drawn when scrolled to
    return html.Div(head + [C.graph("statsbidrag-size-fig", fig, t("statsbidrag_size_alt", lang), lang, lazy=True),
                            C.source_caption(t("statsbidrag_src_frames", lang, src=_src(lang)), 2013, lang,
                                             modelled=True),
                            C.table_with_downloads("statsbidrag-size", agg, cols, lang, download=C.download_meta(
                                C.file_stem("statsbidrag-storleksgrupper", *years),
                                t("statsbidrag_src_frames", lang, src=_src(lang)),
                                int(years[0]) if len(years) == 1 else "–".join(years), demo=False,
                                title=t("statsbidrag_size_h", lang)))])


def map_frame(uptake: pd.DataFrame, rnd: str) -> pd.DataFrame:
    """One round's rows of the grant_uptake mart (a round is one pot), where outcomes per
    municipality exist; uptake_pct is the mart's share in percent."""
    d = uptake[(uptake["round"] == rnd) & (uptake["data_level"] == "municipality")].copy()
    d["uptake_pct"] = 100 * d["uptake_share"].astype("Float64")
    d["applied"] = d["applied"].astype("boolean").fillna(False).astype(bool)
    return d


def _map_content(uptake, rnd, lang):
    d = map_frame(uptake, rnd)
    if d.empty:
        return [alert(t("no_rows", lang), "secondary")]
    fig = F.uptake_map(d, geojson_url(), lang)   # polygons: the cached static file
    d["href"] = d["municipality_code"].map(lambda c: href(f"/kommun/{c}", lang))
    cols = [C.col("municipality_code", t("urval_code", lang)),
            C.col("name", t("municipality", lang), link_field="href"),
            C.col("applied", t("grant_applied", lang), "bool"),
            C.col("frame_sek", t("grant_frame", lang), "kr"),
            C.col("granted_sek", t("grant_granted", lang), "kr"),
            C.col("uptake_share", t("statsbidrag_granted_of_frame", lang), "share", 1)]
    # below the rounds and the size groups: drawn when scrolled to
    return [C.graph("statsbidrag-map-fig", fig, t("statsbidrag_map_alt", lang), lang, lazy=True),
            C.source_caption(t("statsbidrag_src_map", lang, src=_src(lang)),
                             rnd, lang, modelled=True,
                             extra=t("statsbidrag_frame_computed_from_inhabitants_75", lang)),
            C.table_with_downloads("statsbidrag-map-table", d, cols, lang, page_size=15,
                                   caption=f"{t('statsbidrag_map_h', lang)} ({rnd})",
                                   download=C.download_meta(
                                       C.file_stem("statsbidrag-karta", rnd), t("statsbidrag_src_map", lang, src=_src(lang)),
                                       int(str(rnd)[:4]), demo=False, settings=[(t("grant_round", lang), rnd)],
                                       title=f"{t('statsbidrag_map_h', lang)} ({rnd})"))]


def _history_content(uptake, code, lang):
    d = uptake[uptake["municipality_code"] == code].copy()
    if d.empty:
        return [alert(t("no_rows", lang), "secondary")]
    d["_k"] = d["round"].map(_round_key)
    d = d.sort_values(["_k", "pot"])
    d["applied_text"] = d["applied"].map(
        lambda a: t("missing", lang) if a is None or pd.isna(a) else
        t("yes" if a else "no", lang))
    d["year"] = [int(str(r)[:4]) for r in d["round"]]
    cols = [C.col("round", t("grant_round", lang)), C.col("year", t("year", lang), "int"),
            C.col("pot", t("grant_pot", lang), "int"),
            C.col("frame_sek", t("statsbidrag_frame_computed", lang), "kr"),
            C.col("applied_text", t("grant_applied", lang)),
            C.col("granted_sek", t("grant_granted", lang), "kr"),
            C.col("paid_sek", t("grant_paid", lang), "kr"),
            C.col("returned_sek", t("grant_returned", lang), "kr"),
            C.col("uptake_share", t("statsbidrag_granted_of_frame", lang), "share", 1)]
    name = d["name"].iloc[0]
    return [C.table_with_downloads("statsbidrag-history", d, cols, lang, caption=f"{t('statsbidrag_hist_h', lang)}: {name}",
                                   download=C.download_meta(C.file_stem("statsbidrag", code), _src(lang), "2011–2013",
                                                            demo=False, title=f"{t('statsbidrag_hist_h', lang)}: {name}")),
            C.source_caption(_src(lang), "2011–2013", lang, modelled=True,
                             extra=t("statsbidrag_caveat", lang))]


def _never_block(db, lang):
    head = [html.H2(t("statsbidrag_never_h", lang), className="h4 mt-4")]
    d = db.query_view("grant_not_applied_2013", "SELECT municipality_code, name, county_name, size_group "
                                                "FROM grant_not_applied_2013 ORDER BY name")
    if d is None:
        return html.Div(head + [C.mart_missing("grant_not_applied_2013", lang)])
    if d.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    d["size_group_label"] = d["size_group"].map(lambda g: size_group_label(g, lang))
    d["href"] = d["municipality_code"].map(lambda c: href(f"/kommun/{c}", lang))
    cols = [C.col("municipality_code", t("urval_code", lang)),
            C.col("name", t("municipality", lang), link_field="href"),
            C.col("county_name", t("county", lang)),
            C.col("size_group_label", t("size_group", lang))]
    return html.Div(head + [html.P(t("statsbidrag_never_lead", lang, n=len(d))),
                            C.table_with_downloads("statsbidrag-never", d, cols, lang, page_size=15,
                                                   download=C.download_meta(
                                                       "statsbidrag-sokte-inte-2013",
                                                       t("statsbidrag_src_annex1", lang, src=_src(lang)), 2013,
                                                       demo=False, title=t("statsbidrag_never_h", lang))),
                            C.source_caption(t("statsbidrag_src_annex1", lang, src=_src(lang)), 2013, lang)])


def _recon_block(db, lang):
    head = [html.H2(t("statsbidrag_recon_h", lang), className="h4 mt-4"), html.P(t("statsbidrag_recon_lead", lang))]
    d = db.query_view("grant_reconciliation",
                      'SELECT "check", expected, actual, difference, note, note_values, agreement '
                      'FROM grant_reconciliation')
    if d is None:
        return html.Div(head + [C.mart_missing("grant_reconciliation", lang)])
    if d.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    d = reconciliation_display(d, lang, db.municipality_name)
    cols = [C.col("check_text", t("statsbidrag_check", lang)),
            C.col("expected_text", t("statsbidrag_expected_printed", lang), decimals=3, raw="expected"),
            C.col("actual_text", t("statsbidrag_computed", lang), decimals=3, raw="actual"),
            C.col("difference_text", t("statsbidrag_difference", lang), decimals=3, raw="difference"),
            C.col("agrees", t("statsbidrag_agrees_nearly_within_1", lang)),
            C.col("note_text", t("statsbidrag_note", lang))]
    table = C.table_with_downloads("statsbidrag-recon", d, cols, lang, page_size=25, download=C.download_meta(
        "statsbidrag-avstamning-2013", t("statsbidrag_src_recon", lang, src=_src(lang)), 2013, demo=False,
        title=t("statsbidrag_recon_h", lang)))
    return html.Div(head + [table,
                            C.source_caption(t("statsbidrag_src_recon", lang, src=_src(lang)), 2013, lang)])


def _stockholm_block(db, lang):
    head = [html.H2(t("statsbidrag_sthlm_h", lang), className="h4 mt-4")]
    d = db.query_view("stimulus_grant_returns", "SELECT s.*, m.name FROM stimulus_grant_returns s "
                      "JOIN municipalities m USING (municipality_code) ORDER BY returned_date")
    if d is None or d.empty:
        return html.Div(head + [alert(t("view_missing", lang, view="stimulus_grant_returns"), "secondary")])
    d = d.copy()
    d["returned_date"] = [x.strftime("%Y-%m-%d") if hasattr(x, "strftime") else (str(x) if x else None)
                          for x in d["returned_date"]]
    items = []
    for r in d.to_dict("records"):
        date = r.get("returned_date") or t("missing", lang)
        items.append(html.P(t("statsbidrag_sthlm_text", lang, name=r.get("name"), ret=formats.kr(r.get("returned_sek"), lang=lang),
                               rec=formats.kr(r.get("received_total_sek"), lang=lang),
                               years=r.get("grant_years"), date=date), className="fs-5"))
    cols = [C.col("name", t("municipality", lang)),
            C.col("grant_type", t("statsbidrag_grant", lang)),
            C.col("grant_years", t("statsbidrag_years", lang)),
            C.col("received_total_sek", t("statsbidrag_received", lang), "kr"),
            C.col("spent_sek", t("statsbidrag_spent", lang), "kr"),
            C.col("returned_sek", t("grant_returned", lang), "kr"),
            C.col("returned_date", t("statsbidrag_date", lang))]
    return html.Div(head + items + [C.table_with_downloads("statsbidrag-stimulus", d, cols, lang, download=C.download_meta(
                                        "stimulansbidrag-aterbetalt", _src(lang, "001"), "2012–2013", demo=False,
                                        title=t("statsbidrag_sthlm_h", lang))),
                                    C.source_caption(_src(lang, "001"), "2012–2013", lang)])


@C.safe_layout
def layout(lang=None, round=None, code=None, **_):  # noqa: A002 - query parameter name
    lang = get_lang({"lang": lang})
    db = get_db()
    out = [C.page_heading(t("statsbidrag_title", lang), t("statsbidrag_lead", lang)),
           dcc.Store(id="statsbidrag-lang", data=lang),
           dcc.Location(id="statsbidrag-loc", refresh=False),
           alert(t("statsbidrag_caveat", lang), "info"),
           _rounds_block(db, lang)]
    uptake = _uptake(db)
    if uptake is None or uptake.empty:
        out.append(C.mart_missing("grant_uptake", lang))
        out += [_recon_block(db, lang), _stockholm_block(db, lang)]
        return html.Div(out)
    rounds_with_data = sorted({r for r in uptake.loc[uptake["data_level"] == "municipality", "round"]},
                              key=_round_key)
    rnd = first(round) if first(round) in rounds_with_data else (rounds_with_data[0] if rounds_with_data else None)
    muni = uptake[["municipality_code", "name"]].drop_duplicates().sort_values("name")
    code = first(code)
    code = code if valid_code(code) and code in set(muni["municipality_code"]) else "0180"
    out.append(_size_block(db, lang))
    out += [html.H2(t("statsbidrag_map_h", lang), className="h4 mt-4"),
            html.Label(t("statsbidrag_map_round", lang), htmlFor="statsbidrag-round", className="form-label"),
            dbc.Select(id="statsbidrag-round", options=[{"label": r, "value": r} for r in rounds_with_data],
                       value=rnd, style={"maxWidth": "12rem"}),
            dcc.Loading(html.Div(_map_content(uptake, rnd, lang) if rnd else [], id="statsbidrag-map"))]
    out += [html.H2(t("statsbidrag_hist_h", lang), className="h4 mt-4"),
            html.Label(t("statsbidrag_hist_pick", lang), htmlFor="statsbidrag-code", className="form-label"),
            dbc.Select(id="statsbidrag-code", options=[{"label": f"{r.name} ({r.municipality_code})",
                                                        "value": r.municipality_code} for r in muni.itertuples()],
                       value=code, style={"maxWidth": "24rem"}),
            html.Div(_history_content(uptake, code, lang), id="statsbidrag-history-box")]
    out += [_never_block(db, lang), _recon_block(db, lang), _stockholm_block(db, lang)]
    return html.Div(out)


@callback(Output("statsbidrag-map", "children"), Output("statsbidrag-history-box", "children"),
          Output("statsbidrag-loc", "search"),
          Input("statsbidrag-round", "value"), Input("statsbidrag-code", "value"),
          State("statsbidrag-lang", "data"), prevent_initial_call=True)
def _update(rnd, code, lang):
    """Map round and history municipality: update in place and keep both in the URL."""
    from dash import ctx

    if not get_db().has_view("grant_uptake"):
        return no_update, no_update, no_update
    search = search_string(lang, round=rnd, code=code) or "?"
    if ctx.triggered_id == "statsbidrag-round":
        if not isinstance(rnd, str):        # the select sends one round ("2013:1")
            return no_update, no_update, no_update
        return _part_cached("map", rnd, lang), no_update, search
    if not valid_code(code):
        return no_update, no_update, no_update
    return no_update, _part_cached("history", code, lang), search


@per_warehouse()
def _part_cached(part, arg, lang):
    """The map of a round or the history of a municipality, reused until the warehouse changes."""
    uptake = _uptake(get_db())
    out = _map_content(uptake, arg, lang) if part == "map" else _history_content(uptake, arg, lang)
    return staticize(out)   # as markup where no callback touches it (dashboard/static_html.py)
