"""Pure figure builders of the analysis pages: expectations computed by hand."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from dashboard import figures as F
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "warehouse" / "sources"


# The OLS line's hand-computed cases live in tests/test_associations.py (the pipeline fits it).


def test_association_in_words():
    assert F.association_in_words(0.04, 0.52) == "Inget tydligt samband (r = 0,04; p = 0,52)"
    assert F.association_in_words(-0.21, 0.0004) == "Svagt negativt samband (r = \u22120,21; p < 0,001)"
    assert F.association_in_words(0.62, 0.004) == "Starkt positivt samband (r = 0,62; p = 0,004)"
    assert F.association_in_words(0.35, 0.02, "en") == "Moderate positive association (r = 0.35; p = 0.02)"
    assert F.association_in_words(float("nan"), float("nan")).startswith("För få")


def test_deviation_colour_and_label_carry_the_sign():
    assert F.deviation_colour(12.3) == F.RED
    assert F.deviation_colour(-0.1) == F.GREEN
    assert F.deviation_label(12.34) == "+12,3\u00a0% över standardkostnad"
    assert F.deviation_label(-4.5) == "\u22124,5\u00a0% under standardkostnad"
    assert "below standard cost" in F.deviation_label(-4.5, "en")
    assert F.deviation_label(-4.5, "en").startswith("\u2212")


def test_diagram1_bars_colours_labels_and_order():
    df = pd.DataFrame({"name": ["Vadstena", "Ydre", "Mjölby"], "deviation_pct": [12.3, -4.5, 7.0],
                       "rank": [1, 2, 5]})
    fig = F.diagram1(df)
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["1. Vadstena", "2. Ydre", "5. Mjölby"]
    assert list(bar.marker.color) == [F.RED, F.GREEN, F.RED]
    assert list(bar.text) == ["+12,3\u00a0% över standardkostnad", "\u22124,5\u00a0% under standardkostnad",
                              "+7,0\u00a0% över standardkostnad"]
    assert fig.layout.yaxis.autorange == "reversed"      # rank 1 on top, as in the study
    assert fig.layout.separators == ", "


def test_top_by_composite_skips_missing_cost_and_keeps_rank_order():
    comp = pd.DataFrame({"municipality_code": ["a", "b", "c", "d"], "name": list("ABCD"), "rank": [3, 1, 2, 4]})
    dev = pd.DataFrame({"municipality_code": ["a", "b", "c", "d"], "deviation_pct": [1.0, None, -2.0, 5.0]})
    top = F.top_by_composite(comp, dev, n=2)
    assert top["municipality_code"].tolist() == ["c", "a"]


def test_cost_scatter_has_ols_line_through_the_fit():
    df = pd.DataFrame({"municipality_code": list("abcd"), "name": list("ABCD"),
                       "composite": [1, 2, 3, 4], "deviation_pct": [2, 1, 4, 3],
                       "size_group": ["small", "small", "large", "medium"]})
    # the stored line (quality_associations: slope 0,6, intercept 1,0), drawn, not fitted here
    fig = F.cost_scatter(df, line={"slope": 0.6, "intercept": 1.0},
                         title="Inget tydligt samband (r = 0,60; p = 0,40)")
    line = [t for t in fig.data if t.mode == "lines"][0]
    assert list(line.x) == [1, 4]
    assert list(line.y) == pytest.approx([1.6, 3.4])          # 1,0 + 0,6·x
    assert fig.layout.title.text == "Inget tydligt samband (r = 0,60; p = 0,40)"
    assert sum(len(t.x) for t in fig.data if t.mode == "markers") == 4
    assert not [t for t in F.cost_scatter(df).data if t.mode == "lines"]   # no stored line: none drawn


def test_trend_figure_has_reference_lines_and_demo_label():
    df = pd.DataFrame({"year": [2010, 2009, 2011], "value": [2.0, 1.0, 3.0],
                       "group_mean": [2.0, 2.0, 2.0], "national_mean": [1.5, 1.5, 1.5]})
    fig = F.trend_figure(df, "Nöjdhet", "%", municipality_name="Ale", is_demo=True)
    names = [t.name for t in fig.data]
    assert names == ["Riket (medel)", "Storleksgruppen (medel)", "Ale"]
    own = fig.data[-1]
    assert list(own.x) == [2009, 2010, 2011] and own.line.width >= 5
    assert fig.layout.title.text.endswith("(demo)")


def test_uptake_map_locations_exist_in_the_real_geojson():
    geo = json.loads((SOURCES / "swedish_municipalities.geojson").read_text(encoding="utf-8"))
    ids = {f["properties"]["id"] for f in geo["features"]}
    skl = pd.read_csv(SOURCES / "skl_kommungrupper_2005.csv", dtype=str)
    assert len(ids) == 290 and ids == set(skl["municipality_code"])
    df = pd.DataFrame({"municipality_code": sorted(ids), "name": sorted(ids), "uptake_pct": 50.0})
    fig = F.uptake_map(df, geo)
    trace = fig.data[0]
    assert len(trace.locations) == 290
    # the key Plotly matches on must resolve in every feature to one of the codes
    path = trace.featureidkey.split(".")
    keys = set()
    for f in geo["features"]:
        v = f
        for p in path:
            v = v[p]
        keys.add(v)
    assert keys == set(trace.locations)


def test_uptake_bar_groups_in_size_order():
    df = pd.DataFrame({"round": ["2013:1"] * 3, "size_group": ["large", "small", "medium"],
                       "uptake_pct": [30.0, 10.0, 20.0]})
    fig = F.uptake_by_group_bar(df)
    assert [t.name for t in fig.data] == ["Små", "Mellanstora", "Stora"]
    assert [t.text[0] for t in fig.data] == ["10\u00a0%", "20\u00a0%", "30\u00a0%"]


# ------------------------------------------------------------------ page transforms
# The page modules register themselves with Dash, so they are imported through an app
# (create_app imports every page as `pages.<name>`).


@pytest.fixture(scope="module")
def pages(built_db):
    import sys

    from dashboard.app import create_app

    create_app(built_db)
    return {name: sys.modules[f"pages.{name}"] for name in ("urval", "kostnad", "statsbidrag", "trender")}


def test_swaps_round_trip_through_the_query_string(pages):
    U = pages["urval"]
    swaps = [("0180", "0114", "bättre länsspridning"), ("1480", "1401", "a|b")]
    text = U.swaps_text(swaps)
    assert U.parse_swaps(text) == [("0180", "0114", "bättre länsspridning"), ("1480", "1401", "a/b")]
    # malformed parts are dropped, never passed on
    assert U.parse_swaps("0180:0114:|18:0114:x|0180:0114:ok|DROP TABLE") == [("0180", "0114", "ok")]
    assert U.parse_max("3") == 3 and U.parse_max("0") is None and U.parse_max("x") is None
    assert U.state_search({"year": 2012, "max_per_county": 2, "swaps": swaps[:1], "lang": "en"}) == \
        "?year=2012&max_per_county=2&swaps=0180%3A0114%3Ab%C3%A4ttre+l%C3%A4nsspridning&lang=en"


def _ranked():
    # 8 small, 8 medium, 4 large municipalities; composite falls with the code
    rows = []
    for i, g in enumerate(["small"] * 8 + ["medium"] * 8 + ["large"] * 4):
        rows.append({"municipality_code": f"{1000 + i:04d}", "name": f"K{i}", "county_code": f"{i % 3:02d}",
                     "county_name": f"L{i % 3}", "size_group": g, "composite": 1.0 - i / 10})
    df = pd.DataFrame(rows)
    df["rank"] = df["composite"].rank(ascending=False).astype(int)
    df["group_rank"] = df.groupby("size_group")["composite"].rank(ascending=False).astype(int)
    return df


def test_selection_table1_and_swap_validation(pages):
    U = pages["urval"]
    ranked = _ranked()
    items, msgs = U.compute_selection(ranked, None, [], "sv")
    assert msgs == [] and len(items) == 8 + 8 + 4         # all of a small test group
    from pipelines.ranking.selection import table1_rows

    t1 = U.table1_frame(table1_rows(items), "sv")
    assert t1["high_n"].tolist() == [6, 6, 3] and t1["low_n"].tolist() == [2, 2, 1]
    assert t1.loc[0, "high"] == "1, 2, 3, 4, 5, 6"
    # a swap needs a reason, an OUT in the selection, an IN outside it and the same size group
    assert U.validate_swap(items, ranked, "1000", "1001", " ", "sv") == "Ange ett skäl för bytet."
    assert "finns redan i urvalet" in U.validate_swap(items, ranked, "1000", "1001", "x", "sv")
    smaller = ranked[ranked["municipality_code"] != "1007"]      # make room: 1007 not selected
    items2, _ = U.compute_selection(smaller, None, [], "sv")
    assert "kan därför inte bytas ut" in U.validate_swap(items2, ranked, "1007", "1000", "x", "sv")


def test_reconciliation_agreement_words(pages):
    """The grants step stores agreement codes; the page words them from the catalogue."""
    S = pages["statsbidrag"]
    assert S.agreement_text("equal", "sv") == "ja"
    assert S.agreement_text("within_1pct", "sv") == "nästan (inom 1 %)"   # rounding in the printed source
    assert S.agreement_text("differs", "sv") == "nej"
    assert S.agreement_text("differs", "en") == "no"
    assert S.agreement_text("no_comparison", "sv") == "kan inte jämföras"
    assert S.agreement_text(None, "sv") == "uppgift saknas"


def test_reconciliation_checks_in_words(pages):
    S = pages["statsbidrag"]
    names = {"0513": "Kinda", "0180": "Stockholm"}.get
    assert S.check_text("frame_vs_granted_2013:1_median_ratio", "sv") == \
        "Beviljat/ram, median för fulla bidrag (2013:1)"
    assert S.check_text("frame_vs_granted_2013:2_within_5pct", "en") == \
        "Full grants within ±5% of the frame (2013:2)"
    assert S.check_text("row_total_2013 0513 Kinda", "sv", names) == \
        "Pott 1 + pott 2 mot tryckt total, Kinda (0513), kr (2013)"
    assert S.check_text("municipalities_applied_only_pot2_2013", "sv") == "Kommuner som sökte endast ur pott 2 (2013)"
    assert S.check_text("municipalities_applied_2013", "sv") == "Kommuner som sökte ur minst en pott (2013)"
    assert S.check_text("paid_total_2012_sek", "sv") == "Utbetalt, kr (2012)"
    assert S.check_text("stimulus_return 0180 2012-2013", "sv", names) == \
        "Återbetalt stimulansbidrag, Stockholm (2012–2013)"
    assert S.check_text("frame_date_candidate_31dec2011_sd", "sv").startswith("Ram byggd på invånare 75+ den 31 dec 2011")
    assert S.check_text("something_new", "sv") == "Övrig kontroll"


def test_reconciliation_notes_in_words():
    """The grants step stores a note code with its figures; the catalogue words them in either
    language, years never grouped, ratios with the decimals the step stated."""
    import json

    from styrkort.grant_texts import note_text

    values = json.dumps({"n": 36, "min": 0.982, "p5": 0.987, "median": 1.0, "p95": 1.014, "max": 1.025, "sd": 0.01,
                         "decimals": 3, "basis": "share_75_plus", "ref_year": 2011, "announced": 33000000})
    assert note_text("frame_ratio", values, "sv") == (
        "beviljat/ram för 36 fulla bidrag; min 0,982, p5 0,987, median 1,000, p95 1,014, max 1,025, sd 0,010; "
        "ram: andel av rikets invånare 75+ den 31 dec 2011 (SCB, interpolerat) × utlysta 33\u00a0000\u00a0000 kr")
    assert note_text("frame_ratio", values, "en").startswith("granted/frame for 36 full grants; min 0.982")
    assert "31 Dec 2011" in note_text("frame_ratio", values, "en")
    assert note_text("frame_sum", '{"basis": "fixed", "amount": 100000}', "sv") == \
        "summan av ramarna (fast belopp 100\u00a0000 kr per kommun) mot utlysta medel"
    assert note_text("applied_only", '{"pot": 2}', "en").startswith("applied only for pot 2 ")
    assert note_text("not_a_code", "{}", "sv") == ""


def test_reconciliation_mart_stores_codes_not_prose(built_db):
    import json

    import duckdb

    from styrkort.grant_texts import NOTES

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        rows = con.execute("SELECT note, note_values FROM grant_reconciliation").fetchall()
        basis = {b for (b,) in con.execute("SELECT DISTINCT frame_basis FROM grant_uptake").fetchall()}
    finally:
        con.close()
    assert rows and all(note in NOTES and isinstance(json.loads(v), dict) for note, v in rows)
    assert basis == {"fixed_per_municipality", "share_75_plus_31dec2009", "share_75_plus_31dec2010",
                     "share_75_plus_31dec2011"}


def test_rounds_table_total_row_from_the_mart(pages, built_db):
    """Tabell 2 with the grant_round_summary mart's total row (computed by the grants step):
    295 mnkr announced, 158,1 mnkr paid 2011–2013 (grant_facts.csv / Tabell 2)."""
    import duckdb

    S = pages["statsbidrag"]
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        summary = con.execute("SELECT round, pot, is_total, performance_required, announced_sek, paid_sek, "
                              "paid_share, municipalities_granted FROM grant_round_summary").df()
    finally:
        con.close()
    table = S.rounds_table(summary.iloc[::-1], "Totalt 2011–2013")   # order restored from the round ids
    assert table["round"].tolist() == ["2011:1", "2011:2", "2012", "2013:1", "2013:2", "Totalt 2011–2013"]
    total = table.iloc[-1]
    assert total["announced_sek"] == pytest.approx(295e6)
    assert total["paid_sek"] == pytest.approx(158.1e6)
    assert total["paid_share"] == pytest.approx(158.1 / 295)
    # each round's share: paid / announced as printed (2013:2: 3,5 of 33 mnkr)
    assert table.iloc[4]["paid_share"] == pytest.approx(3.5 / 33)


def test_structure_test_in_words(pages):
    K = pages["kostnad"]
    anova = {"test": "anova_size_group", "statistic": "F", "estimate": 1.234, "p_value": 0.29}
    assert K.test_in_words(anova, "sv") == \
        "Index mellan storleksgrupper (ANOVA): Ingen tydlig skillnad mellan storleksgrupperna (F = 1,23; p = 0,29)"
    pearson = {"test": "pearson_cost_deviation", "statistic": "r", "estimate": 0.04, "p_value": 0.52}
    assert K.test_in_words(pearson, "sv").endswith("Inget tydligt samband (r = 0,04; p = 0,52)")
    spearman = {"test": "spearman_cost_deviation", "statistic": "rho", "estimate": 0.03, "p_value": 0.65}
    assert K.test_in_words(spearman, "sv").endswith("Inget tydligt samband (rho = 0,03; p = 0,65)")
    assert K.p_text(0.0004, "sv") == "< 0,001" and K.p_text(0.0412, "sv") == "0,041"
    assert K.num_or_dash(float("nan"), 3, "sv") == "–"


# ------------------------------------------------------------------ empty and missing views


def _render(app, page, **query) -> str:
    """A page layout rendered inside a request of `app`, as JSON text."""
    import json as _json

    import plotly

    with app.server.test_request_context("/"):
        return _json.dumps(page.layout(**query), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.fixture()
def degraded_app(db_copy, pages):
    """The built warehouse with every mart view the analysis pages read dropped."""
    import duckdb

    from dashboard.app import create_app

    con = duckdb.connect(str(db_copy))
    for view in ("composite_index", "rank_uncertainty", "selections", "selection_items", "cost_deviation",
                 "cost_model", "quality_associations", "scorecard", "trends", "grant_uptake",
                 "grant_reconciliation", "grant_not_applied_2013", "grant_uptake_by_size_group"):
        con.execute(f'DROP VIEW IF EXISTS "{view}"')
    con.close()
    return create_app(db_copy)


def test_pages_degrade_when_mart_views_are_missing(degraded_app, pages):
    error = "Lagret kunde inte läsas"
    urval = _render(degraded_app, pages["urval"])
    assert error not in urval and "composite_index" in urval and "saknas" in urval
    kostnad = _render(degraded_app, pages["kostnad"])
    assert error not in kostnad and "Det finns inget år med både sammanvägt index och kostnadsavvikelse" in kostnad
    bidrag = _render(degraded_app, pages["statsbidrag"])
    # the real tables (grant_rounds, stimulus_grant_returns) still show; the missing mart is named
    assert error not in bidrag and "grant_uptake" in bidrag and "3\u00a0569\u00a0733\u00a0kr" in bidrag
    trender = _render(degraded_app, pages["trender"], code="0180")
    # without the scorecard mart there is no second way to the figures: the page says so
    assert error not in trender and "Stockholm" in trender and "trender-graph" not in trender
    assert "scorecard har inte beräknats i lagret. Kör `styrkort refresh`." in trender
    assert "grant_uptake har inte beräknats i lagret. Kör `styrkort refresh`." in bidrag


def test_pages_on_an_empty_warehouse(tmp_path, pages):
    import duckdb

    from dashboard.app import create_app
    from warehouse.db import apply_schema

    path = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(path))
    apply_schema(con)
    con.close()
    app = create_app(path)
    for name in ("urval", "kostnad", "statsbidrag", "trender"):
        out = _render(app, pages[name], year="abc", code="9999", kpis="<script>", max_per_county="-1")
        assert "Lagret kunde inte läsas" not in out, name
        assert "<script>" not in out, name


def test_export_spec_keeps_title_and_source_with_margins():
    """The browser-made PNG gets the export figure's title and source line, 1400 x 800 px,
    margins that keep text off the edges, and the file name it is saved under."""
    import plotly.graph_objects as go

    from dashboard import figures as F

    fig = F.base_layout(go.Figure(go.Scatter(x=[2011, 2012], y=[1, 2])), "sv", big=True,
                        source="Källa: SCB, 2011–2012")
    fig.update_layout(title={"text": "Kostnad per brukare", "x": 0}, margin={"l": 10, "r": 20})
    spec = F.export_spec(fig, "styrkort_0180_N21005", "PNG misslyckades: ")
    lay = spec["layout"]
    assert (spec["width"], spec["height"], lay["width"], lay["height"]) == (1400, 800, 1400, 800)
    assert spec["filename"] == "styrkort_0180_N21005" and spec["fail"] == "PNG misslyckades: "
    assert lay["title"]["text"] == "Kostnad per brukare"
    assert lay["title"]["xref"] == "paper"          # starts at the plot, not the image edge
    assert lay["margin"]["l"] >= 48 and lay["margin"]["r"] >= 48
    assert [a["text"] for a in lay["annotations"]] == ["Källa: SCB, 2011–2012"]
    assert "template" not in lay                      # the screen figure already has it


def test_selection_reasons_follow_the_language(pages):
    """The pipeline stores Swedish reasons; the page words them from the rows' fields."""
    import pandas as pd
    U = pages["urval"]
    items = pd.DataFrame([
        {"municipality_code": "0180", "name": "Stockholm", "size_group": "large", "result": "high",
         "adjusted": False, "replaces": None},
        {"municipality_code": "0114", "name": "Upplands Väsby", "size_group": "medium", "result": "low",
         "adjusted": True, "replaces": "0115"},
        {"municipality_code": "1401", "name": "Härryda", "size_group": "medium", "result": "high",
         "adjusted": True, "replaces": "1480"},
    ])
    names = {"0115": "Vallentuna"}
    swaps = [("1480", "1401", "mitt skäl")]
    assert U.reason_texts(items, swaps, 2, "sv", names) == [
        "rangordning: bland de 3 högsta i storleksgruppen",
        "länsspridning: högst 2 per län; i stället för 0115 Vallentuna",
        "mitt skäl"]
    assert U.reason_texts(items, swaps, 2, "en", names)[:2] == [
        "ranking: among the 3 highest in the size group",
        "county spread: at most 2 per county; instead of 0115 Vallentuna"]


