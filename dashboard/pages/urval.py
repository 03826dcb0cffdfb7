"""/urval — rankings by size group and the 15/15 selection (seed 003, chapter 2).

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
from dashboard.data import first, get_db, parse_year, valid_code
from dashboard.i18n import get_lang, page_title, size_group_label, t
from styrkort import formats

dash.register_page(__name__, path="/urval", title=page_title("nav_urval"),
                   name="Rangordning och urval")

SIZE_GROUPS = ("small", "medium", "large")
QUOTA_TEXT = {"sv": "6 högsta och 6 lägsta bland små och mellanstora kommuner, 3 och 3 bland stora",
              "en": "the 6 highest and 6 lowest among small and medium municipalities, 3 and 3 among large"}

TXT = {
    "title": ("Rangordning och urval", "Rankings and selection"),
    "lead": ("Kommunerna rangordnade efter det sammanvägda indexet, per storleksgrupp, och urvalet av "
             "15 kommuner med höga och 15 med låga resultat som i SKL:s studie 2010.",
             "Municipalities ranked by the composite index, per size group, and the selection of 15 "
             "municipalities with high and 15 with low results as in SALAR's 2010 study."),
    "year": ("År", "Year"),
    "maxc": ("Högst antal kommuner per län (tomt = ingen gräns)", "At most municipalities per county (empty = no limit)"),
    "swaps": ("Byten (manuell justering med skäl)", "Swaps (manual adjustment with a reason)"),
    "swap_out": ("Ut (kommun i urvalet)", "Out (municipality in the selection)"),
    "swap_in": ("In (kommun i samma storleksgrupp)", "In (municipality in the same size group)"),
    "swap_reason": ("Skäl", "Reason"),
    "swap_add": ("Lägg till byte", "Add swap"),
    "swap_clear": ("Ta bort alla byten", "Remove all swaps"),
    "swap_none": ("Inga byten.", "No swaps."),
    "sel_h": ("Urvalet 15/15", "The 15/15 selection"),
    "sel_lead": ("Urvalet räknas här i webbläsarens session (inget sparas i lagret). Regel: {q}.",
                 "The selection is computed here for this session (nothing is stored). Rule: {q}."),
    "t1_h": ("Tabell 1: rangplatser i urvalet", "Table 1: ranks in the selection"),
    "high": ("Höga resultat", "High results"),
    "low": ("Låga resultat", "Low results"),
    "rank_h": ("Rangordning per storleksgrupp", "Rankings per size group"),
    "runs_h": ("Sparade urvalskörningar", "Stored selection runs"),
    "runs_lead": ("Körningar av `styrkort select` som sparats i lagret, med konfigurationens hash.",
                  "Runs of `styrkort select` stored in the warehouse, with the configuration hash."),
    "no_index": ("Det sammanvägda indexet finns inte i lagret.", "The composite index is not in the warehouse."),
    "e_reason": ("Ange ett skäl för bytet.", "Give a reason for the swap."),
    "e_pick": ("Välj både en kommun som ska ut och en som ska in.", "Choose both a municipality to take out and one to put in."),
    "e_out": ("{x} finns inte i urvalet och kan därför inte bytas ut.", "{x} is not in the selection, so it cannot be swapped out."),
    "e_in_sel": ("{x} finns redan i urvalet.", "{x} is already in the selection."),
    "e_group": ("{i} tillhör storleksgruppen {gi} men {o} tillhör {go}; ett byte måste ske inom storleksgruppen.",
                "{i} is in size group {gi} but {o} is in {go}; a swap must stay within the size group."),
    "e_maxc": ("Högst antal per län måste vara ett heltal från 1 till 15.", "At most per county must be a whole number from 1 to 15."),
    "e_swap_url": ("Ett byte i adressen kunde inte användas och har hoppats över: {m}", "A swap in the address could not be used and was skipped: {m}"),
    "source": ("Sammanvägt index över Öppna jämförelser-liknande nyckeltal (demodata), konfiguration {h}",
               "Composite index over Open-comparisons-style indicators (demo data), configuration {h}"),
    "interval": ("Rangintervall 5–95 %", "Rank interval 5–95%"),
    "adjusted": ("Justerad", "Adjusted"),
}

_t = C.translator(TXT)
alert = C.alert
widen = C.widen


# ---------------------------------------------------------------- data


def _default_where(db, view: str) -> str:
    return " WHERE is_default" if "is_default" in db.columns(view) else ""


def ranked_index(db, year: int) -> pd.DataFrame:
    """composite_index for the year (default config) with names and counties."""
    where = _default_where(db, "composite_index")
    sql = ("SELECT c.municipality_code, m.name, m.county_code, m.county_name, c.size_group, c.rank, "
           "c.group_rank, c.composite, c.config_hash FROM (SELECT * FROM composite_index" + where +
           ") c JOIN municipalities m USING (municipality_code) WHERE c.year = ? ORDER BY c.rank")
    df = db.query_view("composite_index", sql, [year])
    return df if df is not None else pd.DataFrame()


def uncertainty(db, year: int) -> pd.DataFrame:
    where = _default_where(db, "rank_uncertainty")
    df = db.query_view("rank_uncertainty",
                       "SELECT municipality_code, rank_median, rank_p05, rank_p95, p_top, p_bottom, draws "
                       "FROM (SELECT * FROM rank_uncertainty" + where + ") WHERE year = ?", [year])
    return df if df is not None else pd.DataFrame(columns=["municipality_code"])


def stored_runs(db, year: int | None) -> pd.DataFrame | None:
    if not db.has_view("selections"):
        return None
    df = db.query_view("selections", "SELECT s.selection_id, s.year, s.config_hash, s.options_json, s.created_at, "
                       "(SELECT count(*) FROM selection_items i WHERE i.selection_id = s.selection_id) AS n_items "
                       "FROM selections s ORDER BY s.year DESC, s.created_at DESC")
    if df is None:
        df = db.query_view("selections", "SELECT selection_id, year, config_hash, options_json, created_at "
                           "FROM selections ORDER BY year DESC, created_at DESC")
    return df


def _options_text(options_json, lang) -> str:
    try:
        o = json.loads(options_json or "{}")
    except (TypeError, ValueError):
        return str(options_json or "")
    parts = []
    k = o.get("max_per_county")
    parts.append((f"högst {k} per län" if lang != "en" else f"at most {k} per county") if k else
                 ("ingen länsgräns" if lang != "en" else "no county limit"))
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
            msgs.append(_t("e_swap_url", lang, m=err))
            continue
        try:
            items = apply_swaps(items, ranked, [Swap(o, i, r)])
        except SelectionError as e:  # belt and braces: the pipeline's own check
            msgs.append(_t("e_swap_url", lang, m=str(e)))
    return items, msgs


def validate_swap(items: pd.DataFrame, ranked: pd.DataFrame, out_code, in_code, reason, lang) -> str | None:
    """Swedish (or English) message for an invalid swap, None if valid."""
    if not out_code or not in_code:
        return _t("e_pick", lang)
    if not (reason or "").strip():
        return _t("e_reason", lang)
    info = ranked.set_index("municipality_code")
    if out_code not in info.index or in_code not in info.index:
        return _t("e_pick", lang)
    lab = lambda c: f"{info.at[c, 'name']} ({c})"  # noqa: E731
    selected = set(items["municipality_code"])
    if out_code not in selected:
        return _t("e_out", lang, x=lab(out_code))
    if in_code in selected:
        return _t("e_in_sel", lang, x=lab(in_code))
    go_, gi = info.at[out_code, "size_group"], info.at[in_code, "size_group"]
    if go_ != gi:
        return _t("e_group", lang, i=lab(in_code), o=lab(out_code),
                  gi=size_group_label(gi, lang), go=size_group_label(go_, lang))
    return None


def study_table1(lang: str) -> pd.DataFrame | None:
    """The study's own Table 1 (ÖJ 2009 ranks, seed 003) in the same shape, for comparison."""
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


