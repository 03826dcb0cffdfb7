"""Quartile positions (kpi_positions): the scorecard's stated status rule, on hand-made cases
whose bands are worked out by hand in the comments, and on the embedded default against an
independent Python implementation of the rule."""
from __future__ import annotations

import duckdb
import pytest

from pipelines.positions import run_positions
from warehouse.value_source import insert_kpi_values


def _toy(path, values: dict[str, dict[str, float]], hib: dict[str, bool | None], pops=None):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(path))
    apply_schema(con)
    codes = sorted({c for v in values.values() for c in v})
    for i, code in enumerate(codes):
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, f"M{code}"])
        pop = (pops or {}).get(code, 5000)
        con.execute("INSERT INTO population VALUES (?, 2012, ?, 'toy')", [code, pop])
    for kpi, h in hib.items():
        con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, source, is_demo) "
                    "VALUES (?, ?, ?, 'omsorgstagare', 's', true)", [kpi, kpi, h])
    for kpi, by_code in values.items():
        for code, v in by_code.items():
            insert_kpi_values(con, [(kpi, code, 2012, "T", v, "src", True)])
    run_positions(con)
    return con


def _pos(con, kpi):
    return {r[0]: r[1:] for r in con.execute(
        "SELECT municipality_code, national_rank, national_tied, national_n, national_band, status "
        "FROM kpi_positions WHERE kpi_id = ?", [kpi]).fetchall()}


def test_eight_values_with_a_tie(tmp_path):
    # higher is better: 10, 9, 8, 8, 7, 6, 5, 4 -> n = 8, n/4 = 2.
    # places 1, 2 -> best25; the two 8s share places 3–4 (middle 3.5 > 2; from the worst end
    # 9 − 3.5 = 5.5 > 2) -> middle50; 7 (place 5, 4 from the end) and 6 (6, 3) -> middle50;
    # 5 (place 7 = 2 from the worst end) and 4 (8 = 1) -> worst25.
    vals = dict(zip(["01", "02", "03", "04", "05", "06", "07", "08"], [10, 9, 8, 8, 7, 6, 5, 4]))
    vals = {f"00{k}": v for k, v in vals.items()}
    con = _toy(tmp_path / "a.duckdb", {"UP": vals, "DOWN": vals}, {"UP": True, "DOWN": False})
    try:
        up = _pos(con, "UP")
        expected = {"0001": (1, 1, "best25"), "0002": (2, 1, "best25"), "0003": (3, 2, "middle50"),
                    "0004": (3, 2, "middle50"), "0005": (5, 1, "middle50"), "0006": (6, 1, "middle50"),
                    "0007": (7, 1, "worst25"), "0008": (8, 1, "worst25")}
        assert {c: (r[0], r[1], r[3]) for c, r in up.items()} == expected
        assert all(r[2] == 8 and r[4] == r[3] for r in up.values())      # status = national band
        # lower is better mirrors it: 4 is best, 10 worst
        down = _pos(con, "DOWN")
        assert down["0008"][:1] == (1,) and down["0008"][3] == "best25"
        assert down["0001"][3] == "worst25" and down["0003"][3] == "middle50"
    finally:
        con.close()


def test_big_tie_is_judged_by_its_middle_place(tmp_path):
    # 12 values, n/4 = 3: 100 (place 1) best25; eight municipalities share 50 at places 2–9
    # (middle 5.5 > 3, from the end 13 − 5.5 = 7.5 > 3) -> all middle50, never 'best' because
    # one of them is at place 2; 10, 5, 1 at places 10–12 (3, 2, 1 from the end) -> worst25.
    vals = {"0001": 100, **{f"00{i:02d}": 50 for i in range(2, 10)}, "0010": 10, "0011": 5, "0012": 1}
    con = _toy(tmp_path / "b.duckdb", {"UP": vals}, {"UP": True})
    try:
        up = _pos(con, "UP")
        assert up["0001"][3] == "best25"
        assert {up[f"00{i:02d}"][:4] for i in range(2, 10)} == {(2, 8, 12, "middle50")}
        assert [up[c][3] for c in ("0010", "0011", "0012")] == ["worst25"] * 3
    finally:
        con.close()