# -- committee-readable trend charts (issue 10) ------------------------------------------------------

@pytest.mark.parametrize("values, unit, expected", [
    ([92.0, 95.0, 93.5], "%", {"range": [0.0, pytest.approx(95.3)], "from_zero": True}),   # pad 0.3
    # kr/inv 8 000-10 000: span 2 000, pad 200, step 500 -> starts at 7 500 (not 0), top 10 200
    ([8000.0, 10000.0], "kr/inv", {"range": [7500, pytest.approx(10200.0)], "from_zero": False}),
    # 100-1 000: the lowest minus two margins (100 - 180) reaches 0 -> from 0 anyway
    ([100.0, 1000.0], "kr", {"range": [0.0, pytest.approx(1090.0)], "from_zero": True}),
    ([-1.0, 2.0], "%", None),                       # a negative value: Plotly's own range
    ([], "%", None),
])
def test_value_axis_rule(values, unit, expected):
    assert F.value_axis(values, unit) == expected


def test_axis_note_says_where_a_non_zero_axis_starts():
    assert F.axis_note({"range": [7500, 10200], "from_zero": False}, "kr/inv") == \
        "Axeln börjar vid 7\u00a0500\u00a0kr/inv, inte vid 0."
    assert F.axis_note({"range": [0.0, 95.3], "from_zero": True}, "%") == ""