def _selection_block(ranked, unc, year, max_per_county, swaps, lang):
    items, msgs = compute_selection(ranked, max_per_county, swaps, lang)
    items = items.merge(unc[["municipality_code"] + [c for c in ("rank_p05", "rank_p95") if c in unc]],
                        on="municipality_code", how="left")
    from dashboard.figures import SIZE_GROUP_LABEL

    items["size_group_label"] = items["size_group"].map(SIZE_GROUP_LABEL["en" if lang == "en" else "sv"])
    items["result_label"] = items["result"].map(
        {"high": "Hög" if lang != "en" else "High", "low": "Låg" if lang != "en" else "Low"})
    items["interval"] = [_interval(a, b, lang) for a, b in zip(items.get("rank_p05"), items.get("rank_p95"))] \
        if "rank_p05" in items else ""
    items["adjusted_text"] = items["adjusted"].map(lambda a: ("ja" if a else "nej") if lang != "en" else ("yes" if a else "no"))
    items["href"] = items["municipality_code"].map(lambda c: f"/kommun/{c}" + ("?lang=en" if lang == "en" else ""))
    t1 = table1_frame(items, lang)
    h = ranked["config_hash"].iloc[0] if "config_hash" in ranked and len(ranked) else "?"
    cols = [C.col("municipality_code", "Kod" if lang != "en" else "Code"),
            C.col("name", "Kommun" if lang != "en" else "Municipality", link_field="href"),
            C.col("size_group_label", "Storleksgrupp" if lang != "en" else "Size group"),
            C.col("result_label", "Resultat" if lang != "en" else "Result"),
            C.col("rank", "Rang" if lang != "en" else "Rank", "int"),
            C.col("group_rank", "Rang i gruppen" if lang != "en" else "Group rank", "int"),
            C.col("composite", "Index" if lang != "en" else "Composite", "number", 2),
            C.col("interval", _t("interval", lang)),
            C.col("county_name", "Län" if lang != "en" else "County"),
            C.col("adjusted_text", _t("adjusted", lang)),
            C.col("reason", "Skäl" if lang != "en" else "Reason")]
    t1cols = [C.col("size_group", "Storleksgrupp" if lang != "en" else "Size group"),
              C.col("high", _t("high", lang)), C.col("high_n", "Antal" if lang != "en" else "Count", "int"),
              C.col("low", _t("low", lang)), C.col("low_n", "Antal" if lang != "en" else "Count", "int")]
    children = [
        html.H2(_t("sel_h", lang), className="h4 mt-4"),
        html.P(_t("sel_lead", lang, q=QUOTA_TEXT["en" if lang == "en" else "sv"])),
    ]
    for m in msgs:
        children.append(alert(m))
    study = study_table1(lang)
    study_block = []
    if study is not None:
        study_block.append(html.Details([
            html.Summary("Jämför med studiens tabell 1 (ÖJ 2009)" if lang != "en"
                         else "Compare with the study's Table 1 (ÖJ 2009)"),
            html.P("Studien justerade urvalet för geografisk spridning, därför följer det inte strikt "
                   "rangordningen (t.ex. rang 23 bland små och 66 bland stora)." if lang != "en" else
                   "The study adjusted its selection for geographic spread, so it does not strictly follow "
                   "the ranking (e.g. rank 23 among small and 66 among large).", className="mt-2"),
            C.table_with_downloads("urval-study-table1", study, t1cols, lang),
            C.source_caption("SKL 2010, Öppna jämförelser analys – framgångsfaktorer inom äldreomsorgen, tabell 1"
                             if lang != "en" else "SALAR 2010, Open comparisons analysis – success factors in elderly care, Table 1",
                             2009, lang),
        ], className="mb-3"))
    children += [
        C.table_with_downloads("urval-table1", t1, t1cols, lang, caption=f"{_t('t1_h', lang)} {year}"),
        *study_block,
        widen(C.table_with_downloads("urval-selection", items, cols, lang, page_size=30,
                                     caption=f"{_t('sel_h', lang)} {year}"), {"reason": 2.2, "name": 1.4}),
        C.source_caption(_t("source", lang, h=h), year, lang,
                         extra=("rangintervall: modellerad (Monte Carlo)" if lang != "en"
                                else "rank interval: modelled (Monte Carlo)")),
        html.Span(C.demo_badge(lang), className="ms-2"),
    ]
    return html.Div(children, id="urval-selection-block"), items


