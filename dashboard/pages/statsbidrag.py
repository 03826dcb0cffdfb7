"""/statsbidrag — the performance grants for local dignity guarantees 2011–2013 (seed 000)
and Stockholm's returned stimulus grant (seed 001).

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
from dashboard.data import first, get_db, valid_code
from dashboard.i18n import get_lang, page_title, size_group_label, t
from styrkort import formats

dash.register_page(__name__, path="/statsbidrag", title=page_title("nav_statsbidrag"), name="Statsbidrag")

GEOJSON = Path(__file__).resolve().parents[2] / "warehouse" / "sources" / "swedish_municipalities.geojson"
SRC_000 = "Socialstyrelsen 2014, lägesrapport om prestationsersättning för värdighetsgarantier"
SRC_000_EN = "National Board of Health and Welfare 2014, status report on performance grants for dignity guarantees"
SRC_001 = "Stockholms stad, äldreförvaltningen 2014, återredovisning av stimulansbidrag"
SRC_001_EN = "City of Stockholm, elderly care administration 2014, return of stimulus grant"
ROUND_ORDER = ["2011:1", "2011:2", "2012", "2013:1", "2013:2"]

TXT = {
    "title": ("Statsbidrag till värdighetsgarantier", "State grants for dignity guarantees"),
    "lead": ("Prestationsersättningen 2011–2013: hur mycket som utlystes och betalades ut, vilka kommuner "
             "som sökte och hur stor del av sin ram de fick.",
             "The performance grant 2011–2013: how much was announced and paid, which municipalities "
             "applied and how much of their frame they received."),
    "rounds_h": ("Tabell 2: omgångar, utlysta och utbetalda medel", "Table 2: rounds, announced and paid"),
    "caveat": ("Uppgifter per kommun finns bara för 2013 (Bilaga 1). För 2011 och 2012 finns endast "
               "summor per omgång; där visas \"uppgift saknas\" i stället för påhittade nollor.",
               "Per-municipality figures exist only for 2013 (Annex 1). For 2011 and 2012 only round totals "
               "exist; those show \"no data\" rather than invented zeros."),
    "size_h": ("Utnyttjande per storleksgrupp", "Uptake by size group"),
    "size_alt": ("Stapeldiagram: beviljat belopp som andel av ramen per storleksgrupp och omgång. Samma siffror finns i tabellen under.",
                 "Bar chart: granted amount as share of frame per size group and round. The same figures are in the table below."),
    "map_h": ("Karta: beviljat av ram per kommun", "Map: granted of frame per municipality"),
    "map_round": ("Omgång på kartan", "Round on the map"),
    "map_alt": ("Karta över Sveriges kommuner färgade efter beviljat belopp som andel av ramen. Tabellen under är ett textalternativ.",
                "Map of Sweden's municipalities coloured by granted amount as share of frame. The table below is a text alternative."),
    "hist_h": ("Historik för en kommun", "History for a municipality"),
    "hist_pick": ("Välj kommun", "Choose municipality"),
    "never_h": ("Kommuner som inte sökte 2013", "Municipalities that did not apply in 2013"),
    "never_lead": ("{n} kommuner sökte inte ur någon pott 2013. Eftersom uppgifter per kommun bara finns "
                   "för 2013 går det inte att säga vilka som aldrig sökte under hela 2011–2013 (rapporten anger 25).",
                   "{n} municipalities applied from neither pot in 2013. As per-municipality data exist only "
                   "for 2013 we cannot list who never applied in 2011–2013 (the report says 25)."),
    "recon_h": ("Avstämning 2013: ramar mot beviljat och tryckta summor", "Reconciliation 2013: frames vs granted and printed sums"),
    "recon_lead": ("Kontroller av beräknade ramar och summor mot rapportens tryckta siffror. Skillnader visas "
                   "som de är – t.ex. raderna i Bilaga 1 som inte summerar exakt till den tryckta summan.",
                   "Checks of computed frames and sums against the report's printed figures. Differences are "
                   "shown as they are – e.g. the Annex 1 rows that do not add up exactly to the printed sum."),
    "sthlm_h": ("Stockholms återbetalda stimulansbidrag", "Stockholm's returned stimulus grant"),
    "sthlm_text": ("{name} återredovisade {ret} av {rec} i stimulansbidrag för värdegrundsarbete ({years}), "
                   "den {date}, eftersom insatserna kostade mindre än väntat. Det är ett annat bidrag än "
                   "prestationsersättningen ovan.",
                   "{name} returned {ret} of {rec} in stimulus grant for value-base work ({years}) on {date}, "
                   "because the work cost less than expected. This is a different grant from the performance grant above."),
}

_t = C.translator(TXT)
alert = C.alert
widen = C.widen


def _src(lang, which="000"):
    if which == "001":
        return SRC_001_EN if lang == "en" else SRC_001
    return SRC_000_EN if lang == "en" else SRC_000


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


def rounds_table(rounds: pd.DataFrame) -> pd.DataFrame:
    """Tabell 2 rebuilt from grant_rounds, with a total row (announced, paid, share)."""
    df = rounds.copy()
    df["_k"] = df["round"].map(_round_key)
    df = df.sort_values(["_k", "pot"]).drop(columns="_k")
    df["paid_share"] = df["paid_sek"] / df["announced_sek"] * 100
    total = {"round": "Totalt 2011–2013", "performance_required": "", "announced_sek": df["announced_sek"].sum(),
             "paid_sek": df["paid_sek"].sum(), "municipalities_granted": None}
    total["paid_share"] = total["paid_sek"] / total["announced_sek"] * 100 if total["announced_sek"] else None
    return pd.concat([df, pd.DataFrame([total])], ignore_index=True)


def uptake_by_size(uptake: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """Granted as % of frame per round and size group, for rounds with per-municipality data.

    uptake: municipality_code, round, frame_sek, granted_sek, applied; sizes: municipality_code, size_group."""
    d = uptake.merge(sizes, on="municipality_code", how="left")
    d = d[d["granted_sek"].notna()]
    if d.empty:
        return pd.DataFrame(columns=["round", "size_group", "municipalities", "applied", "frame_sek",
                                     "granted_sek", "uptake_pct"])
    d = d.assign(applied_i=d["applied"].fillna(False).astype(bool).astype(int))
    g = (d.groupby(["round", "size_group"], as_index=False)
         .agg(municipalities=("municipality_code", "nunique"), applied=("applied_i", "sum"),
              frame_sek=("frame_sek", "sum"), granted_sek=("granted_sek", "sum")))
    g["uptake_pct"] = g["granted_sek"] / g["frame_sek"] * 100
    g["_k"] = g["round"].map(_round_key)
    return g.sort_values(["_k", "size_group"]).drop(columns="_k").reset_index(drop=True)


def _num(x, lang):
    """Amounts without decimals, ratios with three."""
    if x is None or pd.isna(x):
        return t("missing", lang)
    return formats.number(x, 0 if abs(x) >= 100 or float(x).is_integer() else 3, lang)


def agreement(expected, difference, lang: str) -> str:
    """'ja' when equal, 'nästan' within 1 % (rounding in the printed source), else 'nej'.
    The difference itself is always shown beside it."""
    if difference is None or pd.isna(difference):
        return t("missing", lang)
    if abs(difference) < 1e-9:
        return "ja" if lang != "en" else "yes"
    base = abs(expected) if expected is not None and not pd.isna(expected) and expected != 0 else None
    if base is not None and abs(difference) / base <= 0.01:
        return "nästan" if lang != "en" else "nearly"
    return "nej" if lang != "en" else "no"


def reconciliation_display(d: pd.DataFrame, lang: str) -> pd.DataFrame:
    d = d.copy()
    d["expected_text"] = [_num(x, lang) for x in d["expected"]]
    d["actual_text"] = [_num(x, lang) for x in d["actual"]]
    d["difference_text"] = [(("+" if x > 0 else "") + _num(x, lang)) if x is not None and not pd.isna(x)
                            else t("missing", lang) for x in d["difference"]]
    d["agrees"] = [agreement(e, x, lang) for e, x in zip(d["expected"], d["difference"])]
    return d


def not_applied_2013(uptake: pd.DataFrame) -> pd.DataFrame:
    """Municipalities with rows for 2013 that applied from no pot."""
    d = uptake[uptake["round"].astype(str).str.startswith("2013") & uptake["applied"].notna()]
    if d.empty:
        return pd.DataFrame(columns=["municipality_code"])
    applied = d.groupby("municipality_code")["applied"].apply(lambda s: bool(s.astype(bool).any()))
    return pd.DataFrame({"municipality_code": sorted(applied[~applied].index)})


# ---------------------------------------------------------------- sections


def _rounds_block(db, lang):
    head = [html.H2(_t("rounds_h", lang), className="h4 mt-3")]
    r = db.query_view("grant_rounds", "SELECT * FROM grant_rounds")
    if r is None or r.empty:
        return html.Div(head + [alert(t("view_missing", lang, view="grant_rounds"), "secondary")])
    df = rounds_table(r)
    if lang == "en":
        df.loc[df["round"] == "Totalt 2011–2013", "round"] = "Total 2011–2013"
    cols = [C.col("round", "Omgång" if lang != "en" else "Round"),
            C.col("performance_required", "Prestation / krav" if lang != "en" else "Requirement"),
            C.col("announced_sek", "Utlyst" if lang != "en" else "Announced", "kr"),
            C.col("paid_sek", "Utbetalt" if lang != "en" else "Paid", "kr"),
            C.col("paid_share", "Andel utbetald" if lang != "en" else "Share paid", "percent", 0),
            C.col("municipalities_granted", "Kommuner som beviljats" if lang != "en" else "Municipalities granted", "int")]
    return html.Div(head + [C.table_with_downloads("statsbidrag-rounds", df, cols, lang),
                            C.source_caption(_src(lang) + ", Tabell 2", "2011–2013", lang)])


def _sizes(db):
    # size group at the end of 2012 (the population the 2013 frames were based on is earlier,
    # but the grouping is only used to summarise)
    df = db.query("SELECT municipality_code, size_group, year FROM municipality_years "
                  "WHERE year <= 2013 QUALIFY row_number() OVER (PARTITION BY municipality_code ORDER BY year DESC) = 1")
    return df[["municipality_code", "size_group"]]


def _uptake(db) -> pd.DataFrame | None:
    return db.query_view("grant_uptake", "SELECT u.*, m.name FROM grant_uptake u "
                         "JOIN municipalities m USING (municipality_code)")


def _size_block(uptake, sizes, lang):
    head = [html.H2(_t("size_h", lang), className="h4 mt-4")]
    agg = uptake_by_size(uptake, sizes)
    if agg.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    fig = F.uptake_by_group_bar(agg, lang)
    agg["size_group_label"] = agg["size_group"].map(lambda g: size_group_label(g, lang))
    cols = [C.col("round", "Omgång" if lang != "en" else "Round"), C.col("size_group_label", t("size_group", lang)),
            C.col("municipalities", "Kommuner" if lang != "en" else "Municipalities", "int"),
            C.col("applied", "Sökte" if lang != "en" else "Applied", "int"),
            C.col("frame_sek", "Ram" if lang != "en" else "Frame", "kr"),
            C.col("granted_sek", "Beviljat" if lang != "en" else "Granted", "kr"),
            C.col("uptake_pct", "Beviljat av ram" if lang != "en" else "Granted of frame", "percent", 1)]
    return html.Div(head + [C.graph("statsbidrag-size-fig", fig, _t("size_alt", lang), lang),
                            C.source_caption(_src(lang) + ", Bilaga 1; ramar beräknade av styrkort" if lang != "en"
                                             else _src(lang) + ", Annex 1; frames computed by styrkort", 2013, lang,
                                             modelled=True),
                            C.table_with_downloads("statsbidrag-size", agg, cols, lang)])


def map_frame(uptake: pd.DataFrame, rnd: str) -> pd.DataFrame:
    d = uptake[(uptake["round"] == rnd) & uptake["granted_sek"].notna()].copy()
    d = d.groupby(["municipality_code", "name"], as_index=False).agg(
        frame_sek=("frame_sek", "sum"), granted_sek=("granted_sek", "sum"),
        applied=("applied", lambda s: bool(pd.Series(s).fillna(False).astype(bool).any())))
    d["uptake_pct"] = d["granted_sek"] / d["frame_sek"] * 100
    return d


def _map_content(uptake, rnd, lang):
    d = map_frame(uptake, rnd)
    if d.empty:
        return [alert(t("no_rows", lang), "secondary")]
    fig = F.uptake_map(d, geojson(), lang)
    d["applied_text"] = d["applied"].map(lambda a: ("ja" if a else "nej") if lang != "en" else ("yes" if a else "no"))
    d["href"] = d["municipality_code"].map(lambda c: f"/kommun/{c}" + ("?lang=en" if lang == "en" else ""))
    cols = [C.col("municipality_code", "Kod" if lang != "en" else "Code"),
            C.col("name", "Kommun" if lang != "en" else "Municipality", link_field="href"),
            C.col("applied_text", "Sökte" if lang != "en" else "Applied"),
            C.col("frame_sek", "Ram" if lang != "en" else "Frame", "kr"),
            C.col("granted_sek", "Beviljat" if lang != "en" else "Granted", "kr"),
            C.col("uptake_pct", "Beviljat av ram" if lang != "en" else "Granted of frame", "percent", 1)]
    return [C.graph("statsbidrag-map-fig", fig, _t("map_alt", lang), lang),
            C.source_caption(_src(lang) + ", Bilaga 1; kommungränser Valmyndigheten (okfse/sweden-geojson)"
                             if lang != "en" else _src(lang) + ", Annex 1; boundaries Swedish Election Authority",
                             rnd, lang, modelled=True,
                             extra="ram beräknad från invånare 75+" if lang != "en" else "frame computed from inhabitants 75+"),
            C.table_with_downloads("statsbidrag-map-table", d, cols, lang, page_size=15,
                                   caption=f"{_t('map_h', lang)} ({rnd})")]


def _history_content(uptake, code, lang):
    d = uptake[uptake["municipality_code"] == code].copy()
    if d.empty:
        return [alert(t("no_rows", lang), "secondary")]
    d["_k"] = d["round"].map(_round_key)
    d = d.sort_values(["_k", "pot"])
    d["applied_text"] = d["applied"].map(
        lambda a: t("missing", lang) if a is None or pd.isna(a) else
        (("ja" if a else "nej") if lang != "en" else ("yes" if a else "no")))
    cols = [C.col("round", "Omgång" if lang != "en" else "Round"), C.col("pot", "Pott" if lang != "en" else "Pot", "int"),
            C.col("frame_sek", "Ram (beräknad)" if lang != "en" else "Frame (computed)", "kr"),
            C.col("applied_text", "Sökte" if lang != "en" else "Applied"),
            C.col("granted_sek", "Beviljat" if lang != "en" else "Granted", "kr"),
            C.col("paid_sek", "Utbetalt" if lang != "en" else "Paid", "kr"),
            C.col("returned_sek", "Återbetalt" if lang != "en" else "Returned", "kr"),
            C.col("uptake_share", "Beviljat av ram" if lang != "en" else "Granted of frame", "share", 1)]
    name = d["name"].iloc[0]
    return [C.table_with_downloads("statsbidrag-history", d, cols, lang, caption=f"{_t('hist_h', lang)}: {name}"),
            C.source_caption(_src(lang), "2011–2013", lang, modelled=True,
                             extra=_t("caveat", lang))]


def _never_block(db, uptake, sizes, lang):
    head = [html.H2(_t("never_h", lang), className="h4 mt-4")]
    d = db.query_view("grant_not_applied_2013", "SELECT municipality_code FROM grant_not_applied_2013")
    if d is None:
        d = not_applied_2013(uptake)
    if d.empty:
        return html.Div(head + [alert(t("no_rows", lang), "secondary")])
    muni = db.municipalities()
    d = d[["municipality_code"]].merge(muni, on="municipality_code", how="left").merge(sizes, on="municipality_code", how="left")
    d["size_group_label"] = d["size_group"].map(lambda g: size_group_label(g, lang))
    d["href"] = d["municipality_code"].map(lambda c: f"/kommun/{c}" + ("?lang=en" if lang == "en" else ""))
    d = d.sort_values("name")
    cols = [C.col("municipality_code", "Kod" if lang != "en" else "Code"),
            C.col("name", "Kommun" if lang != "en" else "Municipality", link_field="href"),
            C.col("county_name", "Län" if lang != "en" else "County"),
            C.col("size_group_label", t("size_group", lang))]
    return html.Div(head + [html.P(_t("never_lead", lang, n=len(d))),
                            C.table_with_downloads("statsbidrag-never", d, cols, lang, page_size=15),
                            C.source_caption(_src(lang) + ", Bilaga 1", 2013, lang)])


def _recon_block(db, lang):
    head = [html.H2(_t("recon_h", lang), className="h4 mt-4"), html.P(_t("recon_lead", lang))]
    d = db.query_view("grant_reconciliation", 'SELECT "check", expected, actual, difference, note FROM grant_reconciliation')
    if d is None or d.empty:
        return html.Div(head + [alert(t("view_missing", lang, view="grant_reconciliation"), "secondary")])
    d = reconciliation_display(d, lang)
    cols = [C.col("check", "Kontroll" if lang != "en" else "Check"),
            C.col("expected_text", "Förväntat (tryckt)" if lang != "en" else "Expected (printed)"),
            C.col("actual_text", "Beräknat" if lang != "en" else "Computed"),
            C.col("difference_text", "Skillnad" if lang != "en" else "Difference"),
            C.col("agrees", "Stämmer (nästan = inom 1 %)" if lang != "en" else "Agrees (nearly = within 1%)"),
            C.col("note", "Förklaring" if lang != "en" else "Note")]
    table = C.table_with_downloads("statsbidrag-recon", d, cols, lang, page_size=25)
    return html.Div(head + [widen(table, {"check": 3, "note": 4}),
                            C.source_caption(_src(lang) + ", Tabell 1–2 och Bilaga 1", 2013, lang)])


def _stockholm_block(db, lang):
    head = [html.H2(_t("sthlm_h", lang), className="h4 mt-4")]
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
        items.append(html.P(_t("sthlm_text", lang, name=r.get("name"), ret=formats.kr(r.get("returned_sek"), lang=lang),
                               rec=formats.kr(r.get("received_total_sek"), lang=lang),
                               years=r.get("grant_years"), date=date), className="fs-5"))
    cols = [C.col("name", "Kommun" if lang != "en" else "Municipality"),
            C.col("grant_type", "Bidrag" if lang != "en" else "Grant"),
            C.col("grant_years", "År" if lang != "en" else "Years"),
            C.col("received_total_sek", "Mottaget" if lang != "en" else "Received", "kr"),
            C.col("spent_sek", "Förbrukat" if lang != "en" else "Spent", "kr"),
            C.col("returned_sek", "Återbetalt" if lang != "en" else "Returned", "kr"),
            C.col("returned_date", "Datum" if lang != "en" else "Date")]
    return html.Div(head + items + [C.table_with_downloads("statsbidrag-stimulus", d, cols, lang),
                                    C.source_caption(_src(lang, "001"), "2012–2013", lang)])


@C.safe_layout
def layout(lang=None, round=None, code=None, **_):  # noqa: A002 - query parameter name
    lang = get_lang({"lang": lang})
    db = get_db()
    out = [C.page_heading(_t("title", lang), _t("lead", lang)),
           dcc.Store(id="statsbidrag-lang", data=lang),
           dcc.Location(id="statsbidrag-loc", refresh=False),
           alert(_t("caveat", lang), "info"),
           _rounds_block(db, lang)]
    uptake = _uptake(db)
    if uptake is None or uptake.empty:
        out.append(alert(t("view_missing", lang, view="grant_uptake"), "secondary"))
        out += [_recon_block(db, lang), _stockholm_block(db, lang)]
        return html.Div(out)
    sizes = _sizes(db)
    rounds_with_data = sorted({r for r in uptake.loc[uptake["granted_sek"].notna(), "round"]}, key=_round_key)
    rnd = first(round) if first(round) in rounds_with_data else (rounds_with_data[0] if rounds_with_data else None)
    muni = uptake[["municipality_code", "name"]].drop_duplicates().sort_values("name")
    code = first(code)
    code = code if valid_code(code) and code in set(muni["municipality_code"]) else "0180"
    out.append(_size_block(uptake, sizes, lang))
    out += [html.H2(_t("map_h", lang), className="h4 mt-4"),
            html.Label(_t("map_round", lang), htmlFor="statsbidrag-round", className="form-label"),
            dbc.Select(id="statsbidrag-round", options=[{"label": r, "value": r} for r in rounds_with_data],
                       value=rnd, style={"maxWidth": "12rem"}),
            dcc.Loading(html.Div(_map_content(uptake, rnd, lang) if rnd else [], id="statsbidrag-map"))]
    out += [html.H2(_t("hist_h", lang), className="h4 mt-4"),
            html.Label(_t("hist_pick", lang), htmlFor="statsbidrag-code", className="form-label"),
            dbc.Select(id="statsbidrag-code", options=[{"label": f"{r.name} ({r.municipality_code})",
                                                        "value": r.municipality_code} for r in muni.itertuples()],
                       value=code, style={"maxWidth": "24rem"}),
            html.Div(_history_content(uptake, code, lang), id="statsbidrag-history-box")]
    out += [_never_block(db, uptake, sizes, lang), _recon_block(db, lang), _stockholm_block(db, lang)]
    return html.Div(out)


@callback(Output("statsbidrag-map", "children"), Output("statsbidrag-history-box", "children"),
          Output("statsbidrag-loc", "search"),
          Input("statsbidrag-round", "value"), Input("statsbidrag-code", "value"),
          State("statsbidrag-lang", "data"), prevent_initial_call=True)
def _update(rnd, code, lang):
    """Map round and history municipality: update in place and keep both in the URL."""
    from urllib.parse import urlencode

    from dash import ctx

    db = get_db()
    uptake = _uptake(db)
    if uptake is None:
        return no_update, no_update, no_update
    items = [("round", rnd), ("code", code)] + ([("lang", "en")] if lang == "en" else [])
    search = "?" + urlencode([(k, v) for k, v in items if v])
    if ctx.triggered_id == "statsbidrag-round":
        return _map_content(uptake, rnd, lang), no_update, search
    if not valid_code(code):
        return no_update, no_update, no_update
    return no_update, _history_content(uptake, code, lang), search
