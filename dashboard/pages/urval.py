"""/urval — rankings by size group and the 15/15 selection (SKL 2010, Öppna jämförelser analys, chapter 2).

The selection shown is computed in memory (a "what if") from the `composite_index` view with
the pipelines' own pure functions (pipelines.ranking.selection), so the page never writes the
warehouse; the runs stored by `styrkort select` are listed separately with their config hash.
State (year, max per county, swaps) lives in the query string.

Controls: "In" offers only the swapped-out municipality's size group (names, codes, group ranks
from composite_index), a warning (icon + text) shows when the one swapped in lies outside the
quarter of the result it takes over (composite_index.group_quarter), swaps are listed with
names, and the county limit applies as it is typed (its own callback: the URL and the selection
follow without re-rendering the page, so the field keeps focus).
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
from dashboard.static_html import staticize
from styrkort import formats

dash.register_page(__name__, path="/urval", title=page_title("nav_urval"),
                   name="Rangordning och urval")

SIZE_GROUPS = ("small", "medium", "large")


alert = C.alert


# ---------------------------------------------------------------- data


def _default_where(db, view: str) -> str:
    return " WHERE is_default" if "is_default" in db.columns(view) else ""


def ranked_index(db, year: int) -> pd.DataFrame:
    """composite_index for the year (default config) with names and counties."""
    where = _default_where(db, "composite_index")
    quarter = "c.group_quarter" if "group_quarter" in db.columns("composite_index") else "NULL AS group_quarter"
    sql = ("SELECT c.municipality_code, m.name, m.county_code, m.county_name, c.size_group, c.rank, "
           "c.group_rank, c.group_n, " + quarter + ", c.composite, c.config_hash, c.is_demo "
           "FROM (SELECT * FROM composite_index" + where +
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


def _options_text(options_json, lang, names: dict | None = None) -> str:
    try:
        o = json.loads(options_json or "{}")
    except (TypeError, ValueError):
        return str(options_json or "")
    parts = []
    k = o.get("max_per_county")
    parts.append(t("urval_at_most_per_county", lang, k=k) if k else t("urval_no_county_limit", lang))
    for s in o.get("swaps") or []:
        parts.append(f"{swap_label(s.get('out'), s.get('in'), names or {})} ({s.get('reason')})")
    return "; ".join(parts)


def muni_label(code, names: dict) -> str:
    """'Vaxholm (0187)'; the code alone when the name is unknown."""
    name = names.get(code)
    return f"{name} ({code})" if name else str(code)


def swap_label(out_code, in_code, names: dict) -> str:
    """'Vaxholm (0187) → Ödeshög (0509)'."""
    return f"{muni_label(out_code, names)} → {muni_label(in_code, names)}"


def swap_warning(in_row: dict, out_result: str | None, lang: str) -> str:
    """The warning for a municipality swapped in that does not have the result it stands for:
    from the middle of its size group (composite_index.group_quarter 'middle'), or from the
    opposite quarter; '' when it lies in the quarter of the result it replaces."""
    quarter = in_row.get("group_quarter")
    fmt = {"x": f"{in_row.get('name')} ({in_row.get('municipality_code')})",
           "r": in_row.get("group_rank"), "n": in_row.get("group_n")}
    if quarter == "middle":
        return t("urval_warn_middle", lang, **fmt)
    if out_result == "high" and quarter == "bottom":
        return t("urval_warn_bottom_for_high", lang, **fmt)
    if out_result == "low" and quarter == "top":
        return t("urval_warn_top_for_low", lang, **fmt)
    return ""


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

    from pipelines.ranking.selection import table1_rows

    path = Path(__file__).resolve().parents[2] / "warehouse" / "sources" / "oj2009_sample_ranks.csv"
    try:
        return table1_frame(table1_rows(pd.read_csv(path)), lang)
    except (OSError, KeyError, ValueError):
        return None


def _same_options(options_json, max_per_county, swaps) -> bool:
    try:
        o = json.loads(options_json or "{}")
    except (TypeError, ValueError):
        return False
    stored = [(s.get("out"), s.get("in"), s.get("reason")) for s in o.get("swaps") or [] if isinstance(s, dict)]
    return o.get("max_per_county") == max_per_county and stored == [tuple(s) for s in swaps]


def stored_table1(db, year: int, index_hash: str, max_per_county, swaps) -> pd.DataFrame | None:
    """The selection_table1 rows of a stored selection run with exactly these settings (the
    year's default index, the county limit, the swaps), the default run first; None when no
    stored run matches (the page's own what-if selection)."""
    if not db.has_view("selection_table1_all") or not db.has_view("selections_all"):
        return None
    runs = db.query_view("selections_all", "SELECT selection_id, options_json, is_default FROM selections_all "
                         "WHERE year = ? AND index_config_hash = ? ORDER BY is_default DESC, created_at DESC",
                         [year, index_hash])
    if runs is None:
        return None
    for r in runs.itertuples():
        if _same_options(r.options_json, max_per_county, swaps):
            rows = db.query_view("selection_table1_all", "SELECT size_group, result, ranks, n FROM selection_table1_all "
                                 "WHERE selection_id = ?", [r.selection_id])
            if rows is not None and not rows.empty:
                return rows
    return None


def selection_table1(db, ranked, year, max_per_county, swaps, items) -> pd.DataFrame:
    """Tabell 1 of the selection on screen: the stored run's (selection_table1 mart) when one
    with these settings exists, else the pipeline's own table1_rows of the page's what-if selection
    (the same function the select step stores with); nothing is counted here."""
    from pipelines.ranking.selection import table1_rows

    h = str(ranked["config_hash"].iloc[0]) if "config_hash" in ranked and len(ranked) else ""
    stored = stored_table1(db, year, h, max_per_county, swaps) if h else None
    return stored if stored is not None else table1_rows(items)


def table1_frame(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Tabell 1 rows (size_group, result, ranks '3,5,9', n: pipelines.ranking.selection.table1_rows
    or the selection_table1 mart) as the screen shows them: one row per size group."""
    out = []
    for g in SIZE_GROUPS:
        row = {"size_group": size_group_label(g, lang).capitalize()}
        for res in ("high", "low"):
            part = rows[(rows["size_group"] == g) & (rows["result"] == res)]
            ranks = str(part["ranks"].iloc[0]) if len(part) else ""
            row[res] = ", ".join(x for x in ranks.split(",") if x)
            row[res + "_n"] = int(part["n"].iloc[0]) if len(part) else 0
        out.append(row)
    return pd.DataFrame(out)


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
    t1 = table1_frame(selection_table1(get_db(), ranked, year, max_per_county, swaps, items), lang)
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
        C.table_with_downloads("urval-selection", items, cols, lang, page_size=30,
                               caption=f"{t('urval_sel_h', lang)} {year}",
                               download=C.download_meta(stem, source, year, demo="is_demo",
                                                        settings=settings)),
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
    # the command as code, not as literal backticks
    before, _, after = t("urval_runs_lead", lang, cmd="\0").partition("\0")
    head = [html.H2(t("urval_runs_h", lang), className="h4 mt-4"),
            html.P([before, html.Code("styrkort select"), after])]
    if runs is None:
        return html.Div(head + [alert(t("view_missing", lang, view="selections_all"), "secondary")])
    runs = runs.copy()
    names = dict(zip(db.municipalities()["municipality_code"], db.municipalities()["name"]))
    runs["options"] = runs["options_json"].map(lambda s: _options_text(s, lang, names))
    runs["created_at"] = runs["created_at"].map(lambda v: formats.timestamp(v, lang))
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


def swap_choices(ranked: pd.DataFrame, items: pd.DataFrame, lang: str) -> dict:
    """What the swap controls offer, for the browser (the urval-in-data store): 'out' options
    (the selection, with result and group rank), per out code its size group and result, per
    size group the 'in' options (unselected municipalities of that group, in group-rank order,
    with name, code, group rank and a word when from the middle of the group) and per in code
    the warning for each result it could replace. Ranks and quarters are the composite_index
    mart's (group_rank, group_n, group_quarter)."""
    selected = set(items["municipality_code"])
    info = ranked.set_index("municipality_code")
    res_word = {"high": t("urval_high", lang), "low": t("urval_low", lang)}
    out_opts, group_of = [], {}
    for r in items.sort_values("name").itertuples():
        gr = info.at[r.municipality_code, "group_rank"] if r.municipality_code in info.index else None
        gn = info.at[r.municipality_code, "group_n"] if r.municipality_code in info.index else None
        out_opts.append({"label": t("urval_out_option", lang, x=f"{r.name} ({r.municipality_code})",
                                    res=res_word.get(r.result, ""), r=gr, n=gn),
                         "value": r.municipality_code})
        group_of[r.municipality_code] = {"group": r.size_group, "result": r.result}
    in_opts, warn = {}, {}
    for g, part in ranked[~ranked["municipality_code"].isin(selected)].groupby("size_group"):
        opts = []
        for row in part.sort_values("group_rank").to_dict("records"):
            label = t("urval_in_option", lang, x=f"{row['name']} ({row['municipality_code']})",
                      r=row["group_rank"], n=row["group_n"])
            if row.get("group_quarter") == "middle":
                label += " – " + t("urval_in_middle", lang)
            opts.append({"label": label, "value": row["municipality_code"]})
            warn[row["municipality_code"]] = {res: swap_warning(row, res, lang) for res in ("high", "low")}
        in_opts[str(g)] = opts
    return {"out": out_opts, "group_of": group_of, "in": in_opts, "warn": warn,
            "pick_out_first": t("urval_pick_out_first", lang), "pick": t("urval_choose", lang),
            "warning_word": t("urval_warning", lang) + " "}


def swap_list(swaps, ranked: pd.DataFrame, items: pd.DataFrame, lang: str):
    """The swaps made, with names ('Vaxholm (0187) → Ödeshög (0509): skäl') and, under a swap
    that brings in a municipality without the result it replaces, a warning (icon + text)."""
    if not swaps:
        return html.P(t("urval_swap_none", lang), id="urval-swap-list", className="text-body-secondary")
    names = dict(zip(ranked["municipality_code"], ranked["name"]))
    rows = {r["municipality_code"]: r for r in ranked.to_dict("records")}
    # a swapped-in municipality carries the result of the one it replaced (apply_swaps)
    replaced = {r["municipality_code"]: r.get("result") for r in items.to_dict("records")}
    out = []
    for o, i, r in swaps:
        warning = swap_warning(rows[i], replaced.get(i), lang) if i in rows else ""
        out.append(html.Li([f"{swap_label(o, i, names)}: {r}",
                            html.Div([html.Span("⚠", **{"aria-hidden": "true"}, className="me-1"),
                                      t("urval_warning", lang) + " ", warning],
                                     className="sk-swap-warning alert alert-warning py-1 px-2 my-1 small")
                            if warning else None]))
    return html.Ul(out, id="urval-swap-list")


def _controls(years, year, max_per_county, swaps, ranked, items, lang):
    # Native <select> elements (dbc.Select): labelled and keyboard operable out of the box.
    choices = swap_choices(ranked, items, lang)
    pick = t("urval_choose", lang)
    return dbc.Card(dbc.CardBody([
        dcc.Store(id="urval-in-data", data=choices),
        dbc.Row([
            dbc.Col([dbc.Label(t("year", lang), html_for="urval-year"),
                     dbc.Select(id="urval-year", options=[{"label": str(y), "value": str(y)} for y in years],
                                value=str(year))], md=3),
            dbc.Col([dbc.Label(t("urval_maxc", lang), html_for="urval-maxcounty"),
                     # applied as it is typed (no wait for Enter or leaving the field); a text
                     # field with a numeric keyboard, so an out-of-range number reaches the page
                     # (a number field sends "empty" for 120, which would lift the limit)
                     dbc.Input(id="urval-maxcounty", type="text", inputMode="numeric", pattern="[0-9]*",
                               value="" if max_per_county is None else str(max_per_county), debounce=False,
                               autoComplete="off"),
                     html.Div(id="urval-maxc-msg", role="status", **{"aria-live": "polite"}, className="small mt-1")],
                    md=5),
        ], className="g-3"),
        html.Fieldset([
            html.Legend(t("urval_swaps", lang), className="h6 mt-3"),
            dbc.Row([
                dbc.Col([dbc.Label(t("urval_swap_out", lang), html_for="urval-swap-out"),
                         dbc.Select(id="urval-swap-out", options=choices["out"], placeholder=pick)], md=4),
                dbc.Col([dbc.Label(t("urval_swap_in", lang), html_for="urval-swap-in"),
                         # filled with the out municipality's size group once it is chosen
                         dbc.Select(id="urval-swap-in", options=[], placeholder=choices["pick_out_first"])], md=4),
                dbc.Col([dbc.Label(t("urval_reason", lang), html_for="urval-swap-reason"),
                         dbc.Input(id="urval-swap-reason", type="text", maxLength=200)], md=4),
            ], className="g-2"),
            html.Div(id="urval-swap-in-warning", role="status", **{"aria-live": "polite"},
                     className="alert alert-warning py-1 px-2 mt-2 small", style={"display": "none"}),
            html.Div([
                dbc.Button(t("urval_swap_add", lang), id="urval-swap-add", color="primary", className="me-2 mt-2"),
                dbc.Button(t("urval_swap_clear", lang), id="urval-swap-clear", color="secondary", outline=True,
                           className="mt-2"),
            ]),
            html.Div(id="urval-swap-msg", role="alert", **{"aria-live": "assertive"}, className="mt-2"),
            html.Div(swap_list(swaps, ranked, items, lang), id="urval-swap-list-wrap"),
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
    swaps_now = parse_swaps(swaps)
    ranked = ranked_index(db, year)
    if ranked.empty:
        return html.Div([head, alert(t("urval_no_index", lang), "secondary")])
    unc = uncertainty(db, year)
    block, items = _selection_block(ranked, unc, year, k, swaps_now, lang)
    state = {"year": year, "max_per_county": k, "swaps": swaps_now, "lang": lang}
    return html.Div([
        head,
        year_notice(asked, years, year, lang),
        dcc.Store(id="urval-state", data=state),
        dcc.Location(id="urval-loc", refresh="callback-nav"),
        # the county limit changes the URL without re-rendering the page (the field keeps focus)
        dcc.Location(id="urval-county-loc", refresh=False),
        _controls(years, year, k, swaps_now, ranked, items, lang),
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
    Input("urval-swap-add", "n_clicks"),
    Input("urval-swap-clear", "n_clicks"),
    State("urval-swap-out", "value"),
    State("urval-swap-in", "value"),
    State("urval-swap-reason", "value"),
    State("urval-state", "data"),
    prevent_initial_call=True,
)
def _change(year, _add, _clear, out_code, in_code, reason, state):
    """Every control change becomes a new URL (state in the query string; the page re-renders
    from it, and the back button returns to the previous state). The county limit has its own
    callback (_county): it applies as it is typed."""
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


def county_limit(value) -> tuple[bool, int | None]:
    """(valid, limit) for what the county field holds: empty = no limit; a whole number 1–15."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True, None
    if isinstance(value, str):
        value = value.strip()
    k = parse_max(value)
    if k is None or isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False, None
    try:
        return (float(value) == k), k
    except ValueError:
        return False, None


@callback(
    Output("urval-county-loc", "search"),
    Output("urval-content", "children"),
    Output("urval-state", "data"),
    Output("urval-in-data", "data"),
    Output("urval-swap-out", "options"),
    Output("urval-swap-out", "value"),
    Output("urval-swap-list-wrap", "children"),
    Output("urval-maxc-msg", "children"),
    Input("urval-maxcounty", "value"),
    State("urval-state", "data"),
    prevent_initial_call=True,
)
def _county(maxc, state):
    """The county limit as it is typed: the selection, the swap choices and the URL follow at
    once (the swaps are cleared: they referred to the other selection); the page is not
    re-rendered, so the field keeps the focus and the next digit."""
    state = page_state(state)
    lang = state["lang"]
    nothing = (no_update,) * 7
    ok, k = county_limit(maxc)
    if not ok:
        return *nothing, alert(t("urval_e_maxc", lang))
    if state["year"] is None:
        return *nothing, ""
    if k == state.get("max_per_county"):
        return *nothing, ""
    db = get_db()
    ranked = ranked_index(db, int(state["year"]))
    if ranked.empty:
        return *nothing, ""
    state["max_per_county"], state["swaps"] = k, []
    block, items = _selection_block(ranked, uncertainty(db, int(state["year"])), int(state["year"]), k, [], lang)
    choices = swap_choices(ranked, items, lang)
    # the selection block as markup where no callback touches it (dashboard/static_html.py)
    return (state_search(state), staticize(block), state, choices, choices["out"], None,
            swap_list([], ranked, items, lang), "")


# The "In" list follows the "Out" choice in the browser (the urval-in-data store holds each size
# group's candidates): only municipalities of the swapped-out one's size group are offered, and
# a warning (icon + text) shows when the one chosen lies outside the quarter of the result it
# would take over.
clientside_callback(
    """
    function(out, data) {
        if (!data || !out || !data.group_of || !data.group_of[out]) {
            return [[], null, (data && data.pick_out_first) || ''];
        }
        const g = data.group_of[out].group;
        return [(data['in'] && data['in'][g]) || [], null, data.pick || ''];
    }
    """,
    Output("urval-swap-in", "options"),
    Output("urval-swap-in", "value"),
    Output("urval-swap-in", "placeholder"),
    Input("urval-swap-out", "value"),
    State("urval-in-data", "data"),
)

clientside_callback(
    """
    function(inCode, out, data) {
        const hidden = {display: 'none'};
        if (!data || !inCode || !out || !data.warn || !data.warn[inCode] || !data.group_of[out]) {
            return ['', hidden];
        }
        const text = data.warn[inCode][data.group_of[out].result] || '';
        return text ? ['\u26a0 ' + (data.warning_word || '') + text, {display: 'block'}] : ['', hidden];
    }
    """,
    Output("urval-swap-in-warning", "children"),
    Output("urval-swap-in-warning", "style"),
    Input("urval-swap-in", "value"),
    State("urval-swap-out", "value"),
    State("urval-in-data", "data"),
)
