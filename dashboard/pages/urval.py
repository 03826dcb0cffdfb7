"""/urval — rankings by size group and the 15/15 selection (SKL 2010, Öppna jämförelser analys, chapter 2).

The selection shown is computed in memory (a "what if") from the `composite_index` view with
the pipelines' own pure functions (pipelines.ranking.selection), so the page never writes the
warehouse; the runs stored by `styrkort select` are listed separately with their config hash.
State (year, max per county, swaps) lives in the query string.
"""
from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, clientside_callback, dcc, html, no_update

from dashboard import components as C
from dashboard.data import first, get_db, index_demo, parse_year, valid_code
from dashboard.i18n import get_lang, href, page_title, size_group_label, t
from dashboard.urlcheck import year_notice

dash.register_page(__name__, path="/urval", title=page_title("nav_urval"),
                   name="Rangordning och urval")

SIZE_GROUPS = ("small", "medium", "large")


alert = C.alert
widen = C.widen


# ---------------------------------------------------------------- data


def _default_where(db, view: str) -> str:
    return " WHERE is_default" if "is_default" in db.columns(view) else ""


def ranked_index(db, year: int) -> pd.DataFrame:
    """composite_index for the year (default config) with names and counties."""
    where = _default_where(db, "composite_index")
    sql = ("SELECT c.municipality_code, m.name, m.county_code, m.county_name, c.size_group, c.rank, "
           "c.group_rank, c.composite, c.config_hash, c.is_demo FROM (SELECT * FROM composite_index" + where +
           ") c JOIN municipalities m USING (municipality_code) WHERE c.year = ? ORDER BY c.rank")
    df = db.query_view("composite_index", sql, [year])
    df = df if df is not None else pd.DataFrame()
    df.attrs["demo"] = index_demo(db, year)      # the demo label of this year's index
    return df


def uncertainty(db, year: int) -> pd.DataFrame:
    where = _default_where(db, "rank_uncertainty")
    df = db.query_view("rank_uncertainty",
                       "SELECT municipality_code, rank_median, rank_p05, rank_p95, p_top, p_bottom, draws "
                       "FROM (SELECT * FROM rank_uncertainty" + where + ") WHERE year = ?", [year])
    return df if df is not None else pd.DataFrame(columns=["municipality_code"])


def stored_runs(db, year: int | None) -> pd.DataFrame | None:
    # every stored selection run (selections_all), not only the default ones (selections)
    if not db.has_view("selections_all"):
        return None
    return db.query_view("selections_all", "SELECT s.selection_id, s.year, s.config_hash, s.options_json, "
                         "s.created_at, (SELECT count(*) FROM selection_items_all i "
                         "WHERE i.selection_id = s.selection_id) AS n_items "
                         "FROM selections_all s ORDER BY s.year DESC, s.created_at DESC")


def _options_text(options_json, lang) -> str:
    try:
        o = json.loads(options_json or "{}")
    except (TypeError, ValueError):
        return str(options_json or "")
    parts = []
    k = o.get("max_per_county")
    parts.append(t("urval_at_most_per_county", lang, k=k) if k else t("urval_no_county_limit", lang))
    for s in o.get("swaps") or []:
        parts.append(f"{s.get('out')}→{s.get('in')} ({s.get('reason')})")
    return "; ".join(parts)


# ---------------------------------------------------------------- query-string state


def parse_swaps(text) -> list[tuple[str, str, str]]:
    """'OUT:IN:REASON|OUT:IN:REASON' -> list of triples (malformed parts dropped)."""
    text = first(text)
    out = []
    for part in str(text or "").split("|"):
        bits = part.split(":", 2)
        if len(bits) == 3 and valid_code(bits[0]) and valid_code(bits[1]) and bits[2].strip():
            out.append((bits[0], bits[1], bits[2].strip()[:200]))
    return out[:30]


def swaps_text(swaps) -> str:
    return "|".join(f"{o}:{i}:{r.replace('|', '/')}" for o, i, r in swaps)


