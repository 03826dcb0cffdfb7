"""Scorecard mart: group/national means, group rank with direction and ties, status rule."""
from __future__ import annotations

import duckdb
import pytest

from pipelines.scorecard import run_scorecard
from warehouse.value_source import insert_kpi_values


@pytest.fixture
def toy(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    apply_schema(con)
    # 0001–0004 small (< 12 500), 0005–0006 large (> 50 000) in 2012; 2013 has no population
    # figure, so the nearest year's size group (2012) is used.
    for code, pop in (("0001", 5000), ("0002", 6000), ("0003", 7000), ("0004", 8000),
                      ("0005", 60000), ("0006", 70000)):
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, f"M{code}"])
        con.execute("INSERT INTO population VALUES (?, 2012, ?, 'toy')", [code, pop])
    kpis = [("UP", True, "omsorgstagare"), ("DOWN", False, "ekonomi"),
            ("NODIR", None, "verksamhet"), ("BACKGROUND", True, None)]
    for kpi, hib, persp in kpis:
        con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, source, is_demo) "
                    "VALUES (?, ?, ?, ?, 's', true)", [kpi, kpi, hib, persp])
    vals = {
        "UP":    {"0001": 80, "0002": 90, "0003": 90, "0004": 60, "0005": 50, "0006": 70},
        "DOWN":  {"0001": 80, "0002": 90, "0003": 90, "0004": 60, "0005": 50, "0006": 70},
        "NODIR": {"0001": 1, "0002": 2, "0003": 3, "0004": 4, "0005": 5, "0006": 6},
        "BACKGROUND": {"0001": 1},
    }
    for kpi, by_code in vals.items():
        for code, v in by_code.items():
            insert_kpi_values(con, [(kpi, code, 2012, "T", v, "src", True)])
            insert_kpi_values(con, [(kpi, code, 2012, "K", v + 1, "src", True)])
    insert_kpi_values(con, [("UP", "0001", 2013, "T", 42, "src", True)])
    run_scorecard(con)
    yield con
    con.close()


def _rows(con):
    return {(r[0], r[1], r[2]): r[3:] for r in con.execute(
        """SELECT kpi_id, municipality_code, year, value, size_group, group_mean, national_mean,
                  group_rank, group_n, status FROM scorecard""").fetchall()}


def test_only_perspective_kpis_and_gender_t(toy):
    rows = _rows(toy)
    assert {k[0] for k in rows} == {"UP", "DOWN", "NODIR"}
    assert len(rows) == 6 * 3 + 1
    assert rows[("UP", "0001", 2012)][0] == 80               # the 'T' value, not 'K' (81)


def test_means_and_ranks_with_direction_and_ties(toy):
    rows = _rows(toy)
    # small group: 80, 90, 90, 60 -> mean 80; all six: (80+90+90+60+50+70)/6 = 73.333…
    for code, rank in (("0002", 1), ("0003", 2), ("0001", 3), ("0004", 4)):   # tie 90/90 by code
        r = rows[("UP", code, 2012)]
        assert r[1] == "small" and r[2] == pytest.approx(80) and r[3] == pytest.approx(440 / 6)
        assert r[4] == rank and r[5] == 4
    # lower is better: 60 best, then 80, then the tie 90/90 by code
    for code, rank in (("0004", 1), ("0001", 2), ("0002", 3), ("0003", 4)):
        assert rows[("DOWN", code, 2012)][4] == rank
    assert rows[("UP", "0006", 2012)][1:6] == ("large", pytest.approx(60), pytest.approx(440 / 6), 1, 2)
    assert rows[("DOWN", "0005", 2012)][4] == 1
    assert rows[("NODIR", "0001", 2012)][4] is None


def test_status_rule(toy):
    rows = _rows(toy)
    # 0001 = 80 equals the small-group mean -> 'same'
    assert rows[("UP", "0001", 2012)][6] == "same"
    assert rows[("UP", "0002", 2012)][6] == "better"
    assert rows[("UP", "0004", 2012)][6] == "worse"
    assert rows[("DOWN", "0002", 2012)][6] == "worse"
    assert rows[("DOWN", "0004", 2012)][6] == "better"
    assert {rows[k][6] for k in rows if k[0] == "NODIR"} == {"no_direction"}
    # 2013: alone in its group -> equals its own mean
    assert rows[("UP", "0001", 2013)][1:6] == ("small", 42, 42, 1, 1)
    assert rows[("UP", "0001", 2013)][6] == "same"


def test_same_band_is_two_percent_or_a_tenth_sd(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "b.duckdb"))
    apply_schema(con)
    con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, source) "
                "VALUES ('UP', 'u', true, 'verksamhet', 's')")
    # mean 100; 101.9 is within 2 % -> same; 103 beyond 2 % and beyond 0.1 sd -> better
    values = {"0001": 101.9, "0002": 103.0, "0003": 95.1, "0004": 100.0}
    for code, v in values.items():
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, code])
        con.execute("INSERT INTO population VALUES (?, 2012, 100000, 'toy')", [code])
        insert_kpi_values(con, [("UP", code, 2012, "T", v, "s", False)])
    run_scorecard(con)
    status = dict(con.execute("SELECT municipality_code, status FROM scorecard").fetchall())
    assert status == {"0001": "same", "0002": "better", "0003": "worse", "0004": "same"}
    # With a 0 % band only the sd band is left: sample sd = √(36.62/3) = 3.494 → 0.1 sd = 0.35: 101.9 is 'better'.
    run_id = run_scorecard(con, same_rel=0.0)     # another configuration: stored beside the default
    status = dict(con.execute("SELECT municipality_code, status FROM scorecard_all WHERE run_id = ?",
                              [run_id]).fetchall())
    assert status["0001"] == "better" and status["0004"] == "same"
    # the public view (the dashboard) still shows the default run's statuses
    assert dict(con.execute("SELECT municipality_code, status FROM scorecard").fetchall())["0001"] == "same"


def test_mart_is_stored_in_municipality_order(toy):
    codes = [r[0] for r in toy.execute("SELECT municipality_code FROM mart_scorecard").fetchall()]
    assert codes == sorted(codes)


def test_real_warehouse_scorecard(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        df = con.execute("SELECT * FROM scorecard").df()
        kpis = {r[0] for r in con.execute("SELECT kpi_id FROM kpis WHERE perspective IS NOT NULL").fetchall()}
        n_values = con.execute("""SELECT count(*) FROM kpi_values v JOIN kpis k USING (kpi_id)
                                  WHERE v.gender = 'T' AND k.perspective IS NOT NULL""").fetchall()[0][0]
    finally:
        con.close()
    assert len(df) == n_values and set(df["kpi_id"]) <= kpis
    assert not df.duplicated(["kpi_id", "municipality_code", "year"]).any()
    assert set(df["status"].dropna()) <= {"better", "worse", "same", "no_direction"}
    assert df["size_group"].notna().all()
    g = df[df["group_rank"].notna()]
    # ranks within a group are 1..group_n
    chk = g.groupby(["kpi_id", "year", "size_group"]).agg(mx=("group_rank", "max"), n=("group_n", "first"),
                                                          c=("group_rank", "count"))
    assert (chk["mx"] == chk["n"]).all() and (chk["c"] == chk["n"]).all()
