"""The unit marts (pipelines/units.py): unit_scorecard and unit_kpi_summary on a small hand-made
register with hand-computed medians, ranges, statuses, target statuses and trends; and on the
embedded default (the demo units) the mart contract's checks."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from test_import_common import tiny_wh, wh, write  # noqa: F401

REGISTER = (
    "unit_id,name,municipality_code,kind\r\n"
    "A,Hemtjänst A,1480,hemtjänst\r\n"
    "B,Hemtjänst B,1480,hemtjänst\r\n"
    "C,Hemtjänst C,1480,hemtjänst\r\n"
    "D,Boende D,1480,särskilt boende\r\n"
    "E,Hemtjänst E,0180,hemtjänst\r\n"
    "F,Hemtjänst F,0180,hemtjänst\r\n"
    "G,Hemtjänst G,0360,hemtjänst\r\n"
)
S = "BAL_SJUKFRANVARO"    # monthly, lower is better
N = "BAL_BRUKARNOJD"      # yearly survey, higher is better
T = "BAL_TILLBUD"         # no direction


def months(start: dt.date, n: int):
    y, m = start.year, start.month
    for _ in range(n):
        yield f"{y}-{m:02d}"
        m += 1
        if m == 13:
            y, m = y + 1, 1


def values_file() -> str:
    rows = [
        ("A", S, "2013-01", 5), ("B", S, "2013-01", 7), ("C", S, "2013-01", 9), ("D", S, "2013-01", 4),
        ("A", S, "2013-02", 8), ("C", S, "2013-02", 6),
        ("B", S, "2013-03", 7), ("C", S, "2013-03", 7),
        ("A", N, "2012-10", 81), ("B", N, "2012-10", 70),
        ("A", T, "2013-01", 3), ("B", T, "2013-01", 1),
    ]
    # E: 2011 at 10, 2012 at 12 (sick leave up 20 %: worsening); F: 10 then 10.1 (+1 %: no change)
    for i, p in enumerate(months(dt.date(2011, 1, 1), 24)):
        rows.append(("E", S, p, 10 if i < 12 else 12))
        rows.append(("F", S, p, 10 if i < 12 else 10.1))
    for p in months(dt.date(2012, 8, 1), 5):   # G: five months only
        rows.append(("G", S, p, 5))
    return "unit_id,kpi_id,period,value\r\n" + "".join(f"{u},{k},{p},{v}\r\n" for u, k, p, v in rows)


@pytest.fixture
def marts(wh):
    from pipelines.units import run_units
    from warehouse.importers.units import import_unit_values, import_units

    con = duckdb.connect(str(wh))
    import_units(con, write(wh.parent / "enheter.csv", REGISTER))
    import_unit_values(con, write(wh.parent / "varden.csv", values_file()))
    # targets as `styrkort import targets` stores them (unit_id optional, tolerance in KPI units):
    # one for unit A, one for the whole municipality (not a unit target)
    con.execute("INSERT INTO target (municipality_code, kpi_id, year, unit_id, target, tolerance, source) VALUES "
                "('1480', 'BAL_SJUKFRANVARO', 2013, 'A', 6.0, 1.0, 'test'), "
                "('1480', 'BAL_SJUKFRANVARO', 2013, NULL, 7.0, NULL, 'test')")
    run_units(con)
    yield con
    con.close()


def row(con, unit, kpi, period):
    cols = ("value", "peer_n", "peer_median", "peer_min", "peer_max", "status", "target", "target_status")
    r = con.execute(f"SELECT {', '.join(cols)} FROM unit_scorecard WHERE unit_id = ? AND kpi_id = ? AND period = ?",
                    [unit, kpi, dt.date.fromisoformat(period + "-01")]).fetchall()
    return dict(zip(cols, r[0])) if r else None


def test_peers_are_the_other_units_of_the_same_municipality_and_kind(marts):
    # A, Jan: peers B 7 and C 9 -> median 8, range 7-9; 5 is lower (better for sick leave)
    assert row(marts, "A", S, "2013-01") == {"value": 5, "peer_n": 2, "peer_median": 8, "peer_min": 7, "peer_max": 9,
                                             "status": "better", "target": 6, "target_status": "met"}
    # A, Feb: B did not report -> only C 6; 8 is worse; 2 above target 6 (tolerance 1): not met
    assert row(marts, "A", S, "2013-02") == {"value": 8, "peer_n": 1, "peer_median": 6, "peer_min": 6, "peer_max": 6,
                                             "status": "worse", "target": 6, "target_status": "not_met"}
    # A, Mar: not reported -> a row with the peers, status missing
    r = row(marts, "A", S, "2013-03")
    assert (r["value"], r["status"], r["peer_median"], r["target_status"]) == (None, "missing", 7, None)
    # C, Mar: B 7 is the only peer reporting; 7 = median -> same
    assert row(marts, "C", S, "2013-03")["status"] == "same"
    # D is the only care home: no peers; E/F are Stockholm's: not Göteborg's peers
    assert row(marts, "D", S, "2013-01")["status"] == "no_peers"
    # a direction-less KPI has no better/worse
    assert row(marts, "A", T, "2013-01")["status"] == "no_direction"


def test_missing_months_are_rows(marts):
    # A reported from 2012-10 (the survey); Göteborg's units reported up to 2013-03
    periods = [p for (p,) in marts.execute("SELECT period FROM unit_scorecard WHERE unit_id = 'A' AND kpi_id = ? "
                                           "ORDER BY period", [S]).fetchall()]
    assert periods == [dt.date(2012, 10, 1), dt.date(2012, 11, 1), dt.date(2012, 12, 1), dt.date(2013, 1, 1),
                       dt.date(2013, 2, 1), dt.date(2013, 3, 1)]
    assert marts.execute("SELECT count(*) FROM unit_scorecard WHERE unit_id = 'A' AND kpi_id = ? AND value IS NULL",
                         [S]).fetchall() == [(4,)]


def test_summary_latest_month_yearly_kpi_and_sparkline(marts):
    cols = ("current_period", "value_period", "value", "status", "trend", "spark_periods", "spark_values")
    get = lambda u, k: dict(zip(cols, marts.execute(  # noqa: E731
        f"SELECT {', '.join(cols)} FROM unit_kpi_summary WHERE unit_id = ? AND kpi_id = ?", [u, k]).fetchall()[0]))
    a_s = get("A", S)
    # A's latest month with any value is February (nothing in March)
    assert (a_s["current_period"], a_s["value"], a_s["status"]) == (dt.date(2013, 2, 1), 8, "worse")
    assert a_s["spark_periods"] == ["2012-10", "2012-11", "2012-12", "2013-01", "2013-02"]
    assert a_s["spark_values"] == [None, None, None, 5, 8]
    # the yearly survey shows its latest value within 12 months (October), against B's 70
    a_n = get("A", N)
    assert (a_n["value_period"], a_n["value"], a_n["status"]) == (dt.date(2012, 10, 1), 81, "better")


def test_trend_compares_twelve_month_means(marts):
    trend = dict(marts.execute("SELECT unit_id, trend FROM unit_kpi_summary WHERE kpi_id = ?", [S]).fetchall())
    assert trend["E"] == "worsening"      # 12 vs 10, lower is better
    assert trend["F"] == "no_change"      # 10.1 vs 10: within 2 %
    assert trend["G"] == "too_few"        # five months
    e = marts.execute("SELECT mean_12m, mean_prev_12m, months_12, months_prev_12, len(spark_values) "
                      "FROM unit_kpi_summary WHERE unit_id = 'E' AND kpi_id = ?", [S]).fetchall()[0]
    assert e == (12.0, 10.0, 12, 12, 24)


def test_demo_units_are_compared_with_demo_units_only(built_db, tmp_path):
    import shutil

    from pipelines.units import run_units
    from warehouse.importers.units import import_unit_values, import_units

    db = tmp_path / "w.duckdb"
    shutil.copy(built_db, db)
    con = duckdb.connect(str(db))
    try:
        import_units(con, write(tmp_path / "e.csv", "unit_id,name,municipality_code,kind\r\n"
                                                    "R1,Riktig hemtjänst,1480,hemtjänst\r\n"))
        import_unit_values(con, write(tmp_path / "v.csv", "unit_id,kpi_id,period,value\r\nR1,BAL_SVP,2013-12,90\r\n"))
        run_units(con)
        assert con.execute("SELECT peer_n, status FROM unit_scorecard WHERE unit_id = 'R1'").fetchall() == [(0, "no_peers")]
        demo_peers = con.execute("SELECT max(peer_n) FROM unit_scorecard WHERE unit_id = '1480-HT-LINNE'").fetchall()[0][0]
        assert demo_peers == 2     # Bergsjön and Majorna, the other demo home-care units in Göteborg
    finally:
        con.close()


def test_built_warehouse_marts_match_their_declarations(built_db):
    """`styrkort build` stores both marts under the mart contract: the declared columns and types
    (pipelines/marts/unit_*.toml), unique keys, no NULL where declared not_null, only the accepted
    codes; one default run of the step `units`; every demo unit summarised."""
    from pipelines import core

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        for mart in ("unit_scorecard", "unit_kpi_summary"):
            assert core.check_mart(con, mart) == [], mart
        assert con.execute("SELECT count(*) FROM pipeline_run WHERE step = 'units' AND is_default").fetchall() == [(1,)]
        assert con.execute("SELECT count(DISTINCT unit_id) FROM unit_kpi_summary").fetchall() == [(9,)]
        assert con.execute("SELECT bool_and(is_demo) FROM unit_kpi_summary").fetchall() == [(True,)]
    finally:
        con.close()


def test_a_run_with_another_configuration_keeps_the_public_view(marts):
    """A run with another tolerance is stored beside the default (unit_scorecard_all) and the
    public view still shows the default: A's 8 in February 2013 against C's 6 is 'worse' within
    ±2 % and 'same' within ±50 %."""
    from pipelines.units import run_units

    run_id = run_units(marts, same_rel=0.5)
    assert row(marts, "A", S, "2013-02")["status"] == "worse"          # default: 8 vs 6 is worse
    other = marts.execute("SELECT status FROM unit_scorecard_all WHERE run_id = ? AND unit_id = 'A' AND kpi_id = ? "
                          "AND period = DATE '2013-02-01'", [run_id, S]).fetchall()
    assert other == [("same",)]                                          # |8 - 6| <= 0.5 * 6
    assert marts.execute("SELECT count(DISTINCT run_id) FROM unit_kpi_summary").fetchall() == [(1,)]
    assert marts.execute("SELECT count(DISTINCT run_id) FROM unit_kpi_summary_all").fetchall() == [(2,)]


def test_targets_are_absent_without_unit_targets(wh):
    """No unit has a target in this warehouse (municipality targets are not unit targets): the
    target columns are NULL, nothing is invented."""
    from pipelines.units import run_units
    from warehouse.importers.units import import_unit_values, import_units

    con = duckdb.connect(str(wh))
    try:
        import_units(con, write(wh.parent / "enheter.csv", REGISTER))
        import_unit_values(con, write(wh.parent / "varden.csv", values_file()))
        run_units(con)
        assert con.execute("SELECT count(*), count(target), count(target_status) FROM unit_scorecard"
                           ).fetchall()[0][1:] == (0, 0)
        assert con.execute("SELECT count(target_status) FROM unit_kpi_summary").fetchall() == [(0,)]
    finally:
        con.close()


def test_status_counts_per_perspective_and_unit(marts):
    """unit_status_counts (what /enhet prints under each perspective and /enheter per unit),
    counted by hand from the cases above."""
    def counts(unit, perspective):
        cols = ("n_kpis", "n_better", "n_same", "n_worse", "n_missing", "n_not_compared", "n_targets",
                "n_target_met", "n_target_near", "n_target_not_met")
        r = marts.execute(f"SELECT {', '.join(cols)} FROM unit_status_counts WHERE unit_id = ? AND perspective = ?",
                          [unit, perspective]).fetchall()
        return dict(zip(cols, r[0])) if r else None

    persp = dict(marts.execute("SELECT kpi_id, perspective FROM unit_kpis WHERE kpi_id IN (?, ?, ?)", [S, N, T]).fetchall())
    # A in February (its current month): sick leave 8 against C's 6 -> worse, target 6 (tol. 1) not met;
    # the survey 81 (October) against B's 70 -> better; incidents: none in February -> missing
    by_p: dict = {}
    for kpi, status in ((S, "worse"), (N, "better"), (T, "missing")):
        by_p.setdefault(persp[kpi], []).append((kpi, status))
    for p, items in by_p.items():
        c = counts("A", p)
        assert c["n_kpis"] == len(items)
        for status in ("better", "worse", "missing"):
            assert c[f"n_{status}"] == sum(s == status for _, s in items), (p, status)
    total = counts("A", "all")
    assert (total["n_kpis"], total["n_better"], total["n_same"], total["n_worse"], total["n_missing"]) == (3, 1, 0, 1, 1)
    assert (total["n_targets"], total["n_target_met"], total["n_target_not_met"]) == (1, 0, 1)
    # C in March: sick leave 7 = B's 7 -> same; C has no other KPI
    assert {k: v for k, v in counts("C", "all").items() if v} == {"n_kpis": 1, "n_same": 1}
    # D, the only care home: a value, nobody to compare with
    assert counts("D", "all")["n_not_compared"] == 1
    # the 'all' row is the sum of the perspectives for every unit
    bad = marts.execute("""
        SELECT a.unit_id FROM unit_status_counts a
        JOIN (SELECT unit_id, sum(n_kpis) n, sum(n_better) b, sum(n_worse) w, sum(n_missing) m
              FROM unit_status_counts WHERE perspective <> 'all' GROUP BY unit_id) p USING (unit_id)
        WHERE a.perspective = 'all' AND (a.n_kpis, a.n_better, a.n_worse, a.n_missing) <> (p.n, p.b, p.w, p.m)
    """).fetchall()
    assert bad == []