def parse_max(value) -> int | None:
    value = first(value)
    if value in (None, ""):
        return None
    try:
        k = int(str(value))
    except ValueError:
        return None
    return k if 1 <= k <= 15 else None


# ---------------------------------------------------------------- selection


def compute_selection(ranked: pd.DataFrame, max_per_county: int | None, swaps, lang: str):
    """(items, messages). Uses the pipelines' pure functions; a swap that fails validation is
    skipped and explained instead of breaking the page."""
    from pipelines.ranking.selection import QUOTAS, SelectionError, Swap, apply_swaps, select

    items = select(ranked, QUOTAS, max_per_county)
    msgs = []
    for o, i, r in swaps:
        err = validate_swap(items, ranked, o, i, r, lang)
        if err:
            msgs.append(t("urval_e_swap_url", lang, m=err))
            continue
        try:
            items = apply_swaps(items, ranked, [Swap(o, i, r)])
        except SelectionError as e:  # belt and braces: the pipeline's own check
            msgs.append(t("urval_e_swap_url", lang, m=str(e)))
    return items, msgs


def validate_swap(items: pd.DataFrame, ranked: pd.DataFrame, out_code, in_code, reason, lang) -> str | None:
    """Swedish (or English) message for an invalid swap, None if valid."""
    if not (valid_code(out_code) and valid_code(in_code)):
        return t("urval_e_pick", lang)
    if not isinstance(reason, str) or not reason.strip():
        return t("urval_e_reason", lang)
    info = ranked.set_index("municipality_code")
    if out_code not in info.index or in_code not in info.index:
        return t("urval_e_pick", lang)
    lab = lambda c: f"{info.at[c, 'name']} ({c})"  # noqa: E731
    selected = set(items["municipality_code"])
    if out_code not in selected:
        return t("urval_e_out", lang, x=lab(out_code))
    if in_code in selected:
        return t("urval_e_in_sel", lang, x=lab(in_code))
    go_, gi = info.at[out_code, "size_group"], info.at[in_code, "size_group"]
    if go_ != gi:
        return t("urval_e_group", lang, i=lab(in_code), o=lab(out_code),
                  gi=size_group_label(gi, lang), go=size_group_label(go_, lang))
    return None


def study_table1(lang: str) -> pd.DataFrame | None:
    """The study's own Table 1 (ÖJ 2009 ranks, SKL 2010, Öppna jämförelser analys – framgångsfaktorer) in the same shape, for comparison."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "warehouse" / "sources" / "oj2009_sample_ranks.csv"
    try:
        return table1_frame(pd.read_csv(path), lang)
    except (OSError, KeyError, ValueError):
        return None


def table1_frame(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    rows = []
    for g in SIZE_GROUPS:
        part = items[items["size_group"] == g]
        row = {"size_group": size_group_label(g, lang).capitalize()}
        for res in ("high", "low"):
            ranks = sorted(int(r) for r in part.loc[part["result"] == res, "rank"])
            row[res] = ", ".join(str(r) for r in ranks)
            row[res + "_n"] = len(ranks)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- layout pieces


def selection_settings(ranked, year, max_per_county, swaps, lang) -> tuple[str, list]:
    """(file stem, settings) every download of this selection carries: the year, the county
    limit, the swaps and the index configuration's hash ('urval-2009-lan1-3f9a2c')."""
    h = str(ranked["config_hash"].iloc[0]) if "config_hash" in ranked and len(ranked) else ""
    stem = C.file_stem("urval", year, f"lan{max_per_county}" if max_per_county else "alla", h[:6],
                       f"byten{len(swaps)}" if swaps else None)
    settings = [(t("urval_dl_county_limit", lang), max_per_county or t("urval_dl_no_limit", lang)),
                (t("urval_dl_swaps", lang), "; ".join(f"{o}→{i}: {r}" for o, i, r in swaps) or
                 t("urval_swap_none", lang)),
                (t("om_col_hash", lang), h)]
    return stem, settings


def _index_demo(ranked) -> bool:
    """The composite index of the year rests on demo data (the mart's per-row flag)."""
    return bool("is_demo" in ranked and ranked["is_demo"].fillna(False).astype(bool).any())