def test_no_direction_is_information_and_missing_values_do_not_count(tmp_path):
    # NODIR: 5 values (a sixth municipality has none): n = 5, n/4 = 1.25: highest -> high25,
    # lowest -> low25, others middle50; status says no_direction, never better/worse.
    # FEW: 3 values -> no band, status too_few.
    nodir = {"0001": 1.0, "0002": 2.0, "0003": 3.0, "0004": 4.0, "0005": 5.0}
    few = {"0001": 1.0, "0002": 2.0, "0003": 3.0}
    other = {"0006": 1.0}
    con = _toy(tmp_path / "c.duckdb", {"NODIR": nodir, "FEW": few, "OTHER": other},
               {"NODIR": None, "FEW": True, "OTHER": True})
    try:
        p = _pos(con, "NODIR")
        assert "0006" not in p
        assert p["0005"] == (1, 1, 5, "high25", "no_direction")
        assert p["0001"] == (5, 1, 5, "low25", "no_direction")
        assert {p[c][3] for c in ("0002", "0003", "0004")} == {"middle50"}
        f = _pos(con, "FEW")
        assert {r[3] for r in f.values()} == {None} and {r[4] for r in f.values()} == {"too_few"}
    finally:
        con.close()


def test_size_group_band(tmp_path):
    # 0001–0004 small, 0005–0008 large (> 50 000): within each group of 4, n/4 = 1
    vals = {f"000{i}": float(i) for i in range(1, 9)}
    pops = {f"000{i}": (5000 if i <= 4 else 60000) for i in range(1, 9)}
    con = _toy(tmp_path / "d.duckdb", {"UP": vals}, {"UP": True}, pops)
    try:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT municipality_code, size_group, group_rank, group_n, group_band FROM kpi_positions"
        ).fetchall()}
        assert rows["0004"] == ("small", 1, 4, "best25") and rows["0001"] == ("small", 4, 4, "worst25")
        assert rows["0008"] == ("large", 1, 4, "best25") and rows["0006"][3] == "middle50"
        # nationally 0004 (place 5 of 8) is middle, though best in its group
        assert con.execute("SELECT national_band FROM kpi_positions WHERE municipality_code = '0004'"
                           ).fetchone()[0] == "middle50"
    finally:
        con.close()


def band_by_hand(values: dict[str, float], code: str, higher_is_better: bool | None):
    """The stated rule in plain Python (independent of the SQL)."""
    sign = -1 if higher_is_better is False else 1
    d = {c: round(sign * v, 9) for c, v in values.items()}
    n = len(d)
    rank = 1 + sum(1 for v in d.values() if v > d[code])
    tied = sum(1 for v in d.values() if v == d[code])
    mid = rank + (tied - 1) / 2
    if n < 4:
        return rank, tied, n, None
    if 4 * mid <= n:
        return rank, tied, n, "high25" if higher_is_better is None else "best25"
    if 4 * (n + 1 - mid) <= n:
        return rank, tied, n, "low25" if higher_is_better is None else "worst25"
    return rank, tied, n, "middle50"


@pytest.mark.parametrize("code,kpi,year", [("1480", "N00092", 2011), ("0509", "N20014", 2011),
                                           ("1480", "DEMO_HT_BEMOT", 2013), ("0180", "N20896", 2010)])
def test_embedded_default_matches_the_rule_by_hand(built_db, code, kpi, year):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        values = dict(con.execute("SELECT municipality_code, value FROM kpi_values WHERE kpi_id = ? "
                                  "AND year = ? AND gender = 'T' AND value IS NOT NULL", [kpi, year]).fetchall())
        hib = con.execute("SELECT higher_is_better FROM kpis WHERE kpi_id = ?", [kpi]).fetchone()[0]
        got = con.execute("SELECT national_rank, national_tied, national_n, national_band FROM kpi_positions "
                          "WHERE kpi_id = ? AND year = ? AND municipality_code = ?", [kpi, year, code]).fetchone()
        counts = dict(con.execute("SELECT national_band, count(*) FROM kpi_positions WHERE kpi_id = ? "
                                  "AND year = ? GROUP BY 1", [kpi, year]).fetchall())
    finally:
        con.close()
    assert got == band_by_hand(values, code, hib)
    # with 290 distinct values the bands are exactly 72 / 146 / 72
    if len(values) == 290 and len(set(values.values())) == 290:
        assert sorted(counts.values()) == [72, 72, 146]