def _interval(a, b, lang):
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return formats.MISSING_SV if lang != "en" else formats.MISSING_EN
    return f"{int(round(a))}–{int(round(b))}"


def _rank_tables(ranked, unc, year, lang):
    df = ranked.merge(unc, on="municipality_code", how="left")
    df["interval"] = [_interval(a, b, lang) for a, b in zip(df.get("rank_p05"), df.get("rank_p95"))] \
        if "rank_p05" in df else ""
    df["href"] = df["municipality_code"].map(lambda c: f"/kommun/{c}" + ("?lang=en" if lang == "en" else ""))
    cols = [C.col("group_rank", "Rang i gruppen" if lang != "en" else "Group rank", "int"),
            C.col("rank", "Rang (alla)" if lang != "en" else "Rank (all)", "int"),
            C.col("name", "Kommun" if lang != "en" else "Municipality", link_field="href"),
            C.col("composite", "Index" if lang != "en" else "Composite", "number", 2),
            C.col("interval", _t("interval", lang)),
            C.col("p_top", "Andel dragningar i gruppens topp" if lang != "en" else "Share of draws in group top", "share", 0),
            C.col("county_name", "Län" if lang != "en" else "County")]
    # Three stacked sections (not tabs: every table is reachable and printable).
    sections = []
    for g in SIZE_GROUPS:
        part = df[df["size_group"] == g].sort_values("group_rank")
        label = f"{size_group_label(g, lang).capitalize()} ({len(part)})"
        sections.append(html.Section([
            html.H3(f"{label}, {year}", className="h5 mt-3", id=f"urval-rank-{g}-h"),
            C.table_with_downloads(f"urval-rank-{g}", part, cols, lang, page_size=10)],
            **{"aria-labelledby": f"urval-rank-{g}-h"}))
    return html.Div([html.H2(_t("rank_h", lang), className="h4 mt-4"), *sections])