def reason_texts(items: pd.DataFrame, swaps, max_per_county, lang: str, names: dict | None = None) -> list[str]:
    """Why each municipality is in the selection, in the page's language: the pipeline's own
    rule (rank within the size group's quota, or the county limit) from the rows' fields; a
    manual swap shows the reason the user typed."""
    from pipelines.ranking.selection import QUOTAS

    typed = {i: r for _o, i, r in swaps}
    names = names or dict(zip(items["municipality_code"], items["name"]))
    out = []
    for row in items.to_dict("records"):
        code = row["municipality_code"]
        if code in typed:
            out.append(typed[code])
        elif row.get("adjusted"):
            repl = row.get("replaces")
            instead = t("urval_reason_instead_of", lang, code=repl, name=names.get(repl, "")) \
                if isinstance(repl, str) and repl else ""
            out.append(t("urval_reason_county", lang, k=max_per_county) + instead)
        else:
            out.append(t(f"urval_reason_rank_{row['result']}", lang, n=QUOTAS.get(row["size_group"], "?")))
    return out


def _selection_block(ranked, unc, year, max_per_county, swaps, lang):
    items, msgs = compute_selection(ranked, max_per_county, swaps, lang)
    items = items.merge(unc[["municipality_code"] + [c for c in ("rank_p05", "rank_p95") if c in unc]],
                        on="municipality_code", how="left")
    if "is_demo" in ranked:
        items = items.merge(ranked[["municipality_code", "is_demo"]], on="municipality_code", how="left")
    stem, settings = selection_settings(ranked, year, max_per_county, swaps, lang)
    source = t("urval_source", lang, h=settings[-1][1])
    from dashboard.figures import size_group_short

    items["size_group_label"] = items["size_group"].map(lambda g: size_group_short(g, lang))
    items["result_label"] = items["result"].map(
        {"high": t("urval_high", lang), "low": t("urval_low", lang)})
    items["interval"] = [_interval(a, b, lang) for a, b in zip(items.get("rank_p05"), items.get("rank_p95"))] \
        if "rank_p05" in items else ""
    items["href"] = items["municipality_code"].map(lambda c: href(f"/kommun/{c}", lang))
    items["reason"] = reason_texts(items, swaps, max_per_county, lang,
                                   dict(zip(ranked["municipality_code"], ranked["name"])))
    t1 = table1_frame(items, lang)
    h = ranked["config_hash"].iloc[0] if "config_hash" in ranked and len(ranked) else "?"
    cols = [C.col("municipality_code", t("urval_code", lang)),
            C.col("name", t("municipality", lang), link_field="href"),
            C.col("size_group_label", t("size_group", lang)),
            C.col("result_label", t("urval_result", lang)),
            C.col("rank", t("urval_rank", lang), "int"),
            C.col("group_rank", t("urval_group_rank", lang), "int"),
            C.col("composite", t("urval_composite", lang), "number", 2),
            C.col("interval", t("urval_interval", lang), decimals=0, raw=RANK_INTERVAL(lang)),
            C.col("county_name", t("county", lang)),
            C.col("adjusted", t("urval_adjusted", lang), "bool"),
            C.col("reason", t("urval_reason", lang))]
    t1cols = [C.col("size_group", t("size_group", lang)),
              C.col("high", t("urval_high_2", lang)), C.col("high_n", t("urval_count_high", lang), "int"),
              C.col("low", t("urval_low_2", lang)), C.col("low_n", t("urval_count_low", lang), "int")]
    children = [
        html.H2(t("urval_sel_h", lang), className="h4 mt-4"),
        html.P(t("urval_sel_lead", lang, q=t("urval_quota_rule", lang))),
    ]
    for m in msgs:
        children.append(alert(m))
    study = study_table1(lang)
    study_block = []
    if study is not None:
        study_block.append(html.Details([
            html.Summary(t("urval_compare_with_the_study_s", lang)),
            html.P(t("urval_the_study_adjusted_its_selection", lang), className="mt-2"),
            C.table_with_downloads("urval-study-table1", study, t1cols, lang, download=C.download_meta(
                "urval-studiens-tabell1-2009", t("urval_salar_2010_open_comparisons_analysis", lang), 2009,
                demo=False, title=t("urval_compare_with_the_study_s", lang))),
            C.source_caption(t("urval_salar_2010_open_comparisons_analysis", lang),
                             2009, lang),
        ], className="mb-3"))
    children += [
        C.table_with_downloads("urval-table1", t1, t1cols, lang, caption=f"{t('urval_t1_h', lang)} {year}",
                               download=C.download_meta(stem.replace("urval-", "urval-tabell1-", 1), source,
                                                        year, demo=_index_demo(ranked), settings=settings)),
        *study_block,
        widen(C.table_with_downloads("urval-selection", items, cols, lang, page_size=30,
                                     caption=f"{t('urval_sel_h', lang)} {year}",
                                     download=C.download_meta(stem, source, year, demo="is_demo",
                                                              settings=settings)),
              {"reason": 2.2, "name": 1.4}),
        C.source_caption(t("urval_source", lang, h=h), year, lang,
                         extra=(t("urval_rank_interval_modelled_monte_carlo", lang))),
        html.Span(C.index_demo_label(ranked.attrs.get("demo"), lang), className="ms-2"),
    ]
    return html.Div(children, id="urval-selection-block"), items


