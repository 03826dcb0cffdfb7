"""The marts the pages read instead of computing: reference lines (kpi_reference_series), the one
size-group rule (municipality_size_groups), panel status counts, grant uptake per year / size
group / round, reconciliation agreement codes, composite counts. Expectations are hand-computed
(toy warehouses, small frames) or plain SQL on other marts."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.positions import run_positions
from pipelines.scorecard import run_scorecard
from warehouse.value_source import insert_kpi_values


@pytest.fixture
def toy(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "r.duckdb"))
    apply_schema(con)
    # population only for 2012: 0001-0003 small, 0004 large; 0005 has no population at all
    for code, pop in (("0001", 5000), ("0002", 6000), ("0003", 7000), ("0004", 90000)):
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, f"M{code}"])
        con.execute("INSERT INTO population VALUES (?, 2012, ?, 'toy')", [code, pop])
    con.execute("INSERT INTO municipality VALUES ('0005', 'M0005', '01', 'Län', NULL)")
    con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, unit, source, is_demo) "
                "VALUES ('UP', 'up', true, 'verksamhet', '%', 's', false), "
                "('BG', 'bg', NULL, NULL, 'kr', 's', true)")
    rows = [("UP", "0001", 2012, 10.0), ("UP", "0002", 2012, 20.0), ("UP", "0004", 2012, 60.0),
            ("UP", "0001", 2014, 30.0), ("UP", "0003", 2014, 50.0), ("UP", "0005", 2014, 1.0),
            ("BG", "0001", 2012, 4.0), ("BG", "0004", 2012, 8.0)]
    for kpi, code, year, v in rows:
        insert_kpi_values(con, [(kpi, code, year, "T", v, "src", kpi == "BG")])
    insert_kpi_values(con, [("UP", "0002", 2014, "K", 99, "src", False)])  # not 'T'
    run_scorecard(con)
    run_positions(con)
    yield con
    con.close()


def test_size_group_rule_is_the_years_own_else_the_nearest(toy):
    rows = dict(((c, y), (g, gy)) for c, y, g, gy in toy.execute(
        "SELECT municipality_code, year, size_group, size_group_year FROM municipality_size_groups").fetchall())
    assert rows[("0001", 2012)] == ("small", 2012)
    assert rows[("0004", 2014)] == ("large", 2012)           # 2014 has no population: nearest year
    assert ("0005", 2014) not in rows                         # no population in any year: no group


def test_reference_series_by_hand(toy):
    ref = {(k, y, g): r for k, y, g, *r in toy.execute(
        """SELECT kpi_id, year, size_group, group_mean, group_n, national_mean, national_n,
                  n_municipalities, coverage, is_demo, unit FROM kpi_reference_series""").fetchall()}
    # UP 2012: small {10, 20} -> 15 (n 2); large {60}; national (10+20+60)/3 = 30 over 3 of the
    # 4 municipalities of 2012 (municipality_years: 0005 has no population that year)
    assert ref[("UP", 2012, "small")][:2] == [pytest.approx(15.0), 2]
    assert ref[("UP", 2012, "large")][:2] == [pytest.approx(60.0), 1]
    assert ref[("UP", 2012, "small")][2:6] == [pytest.approx(30.0), 3, 4, pytest.approx(0.75)]
    # UP 2014: 0001 = 30, 0003 = 50 (small, 2012's group), 0005 = 1 (no group: only national)
    assert ref[("UP", 2014, "small")][:4] == [pytest.approx(40.0), 2, pytest.approx(27.0), 3]
    assert ("UP", 2014, "large") not in ref
    assert ref[("BG", 2012, "small")][0] == pytest.approx(4.0) and ref[("BG", 2012, "small")][6] is True
    assert ref[("UP", 2012, "small")][7] == "%" and ref[("UP", 2012, "small")][6] is False


def test_national_n_and_the_under_90_percent_flag_by_hand(tmp_path):
    """Ten municipalities in 2010 and 2011 (population both years). KPI A: 9 values in 2010 (90 %,
    not low) and 8 in 2011 (80 %, low); the national mean is over those with a value."""
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    apply_schema(con)
    con.execute("INSERT INTO kpi (kpi_id, title, unit, source, is_demo) VALUES ('A', 'a', '%', 's', false)")
    for i in range(10):
        code = f"{i + 1:04d}"
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, code])
        for y in (2010, 2011):
            con.execute("INSERT INTO population VALUES (?, ?, 5000, 'toy')", [code, y])
        if i < 9:
            insert_kpi_values(con, [("A", code, 2010, "T", float(i), "s", False)])
        if i < 8:
            insert_kpi_values(con, [("A", code, 2011, "T", 10, "s", False)])
    run_scorecard(con)
    got = con.execute("""SELECT year, national_mean, national_n, n_municipalities, coverage, low_coverage
                         FROM kpi_reference_series WHERE kpi_id = 'A' ORDER BY year""").fetchall()
    con.close()
    # 2010: mean of 0..8 = 4, 9 of 10 = 0.9 (not under 0.9); 2011: 8 of 10 = 0.8, under
    assert got == [(2010, pytest.approx(4.0), 9, 10, pytest.approx(0.9), False),
                   (2011, pytest.approx(10.0), 8, 10, pytest.approx(0.8), True)]


def test_scorecard_references_are_the_reference_series(toy):
    sc = {(c, y): (gm, nm, gn) for c, y, gm, nm, gn in toy.execute(
        "SELECT municipality_code, year, group_mean, national_mean, group_n FROM scorecard WHERE kpi_id = 'UP'"
    ).fetchall()}
    assert sc[("0002", 2012)] == (pytest.approx(15.0), pytest.approx(30.0), 2)
    assert sc[("0003", 2014)] == (pytest.approx(40.0), pytest.approx(27.0), 2)
    assert sc[("0005", 2014)][0] is None                       # no size group: no group mean


def test_status_counts_by_hand(toy):
    counts = {(c, y): r for c, y, *r in toy.execute(
        """SELECT municipality_code, year, n_kpis, n_with_value, n_best, n_middle, n_worst,
                  n_no_direction, n_too_few, n_missing
           FROM scorecard_status_counts WHERE perspective = 'verksamhet'""").fetchall()}
    # one KPI (UP) in the perspective, 3 municipalities with a value each year: too few to place
    assert counts[("0002", 2012)] == [1, 1, 0, 0, 0, 0, 1, 0]
    # latest view (year NULL): 0004's latest UP is 2012; it has no 2014 value -> no 2014 row
    assert counts[("0004", None)] == [1, 1, 0, 0, 0, 0, 1, 0]
    assert ("0004", 2014) not in counts
    # 0002 has no 2014 value ('K' rows do not count): its 2014 view has UP missing
    assert counts[("0002", None)] == [1, 1, 0, 0, 0, 0, 1, 0]
    assert counts[("0001", 2014)] == [1, 1, 0, 0, 0, 0, 1, 0]


def test_status_counts_count_the_quarters(tmp_path):
    """Eight municipalities, one KPI: places 1–2 best 25 %, 7–8 worst 25 % (n/4 = 2)."""
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "q.duckdb"))
    apply_schema(con)
    con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, source, is_demo) "
                "VALUES ('UP', 'up', true, 'ekonomi', 's', false), ('NODIR', 'n', NULL, 'ekonomi', 's', false)")
    for i in range(8):
        code = f"{i + 1:04d}"
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, code])
        con.execute("INSERT INTO population VALUES (?, 2012, 5000, 'toy')", [code])
        insert_kpi_values(con, [("UP", code, 2012, "T", float(i), "s", False)])
    insert_kpi_values(con, [("NODIR", "0001", 2012, "T", 1, "s", False)])
    run_positions(con)
    got = {c: r for c, *r in con.execute(
        """SELECT municipality_code, n_kpis, n_with_value, n_best, n_middle, n_worst, n_no_direction,
                  n_too_few, n_missing FROM scorecard_status_counts WHERE year = 2012""").fetchall()}
    assert got["0008"] == [2, 1, 1, 0, 0, 0, 0, 1]           # value 7: place 1, best
    assert got["0004"] == [2, 1, 0, 1, 0, 0, 0, 1]           # value 3: place 5, middle
    assert got["0001"] == [2, 2, 0, 0, 1, 1, 0, 0]           # value 0: place 8, worst; NODIR: no direction
    con.close()


@pytest.mark.parametrize("code", ["0180", "1480", "0509", "2583"])
def test_status_counts_equal_the_page_panels(built_db, code):
    """The mart's counts agree with the statuses of the rows the panels list (counted here by
    hand: best / middle / worst 25 % and no direction among the KPIs with a value)."""
    from dashboard.data import Warehouse, panel_rows, scorecard_data

    w = Warehouse(built_db)
    try:
        d = scorecard_data(w, code)
    finally:
        w.close()
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        mart = {p: r for p, *r in con.execute(
            """SELECT perspective, n_best, n_middle, n_worst, n_no_direction, n_kpis
               FROM scorecard_status_counts WHERE municipality_code = ? AND year IS NULL""", [code]).fetchall()}
    finally:
        con.close()
    for persp, rows in panel_rows(d).items():
        if not rows:
            continue
        statuses = [r["status"] for r in rows if r["value"] is not None]
        assert mart[persp][:4] == [statuses.count(s) for s in ("best25", "middle50", "worst25", "no_direction")], persp
        assert mart[persp][4] == len(rows), persp


def test_composite_counts_and_reference_identity_on_the_built_warehouse(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        bad = con.execute("""SELECT count(*) FROM composite_index c
            WHERE n_ranked <> (SELECT count(*) FROM composite_index c2 WHERE c2.year = c.year)
               OR group_n <> (SELECT count(*) FROM composite_index c3
                              WHERE c3.year = c.year AND c3.size_group = c.size_group)
               OR group_rank > group_n""").fetchone()[0]
        assert bad == 0
        off = con.execute("""SELECT count(*) FROM scorecard s JOIN kpi_reference_series r
            ON r.kpi_id = s.kpi_id AND r.year = s.year AND r.size_group = s.size_group
            WHERE s.group_mean IS DISTINCT FROM r.group_mean OR s.national_mean IS DISTINCT FROM r.national_mean
               OR s.group_n IS DISTINCT FROM r.group_n""").fetchone()[0]
        assert off == 0
        # the reference means as plain SQL on kpi_values + municipality_size_groups
        ref = con.execute("""SELECT r.group_mean, avg(v.value) FROM kpi_reference_series r
            JOIN municipality_size_groups g ON g.year = r.year AND g.size_group = r.size_group
            JOIN kpi_values v ON v.kpi_id = r.kpi_id AND v.year = r.year AND v.gender = 'T'
                 AND v.municipality_code = g.municipality_code AND v.value IS NOT NULL
            WHERE r.kpi_id = 'N20014' AND r.year = 2010 GROUP BY r.group_mean""").fetchall()
        assert len(ref) == 3 and all(a == pytest.approx(b) for a, b in ref)
    finally:
        con.close()


# --- grants ------------------------------------------------------------------------------------

def _uptake(rows):
    return pd.DataFrame(rows, columns=["municipality_code", "round", "pot", "round_year", "frame_sek",
                                       "applied", "granted_sek", "data_level"])


def test_uptake_by_year_sums_the_rounds_of_a_year():
    from pipelines.grants import by_year

    u = _uptake([
        ("0001", "2013:1", 1, 2013, 1000.0, True, 800, "municipality"),
        ("0001", "2013:2", 2, 2013, 500.0, False, 0, "municipality"),
        ("0002", "2013:1", 1, 2013, 2000.0, False, 0, "municipality"),
        ("0002", "2013:2", 2, 2013, 1000.0, False, 0, "municipality"),
        ("0001", "2012", 1, 2012, 700.0, None, None, "round_total_only"),
    ])
    out = by_year(u).set_index(["municipality_code", "year"])
    r = out.loc[("0001", 2013)]
    assert (r["rounds"], r["frame_sek"], r["granted_sek"], r["applied"], r["rounds_applied"]) == \
        ("2013:1, 2013:2", 1500.0, 800, True, 1)
    assert r["uptake_share"] == pytest.approx(800 / 1500)
    r = out.loc[("0002", 2013)]
    assert (r["applied"], r["granted_sek"], r["uptake_share"]) == (False, 0, 0.0)
    r = out.loc[("0001", 2012)]
    assert r["data_level"] == "round_total_only" and pd.isna(r["granted_sek"]) and pd.isna(r["uptake_share"])
    assert pd.isna(r["applied"]) and r["rounds_with_data"] == 0


def test_uptake_by_size_group_shares():
    from pipelines.grants import by_size_group

    u = _uptake([
        ("0001", "2013:1", 1, 2013, 1000.0, True, 500, "municipality"),
        ("0002", "2013:1", 1, 2013, 3000.0, True, 3000, "municipality"),
        ("0003", "2013:1", 1, 2013, 1000.0, False, 0, "municipality"),
        ("0004", "2013:1", 1, 2013, 9000.0, False, 0, "municipality"),
    ])
    size = pd.DataFrame({"municipality_code": ["0001", "0002", "0003", "0004"], "round_year": 2013,
                         "size_group": ["small", "small", "small", "large"]})
    out = by_size_group(u, size).set_index("size_group")
    s = out.loc["small"]
    assert (s["municipalities"], s["applied"], s["granted"], s["granted_sek"]) == (3, 2, 2, 3500)
    assert s["uptake_share"] == pytest.approx(3500 / 5000) and s["applied_share"] == pytest.approx(2 / 3)
    assert out.loc["large", "uptake_share"] == 0.0 and out.loc["large", "applied_share"] == 0.0


def test_round_summary_paid_share_and_total_row():
    from pipelines.grants import round_summary

    rounds = pd.DataFrame({"round": ["2011:1", "2012"], "pot": [1, 1], "announced_sek": [100, 300],
                           "paid_sek": [50, 30], "municipalities_granted": [10, 5],
                           "performance_required": ["a", "b"], "allocation_basis": ["x", "y"],
                           "source": ["S", "S"]})
    out = round_summary(rounds).set_index("round")
    assert out.loc["2011:1", "paid_share"] == pytest.approx(0.5)
    assert out.loc["2012", "paid_share"] == pytest.approx(0.1)
    tot = out.loc["total"]
    assert bool(tot["is_total"]) and (tot["announced_sek"], tot["paid_sek"]) == (400, 80)
    assert tot["paid_share"] == pytest.approx(0.2) and tot["source"] == "S"


@pytest.mark.parametrize("expected, difference, code", [
    (100.0, 0.0, "equal"), (100.0, 1.0, "within_1pct"), (100.0, -1.5, "differs"),
    (None, 2.0, "differs"), (100.0, None, "no_comparison"), (0.0, 0.5, "differs")])
def test_reconciliation_agreement_codes(expected, difference, code):
    from pipelines.grants import agreement

    assert agreement(expected, difference) == code


def test_grant_marts_on_the_built_warehouse(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        # per year = the sum of the year's rows of grant_uptake (plain SQL)
        sql = con.execute("""SELECT municipality_code, sum(granted_sek) / sum(frame_sek) FROM grant_uptake
                             WHERE round_year = 2013 GROUP BY 1""").fetchall()
        mart = dict(con.execute("SELECT municipality_code, uptake_share FROM grant_uptake_by_year "
                                "WHERE year = 2013").fetchall())
        assert len(sql) == 290 and all(mart[c] == pytest.approx(v) for c, v in sql)
        total = con.execute("SELECT announced_sek, paid_sek FROM grant_round_summary WHERE is_total").fetchone()
        sums = con.execute("SELECT sum(announced_sek), sum(paid_sek) FROM grant_rounds").fetchone()
        assert total == sums
        assert con.execute("SELECT count(*) FROM grant_reconciliation WHERE agreement = 'equal' "
                           "AND difference <> 0").fetchone()[0] == 0
        by_size = con.execute("""SELECT sum(municipalities) FROM grant_uptake_by_size_group
                                 WHERE round = '2013:1'""").fetchone()[0]
        assert by_size == 290
    finally:
        con.close()
    assert np.isfinite(total[1])