def _runs_block(db, lang):
    runs = stored_runs(db, None)
    head = [html.H2(_t("runs_h", lang), className="h4 mt-4"), html.P(_t("runs_lead", lang))]
    if runs is None:
        return html.Div(head + [alert(t("view_missing", lang, view="selections"), "secondary")])
    runs = runs.copy()
    runs["options"] = runs["options_json"].map(lambda s: _options_text(s, lang))
    cols = [C.col("selection_id", "Körning" if lang != "en" else "Run"),
            C.col("year", "År" if lang != "en" else "Year"),
            C.col("config_hash", "Konfigurationens hash" if lang != "en" else "Config hash"),
            C.col("options", "Val" if lang != "en" else "Options"),
            C.col("created_at", "Skapad" if lang != "en" else "Created")]
    if "n_items" in runs:
        cols.insert(4, C.col("n_items", "Antal kommuner" if lang != "en" else "Municipalities", "int"))
    return html.Div(head + [C.table_with_downloads("urval-runs", runs, cols, lang, page_size=10)])


def _controls(years, year, max_per_county, swaps, ranked, items, lang):
    # Native <select> elements (dbc.Select): labelled and keyboard operable out of the box.
    selected = set(items["municipality_code"])
    out_opts = [{"label": f"{r.name} ({r.municipality_code})", "value": r.municipality_code}
                for r in items.sort_values("name").itertuples()]
    in_opts = [{"label": f"{r.name} ({r.municipality_code}, {size_group_label(r.size_group, lang)})",
                "value": r.municipality_code}
               for r in ranked.sort_values("name").itertuples() if r.municipality_code not in selected]
    pick = "Välj …" if lang != "en" else "Choose …"
    swap_list = html.Ul([html.Li(f"{o} → {i}: {r}") for o, i, r in swaps], id="urval-swap-list") if swaps \
        else html.P(_t("swap_none", lang), id="urval-swap-list", className="text-body-secondary")
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([dbc.Label(_t("year", lang), html_for="urval-year"),
                     dbc.Select(id="urval-year", options=[{"label": str(y), "value": str(y)} for y in years],
                                value=str(year))], md=3),
            dbc.Col([dbc.Label(_t("maxc", lang), html_for="urval-maxcounty"),
                     dbc.Input(id="urval-maxcounty", type="number", min=1, max=15, step=1,
                               value=max_per_county, debounce=True)], md=5),
        ], className="g-3"),
        html.Fieldset([
            html.Legend(_t("swaps", lang), className="h6 mt-3"),
            dbc.Row([
                dbc.Col([dbc.Label(_t("swap_out", lang), html_for="urval-swap-out"),
                         dbc.Select(id="urval-swap-out", options=out_opts, placeholder=pick)], md=4),
                dbc.Col([dbc.Label(_t("swap_in", lang), html_for="urval-swap-in"),
                         dbc.Select(id="urval-swap-in", options=in_opts, placeholder=pick)], md=4),
                dbc.Col([dbc.Label(_t("swap_reason", lang), html_for="urval-swap-reason"),
                         dbc.Input(id="urval-swap-reason", type="text", maxLength=200)], md=4),
            ], className="g-2"),
            html.Div([
                dbc.Button(_t("swap_add", lang), id="urval-swap-add", color="primary", className="me-2 mt-2"),
                dbc.Button(_t("swap_clear", lang), id="urval-swap-clear", color="secondary", outline=True,
                           className="mt-2"),
            ]),
            html.Div(id="urval-swap-msg", role="alert", **{"aria-live": "assertive"}, className="mt-2"),
            swap_list,
        ]),
    ]), className="mb-3")