def _interval(a, b, lang):
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return t("missing", lang)
    return f"{int(round(a))}–{int(round(b))}"


def RANK_INTERVAL(lang):
    """The rank interval's two ends as numbers in downloads (the screen shows '5–95')."""
    return [("rank_p05", t("urval_dl_rank_p05", lang)), ("rank_p95", t("urval_dl_rank_p95", lang))]


def _rank_tables(ranked, unc, year, lang):
    df = ranked.merge(unc, on="municipality_code", how="left")
    df["interval"] = [_interval(a, b, lang) for a, b in zip(df.get("rank_p05"), df.get("rank_p95"))] \
        if "rank_p05" in df else ""
    df["href"] = df["municipality_code"].map(lambda c: href(f"/kommun/{c}", lang))
    cols = [C.col("group_rank", t("urval_group_rank", lang), "int"),
            C.col("rank", t("urval_rank_all", lang), "int"),
            C.col("name", t("municipality", lang), link_field="href"),
            C.col("composite", t("urval_composite", lang), "number", 2),
            C.col("interval", t("urval_interval", lang), decimals=0, raw=RANK_INTERVAL(lang)),
            C.col("p_top", t("urval_share_of_draws_in_group", lang), "share", 0),
            C.col("county_name", t("county", lang))]
    h = str(ranked["config_hash"].iloc[0]) if "config_hash" in ranked and len(ranked) else ""
    # Three stacked sections (not tabs: every table is reachable and printable).
    sections = []
    for g in SIZE_GROUPS:
        part = df[df["size_group"] == g].sort_values("group_rank")
        label = f"{size_group_label(g, lang).capitalize()} ({len(part)})"
        sections.append(html.Section([
            html.H3(f"{label}, {year}", className="h5 mt-3", id=f"urval-rank-{g}-h"),
            C.table_with_downloads(f"urval-rank-{g}", part, cols, lang, page_size=10, download=C.download_meta(
                C.file_stem("urval-rang", g, year, h[:6]), t("urval_source", lang, h=h), year, demo="is_demo",
                settings=[(t("om_col_hash", lang), h)], title=f"{label}, {year}"))],
            **{"aria-labelledby": f"urval-rank-{g}-h"}))
    return html.Div([html.H2(t("urval_rank_h", lang), className="h4 mt-4"), *sections])