def test_trend_figure_marks_the_break_low_coverage_and_the_axis():
    df = pd.DataFrame({"year": [2007, 2008, 2009, 2010], "value": [92.0, 93.0, 95.0, 94.0],
                       "national_mean": [90.0, 91.0, 92.0, 92.5], "national_n": [223, 290, 290, 290],
                       "n_municipalities": [290, 290, 290, 290], "low_coverage": [True, False, False, False]})
    fig = F.trend_figure(df, "Andel", "%", municipality_name="Göteborg", source="Källa: Kolada",
                         breaks=[(2009, "ny mätning"), (2015, "utanför")])
    # a percentage from 0; drawn values 90-95 (Riket included): span 5, margin 0,5 -> top 95,5
    assert fig.layout.yaxis.range == (0.0, pytest.approx(95.5))
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert [(s.x0, s.x1, s.line.dash) for s in lines] == [(2008.5, 2008.5, "dash")]   # 2015 is outside
    texts = [a.text for a in fig.layout.annotations]
    assert "Ändrad definition 2009" in texts and "Källa: Kolada" in texts
    riket = fig.data[0]
    assert list(riket.marker.symbol) == ["square-open", "square", "square", "square"]
    assert "medel över 223 av 290 kommuner" in riket.customdata[0]
    assert "färre än 90 % av kommunerna" in riket.customdata[0]
    assert "färre än 90 %" not in riket.customdata[1]
    own = fig.data[-1]
    assert "ändrad definition från 2009" in own.customdata[2] and "ändrad" not in own.customdata[1]
    screen = F.for_screen(fig)                                           # the label stays on screen
    assert [a["text"] for a in screen["layout"]["annotations"]] == ["Ändrad definition 2009"]
    assert "title" not in screen["layout"]                               # shown as HTML above the chart
    # the page sends the plain dict (no graph_objects): it must still be a valid Plotly figure
    import plotly.graph_objects as go
    spec = F.trend_spec(df, "Andel", "%", municipality_name="Göteborg", source="Källa: Kolada",
                        breaks=[(2009, "ny mätning")])
    go.Figure(F.for_screen(spec))                                        # raises on an unknown property