@C.safe_layout
def layout(year=None, lang=None, max_per_county=None, swaps=None, **_):
    lang = get_lang({"lang": lang})
    db = get_db()
    years = db.years("composite_index")
    head = C.page_heading(_t("title", lang), _t("lead", lang))
    if not years:
        return html.Div([head, alert(t("view_missing", lang, view="composite_index"), "secondary")])
    year = parse_year(year, years) or years[-1]
    k = parse_max(max_per_county)
    swap_list = parse_swaps(swaps)
    ranked = ranked_index(db, year)
    if ranked.empty:
        return html.Div([head, alert(_t("no_index", lang), "secondary")])
    unc = uncertainty(db, year)
    block, items = _selection_block(ranked, unc, year, k, swap_list, lang)
    state = {"year": year, "max_per_county": k, "swaps": swap_list, "lang": lang}
    return html.Div([
        head,
        dcc.Store(id="urval-state", data=state),
        dcc.Location(id="urval-loc", refresh="callback-nav"),
        _controls(years, year, k, swap_list, ranked, items, lang),
        dcc.Loading(html.Div(block, id="urval-content"), type="default"),
        _rank_tables(ranked, unc, year, lang),
        _runs_block(db, lang),
    ])


def state_search(state: dict) -> str:
    """The query string for a page state (shareable URL)."""
    from urllib.parse import urlencode

    items = [("year", state.get("year"))]
    if state.get("max_per_county"):
        items.append(("max_per_county", state["max_per_county"]))
    if state.get("swaps"):
        items.append(("swaps", swaps_text(state["swaps"])))
    if state.get("lang") == "en":
        items.append(("lang", "en"))
    return "?" + urlencode([(k, v) for k, v in items if v is not None])


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

    state = dict(state or {})
    lang = state.get("lang", "sv")
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
            if k is None or float(maxc) != k:
                return no_update, alert(_t("e_maxc", lang))
            state["max_per_county"] = k
            state["swaps"] = []
    elif trig == "urval-swap-clear":
        state["swaps"] = []
    elif trig == "urval-swap-add":
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