def _runs_block(db, lang):
    runs = stored_runs(db, None)
    head = [html.H2(t("urval_runs_h", lang), className="h4 mt-4"), html.P(t("urval_runs_lead", lang))]
    if runs is None:
        return html.Div(head + [alert(t("view_missing", lang, view="selections_all"), "secondary")])
    runs = runs.copy()
    runs["options"] = runs["options_json"].map(lambda s: _options_text(s, lang))
    cols = [C.col("selection_id", t("urval_run", lang)),
            C.col("year", t("year", lang)),
            C.col("config_hash", t("om_col_hash", lang)),
            C.col("options", t("urval_options", lang)),
            C.col("created_at", t("dl_about_created", lang))]
    if "n_items" in runs:
        cols.insert(4, C.col("n_items", t("urval_municipalities", lang), "int"))
    return html.Div(head + [C.table_with_downloads("urval-runs", runs, cols, lang, page_size=10,
                                                   download=C.download_meta(
                                                       "urval-sparade-korningar", "styrkort select",
                                                       demo=_runs_demo(db), title=t("urval_runs_h", lang)))])


def _runs_demo(db) -> bool:
    """Stored selections rest on the composite index, which is demo data where the mart says so."""
    rows = db.rows_view("composite_index", "SELECT bool_or(is_demo) FROM composite_index")
    return bool(rows and rows[0][0])


def _controls(years, year, max_per_county, swaps, ranked, items, lang):
    # Native <select> elements (dbc.Select): labelled and keyboard operable out of the box.
    selected = set(items["municipality_code"])
    out_opts = [{"label": f"{r.name} ({r.municipality_code})", "value": r.municipality_code}
                for r in items.sort_values("name").itertuples()]
    in_opts = [{"label": f"{r.name} ({r.municipality_code}, {size_group_label(r.size_group, lang)})",
                "value": r.municipality_code}
               for r in ranked.sort_values("name").itertuples() if r.municipality_code not in selected]
    pick = t("urval_choose", lang)
    swap_list = html.Ul([html.Li(f"{o} → {i}: {r}") for o, i, r in swaps], id="urval-swap-list") if swaps \
        else html.P(t("urval_swap_none", lang), id="urval-swap-list", className="text-body-secondary")
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label(t("year", lang), html_for="urval-year"),
                     dbc.Select(id="urval-year", options=[{"label": str(y), "value": str(y)} for y in years],
                                value=str(year))], md=3),
            dbc.Col([dbc.Label(t("urval_maxc", lang), html_for="urval-maxcounty"),
                     dbc.Input(id="urval-maxcounty", type="number", min=1, max=15, step=1,
                               value=max_per_county, debounce=True)], md=5),
        ], className="g-3"),
        html.Fieldset([
            html.Legend(t("urval_swaps", lang), className="h6 mt-3"),
            dbc.Row([
                dbc.Col([dbc.Label(t("urval_swap_out", lang), html_for="urval-swap-out"),
                         dbc.Select(id="urval-swap-out", options=out_opts, placeholder=pick)], md=4),
                dbc.Col([dbc.Label(t("urval_swap_in", lang), html_for="urval-swap-in"),
                         dbc.Select(id="urval-swap-in", options=in_opts, placeholder=pick)], md=4),
                dbc.Col([dbc.Label(t("urval_reason", lang), html_for="urval-swap-reason"),
                         dbc.Input(id="urval-swap-reason", type="text", maxLength=200)], md=4),
            ], className="g-2"),
            html.Div([
                dbc.Button(t("urval_swap_add", lang), id="urval-swap-add", color="primary", className="me-2 mt-2"),
                dbc.Button(t("urval_swap_clear", lang), id="urval-swap-clear", color="secondary", outline=True,
                           className="mt-2"),
            ]),
            html.Div(id="urval-swap-msg", role="alert", **{"aria-live": "assertive"}, className="mt-2"),
            swap_list,
        ]),
    ]), className="mb-3")


@C.safe_layout
def valid_years(db, params: dict) -> list[int] | None:
    """The years ?year= may name (dashboard.urlcheck): those of the composite index."""
    return db.years("composite_index") or None