def test_trend_wording_in_plain_words(pages):
    T = pages["trender"]
    cost = {"verdict": "no_direction", "higher_is_better": None, "slope": 210.4, "change": "rising",
            "first_year": 2007, "last_year": 2011, "break_year": None}
    assert T.verdict_text(cost, "sv", "kr/inv") == "Trend 2007–2011: ökar med 210\u00a0kr/inv per år"   # no-break space before the unit
    unsure = dict(cost, slope=-77.6, change="flat")
    assert T.verdict_text(unsure, "sv", "kr/inv") == (
        "Trend 2007–2011: minskar med 78\u00a0kr/inv per år "
        "(inte säkerställt: felmarginalen rymmer även ingen förändring)")
    sick = {"verdict": "improving", "higher_is_better": False, "slope": -0.634, "change": "falling",
            "first_year": 2007, "last_year": 2011, "break_year": 2009}
    assert T.verdict_text(sick, "sv", "%") == (
        "Trend 2007–2011: förbättras (lägre är bättre): minskar med 0,63 procentenheter per år. "
        "Obs: trenden spänner över en ändrad definition 2009 – värdena före och efter är inte helt jämförbara")
    assert T.verdict_text(dict(sick, higher_is_better=True, verdict="worsening", break_year=None), "en", "%") == (
        "Trend 2007–2011: worsening (higher is better): falls by 0.63 percentage points a year")
    assert "ingen riktning" not in T.verdict_text(cost, "sv", "kr/inv")