def layout(year=None, lang=None, max_per_county=None, swaps=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    years = db.years("composite_index")
    head = C.page_heading(t("nav_urval", lang), t("urval_lead", lang))
    if not years:
        return html.Div([head, alert(t("view_missing", lang, view="composite_index"), "secondary")])
    asked, year = year, parse_year(year, years) or years[-1]
    k = parse_max(max_per_county)
    swap_list = parse_swaps(swaps)
    ranked = ranked_index(db, year)
    if ranked.empty:
        return html.Div([head, alert(t("urval_no_index", lang), "secondary")])
    unc = uncertainty(db, year)
    block, items = _selection_block(ranked, unc, year, k, swap_list, lang)
    state = {"year": year, "max_per_county": k, "swaps": swap_list, "lang": lang}
    return html.Div([
        head,
        year_notice(asked, years, year, lang),
        dcc.Store(id="urval-state", data=state),
        dcc.Location(id="urval-loc", refresh="callback-nav"),
        _controls(years, year, k, swap_list, ranked, items, lang),
        dcc.Loading(html.Div(block, id="urval-content"), type="default"),
        _rank_tables(ranked, unc, year, lang),
        _runs_block(db, lang),
    ])


def page_state(stored) -> dict:
    """The urval-state store as layout() wrote it ({year, max_per_county, swaps, lang}); the
    browser sends it back, so anything else in it is dropped rather than trusted."""
    stored = stored if isinstance(stored, dict) else {}
    year = stored.get("year")
    swaps = stored.get("swaps")
    return {"year": year if isinstance(year, int) and not isinstance(year, bool) else None,
            "max_per_county": parse_max(stored.get("max_per_county")),
            "swaps": parse_swaps(swaps_text(s for s in swaps if isinstance(s, list) and len(s) == 3
                                            and all(isinstance(x, str) for x in s)))
            if isinstance(swaps, list) else [],
            "lang": get_lang({"lang": stored.get("lang")})}


def state_search(state: dict) -> str:
    """The query string for a page state (shareable URL)."""
    items = [("year", state.get("year"))]
    if state.get("max_per_county"):
        items.append(("max_per_county", state["max_per_county"]))
    if state.get("swaps"):
        items.append(("swaps", swaps_text(state["swaps"])))
    return href("", state.get("lang", "sv"), **{k: v for k, v in items if v is not None}) or "?"


@callback(
    Output("urval-loc", "search"),
    Output("urval-swap-msg", "children"),
    Input("urval-year", "value"),
    Input("urval-maxcounty", "value"),
    Input("urval-swap-add", "n_clicks"),
    Input("urval-swap-clear", "n_clicks"),
    State("urval-swap-out", "value"),
    State("urval-swap-in", "value"),
    State("urval-swap-reason", "value"),
    State("urval-state", "data"),
    prevent_initial_call=True,
)
def _change(year, maxc, _add, _clear, out_code, in_code, reason, state):
    """Every control change becomes a new URL (state in the query string; the page re-renders
    from it, and the back button returns to the previous state)."""
    from dash import ctx

    state = page_state(state)
    lang = state["lang"]
    trig = ctx.triggered_id
    if trig == "urval-year":
        try:
            state["year"] = int(year)
        except (TypeError, ValueError):
            return no_update, no_update
        state["swaps"] = []           # swaps refer to one year's selection
    elif trig == "urval-maxcounty":
        if maxc in (None, ""):
            state["max_per_county"] = None
        else:
            k = parse_max(maxc)
            if k is None or not isinstance(maxc, (int, float, str)) or float(maxc) != k:
                return no_update, alert(t("urval_e_maxc", lang))
            state["max_per_county"] = k
            state["swaps"] = []
    elif trig == "urval-swap-clear":
        state["swaps"] = []
    elif trig == "urval-swap-add":
        if state["year"] is None:
            return no_update, no_update
        db = get_db()
        ranked = ranked_index(db, int(state["year"]))
        items, _ = compute_selection(ranked, state.get("max_per_county"), state.get("swaps") or [], lang)
        err = validate_swap(items, ranked, out_code, in_code, reason, lang)
        if err:
            return no_update, alert(err)
        state["swaps"] = list(state.get("swaps") or []) + [(out_code, in_code, reason.strip()[:200])]
    else:
        return no_update, no_update
    return state_search(state), ""