def test_waterfall_svg_bars_values_and_text_alternative():
    """The scorecard's what-if waterfall is an SVG image drawn on the server: one bar per step,
    each with its value as text (sv-SE, sign on contributions), colour by direction and the
    text alternative on the role=img wrapper; labels are escaped."""
    import re
    from urllib.parse import unquote

    from dashboard.components import WATERFALL_COLOURS, waterfall_svg

    steps = [("Gruppens median", -0.01, "absolute"), ("Brukar<bedömning>", 0.25, "relative"),
             ("Personal", -0.18, "relative"), ("Sammanvägt kvalitetsindex", 0.06, "total")]
    box = waterfall_svg(steps, "sv", "Index (z-poäng)", "Vattenfallsdiagram: …")
    assert box.role == "img" and getattr(box, "aria-label") == "Vattenfallsdiagram: …"
    svg = unquote(box.children.src.split(",", 1)[1])
    bars = re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill="([^"]+)"/>', svg)
    assert bars == [WATERFALL_COLOURS[k] for k in ("total", "up", "down", "total")]
    texts = re.findall(r">([^<>]+)</text>", svg)
    for value in ("\u22120,01", "+0,25", "\u22120,18", "0,06"):
        assert value in texts, (value, texts)
    assert "Brukar&lt;bedömning&gt;" in svg and "<bedömning>" not in svg
    assert "Index (z-poäng)" in texts
    # the running level: the total bar ends where the steps end (−0,01 + 0,25 − 0,18 = 0,06)
    heights = [float(h) for h in re.findall(r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)"', svg)]
    assert abs(heights[3] - (heights[1] - heights[2] - heights[0])) < 1.5
