"""Targets: `styrkort import targets` (good files, the template's blank rows, re-import, every
bad-input case with file + line and the warehouse unchanged) and the target_status mart
(uppnått / nära / ej uppnått by hand, direction-aware, default tolerance, unit targets)."""
from __future__ import annotations

import duckdb
import pytest

from test_import_common import cli, cli_refuses, query, snapshot, tiny_wh, wh, write  # noqa: F401
from warehouse.value_source import insert_kpi_values

HEADER = "municipality_code,kpi_id,year,target,unit_id,tolerance,decided_by,comment\r\n"


@pytest.fixture
def twh(wh):
    """The small warehouse plus three KPIs with values, a unit with monthly values."""
    con = duckdb.connect(str(wh))
    try:
        for kpi, hib in (("UP", True), ("DOWN", False), ("NODIR", None)):
            con.execute("INSERT INTO kpi (kpi_id, title, unit, higher_is_better, perspective, source, is_demo) "
                        "VALUES (?, ?, '%', ?, 'omsorgstagare', 'test', false)", [kpi, f"KPI {kpi}", hib])
        for kpi, code, year, v in (("UP", "1480", 2012, 80.0), ("DOWN", "1480", 2012, 10.0),
                                   ("NODIR", "1480", 2012, 50.0), ("UP", "0509", 2012, 70.0)):
            insert_kpi_values(con, [(kpi, code, year, "T", v, "test", False)])
        con.execute("INSERT INTO org_unit (unit_id, municipality_code, name, kind, is_demo, source) "
                    "VALUES ('GBG-HT-1', '1480', 'Hemtjänst 1', 'hemtjanst', false, 'test')")
        con.execute("INSERT INTO unit_kpi VALUES ('UP', 'month', 'test')")   # UP is also reported by units
        for month, v in ((1, 70.0), (2, 80.0), (3, 90.0)):
            con.execute("INSERT INTO unit_value (kpi_id, unit_id, period, value, source, is_demo) "
                        "VALUES ('UP', 'GBG-HT-1', ?, ?, 'test', false)", [f"2012-{month:02d}-01", v])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return wh


def _status(db):
    return {(r[0], r[1], r[2], r[3]): r[4:] for r in query(
        db, "SELECT municipality_code, kpi_id, year, coalesce(unit_id, ''), status, value, tolerance_used, "
            "gap FROM target_status")}


def test_import_and_status_by_hand(twh):
    f = write(twh.parent / "mal.csv", HEADER
              + "1480,UP,2012,80,,,Äldrenämnden 2012-02-01 §3,exakt på målet\r\n"     # 80 >= 80: achieved
              + "Göteborg,up,2013,85,,,,\r\n"                                          # no 2013 value
              + "1480,DOWN,2012,9.5,,1,,\r\n"                                          # 10 <= 9.5 + 1: near
              + "1480,NODIR,2012,\"45,5\",,,,\r\n"                                     # no direction
              + "0509,UP,2012,74,,,,\r\n"                                              # 70 < 74 − 3.7: not
              + "1480,UP,2012,84,GBG-HT-1,,,\r\n")                                     # unit mean 80 >= 84 − 4.2
    r = cli("import", "targets", f, "--db", twh)
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "nya" in out and "Målen och deras uppfyllelse syns nu i styrkortet" in out
    st = _status(twh)
    assert st[("1480", "UP", 2012, "")][:3] == ("achieved", 80.0, pytest.approx(4.0))   # default 5 % of 80
    assert st[("1480", "UP", 2013, "")][:2] == ("no_value", None)
    assert st[("1480", "DOWN", 2012, "")][:3] == ("near", 10.0, 1.0)
    assert st[("1480", "NODIR", 2012, "")][0] == "no_direction"
    assert st[("1480", "NODIR", 2012, "")][3] == pytest.approx(4.5)                   # 50 − 45.5
    assert st[("0509", "UP", 2012, "")][0] == "not_achieved"                            # 74 − 3.7 = 70.3 > 70
    assert st[("1480", "UP", 2012, "GBG-HT-1")][:2] == ("near", pytest.approx(80.0))   # mean of 70, 80, 90
    stored = query(twh, "SELECT kpi_id, decided_by, comment, is_demo FROM targets WHERE kpi_id = 'UP' "
                        "AND year = 2012 AND unit_id IS NULL AND municipality_code = '1480'")
    assert stored == [("UP", "Äldrenämnden 2012-02-01 §3", "exakt på målet", False)]
    # the same file again changes nothing; a changed target is an update
    before = snapshot(twh)
    status_before = query(twh, "SELECT * EXCLUDE (run_id) FROM target_status ORDER BY ALL")
    r = cli("import", "targets", f, "--db", twh)
    assert r.exit_code == 0, r.output
    assert any(line.split()[:2] == ["oförändrade", "6"] for line in r.output.replace("│", " ").splitlines()), r.output
    after = snapshot(twh)
    assert after["target"] == before["target"]
    assert query(twh, "SELECT * EXCLUDE (run_id) FROM target_status ORDER BY ALL") == status_before
    g = write(twh.parent / "mal2.csv", HEADER + "1480,DOWN,2012,10.5,,1,,\r\n")
    assert cli("import", "targets", g, "--db", twh).exit_code == 0
    assert _status(twh)[("1480", "DOWN", 2012, "")][0] == "achieved"                   # 10 <= 10.5


def test_boundaries_and_direction(twh):
    # DOWN value 10: target 10 achieved (inclusive); 8 with tolerance 2 → 10 <= 10: near (inclusive);
    # 8 with tolerance 1.9 → not achieved
    f = write(twh.parent / "b.csv", HEADER + "1480,DOWN,2012,10,,,,\r\n")
    assert cli("import", "targets", f, "--db", twh).exit_code == 0
    assert _status(twh)[("1480", "DOWN", 2012, "")][0] == "achieved"
    for tol, expected in (("2", "near"), ("1.9", "not_achieved")):
        f = write(twh.parent / f"b{tol}.csv", HEADER + f"1480,DOWN,2012,8,,{tol},,\r\n")
        assert cli("import", "targets", f, "--db", twh).exit_code == 0
        assert _status(twh)[("1480", "DOWN", 2012, "")][0] == expected, tol


def test_template_rows_without_target_are_skipped_and_counted(twh):
    f = write(twh.parent / "mall.csv",
              "municipality_code;kpi_id;year;target;unit_id;tolerance;decided_by;comment;kpi_title;unit;latest_year;latest_value\r\n"
              "1480;UP;2012;;;;;;KPI UP;%;2012;80\r\n"
              "1480;DOWN;2012;9,5;;;Nämnden;;KPI DOWN;%;2012;10\r\n"
              "1480;NODIR;2012;..;;;;;KPI NODIR;%;2012;50\r\n")
    r = cli("import", "targets", f, "--db", twh)
    assert r.exit_code == 0, r.output
    assert query(twh, "SELECT kpi_id, target FROM targets") == [("DOWN", 9.5)]
    assert "överhoppade: 2 – tomt mål" in " ".join(r.output.split())


def test_excel_file(twh):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["municipality_code", "kpi_id", "year", "target", "tolerance"])
    ws.append(["1480", "UP", 2012, 79.5, 1])
    path = twh.parent / "mal.xlsx"
    wb.save(path)
    r = cli("import", "targets", path, "--db", twh)
    assert r.exit_code == 0, r.output
    assert _status(twh)[("1480", "UP", 2012, "")][:3] == ("achieved", 80.0, 1.0)


def test_unit_targets_on_the_unit_kpi_catalogue(twh):
    """A unit row is for a KPI of the unit KPI catalogue (warehouse/unit_kpis.csv, loaded by
    `styrkort import units`): Balansen's BAL_SJUKFRANVARO for the unit is stored and judged
    against the unit's mean that year (5, 7 → 6 ≤ 6,5: achieved); the unit id's case does not
    matter; the same KPI for the whole municipality is a separate target."""
    from warehouse.units import load_unit_kpis

    con = duckdb.connect(str(twh))
    try:
        load_unit_kpis(con)
        for month, v in ((1, 5.0), (2, 7.0)):
            con.execute("INSERT INTO unit_value (kpi_id, unit_id, period, value, source, is_demo) "
                        "VALUES ('BAL_SJUKFRANVARO', 'GBG-HT-1', ?, ?, 'test', false)", [f"2012-{month:02d}-01", v])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    f = write(twh.parent / "enhetsmal.csv", HEADER + "1480,BAL_SJUKFRANVARO,2012,6.5,gbg-ht-1,,Stadsdelsnämnden,\r\n"
                                                      "1480,BAL_SJUKFRANVARO,2012,8,,,,\r\n")
    r = cli("import", "targets", f, "--db", twh)
    assert r.exit_code == 0, r.output
    assert query(twh, "SELECT unit_id, target, decided_by FROM targets ORDER BY unit_id NULLS LAST") == [
        ("GBG-HT-1", 6.5, "Stadsdelsnämnden"), (None, 8.0, None)]
    st = _status(twh)
    assert st[("1480", "BAL_SJUKFRANVARO", 2012, "GBG-HT-1")][:2] == ("achieved", pytest.approx(6.0))
    assert st[("1480", "BAL_SJUKFRANVARO", 2012, "")][0] == "no_value"    # no municipality value


def _fails(db, text: str, *, line, words, name="bad.csv"):
    seed = write(db.parent / "seed.csv", HEADER + "1480,UP,2012,80,,,,\r\n")
    assert cli("import", "targets", seed, "--db", db).exit_code == 0
    return cli_refuses(db, "targets", [write(db.parent / name, text)], line=line, words=words)


@pytest.mark.parametrize("rows,line,words", [
    ("1480,UP,2012,80,,,,\r\nSkogsby,UP,2012,80,,,,\r\n", 3, ["unknown municipality", "Skogsby"]),
    ("1480,NOPE,2012,80,,,,\r\n", 2, ["unknown KPI", "NOPE"]),
    ("1480,UP,tjugo,80,,,,\r\n", 2, ["invalid year"]),
    ("1480,UP,2012,80,,,,\r\n1480,UP,2012,81abc,,,,\r\n", 3, ["non-numeric value", "81abc"]),
    ("1480,UP,2012,80,,-1,,\r\n", 2, ["negative tolerance"]),
    ("1480,UP,2012,80,NOSUCH,,,\r\n", 2, ["unknown unit", "NOSUCH"]),
    ("0509,UP,2012,80,GBG-HT-1,,,\r\n", 2, ["unit of another municipality"]),
    ("1480,UP,2012,80,GBG-HT-1,,,\r\n1480,DOWN,2012,9,GBG-HT-1,,,\r\n", 3, ["not a unit KPI", "DOWN"]),
    ("1480,UP,2012,80,,,,\r\n1480,up,2012,81,,,,\r\n", 3, ["duplicate key", "rad 2"]),
    (",UP,2012,80,,,,\r\n", 2, ["missing municipality_code"]),
])
def test_bad_rows_name_file_and_line_and_change_nothing(twh, rows, line, words):
    _fails(twh, HEADER + rows, line=line, words=words)


def test_missing_column_and_empty_file(twh):
    _fails(twh, "municipality_code,kpi_id,year\r\n1480,UP,2012\r\n", line=1, words=["missing column", "target"])
    _fails(twh, HEADER, line=None, words=["empty file"], name="empty.csv")


def test_good_file_then_bad_file_imports_nothing(twh):
    good = write(twh.parent / "good.csv", HEADER + "1480,DOWN,2012,9,,,,\r\n")
    bad = write(twh.parent / "bad.csv", HEADER + "1480,UP,2012,nio,,,,\r\n")
    before = snapshot(twh)
    r = cli("import", "targets", good, bad, "--db", twh)
    assert r.exit_code != 0 and "rad (line) 2:" in " ".join(r.output.split())
    assert snapshot(twh) == before


def _counts(db):
    return {(r[0], r[1], r[2]): r[3:] for r in query(
        db, "SELECT municipality_code, perspective, year, n_targets, n_achieved, n_near, n_not_achieved, "
            "n_no_direction FROM target_status_counts")}


def test_target_counts_per_panel_by_hand(twh):
    """The 'Mål: X av N uppnådda' counts are the targets step's (mart target_status_counts): per
    municipality, perspective and scorecard view, the KPIs listed with a value that have a target
    for that value's year. 1480: UP 80 ≥ 80 achieved, DOWN 10 ≤ 9,5 + 1 near, NODIR no direction
    (omsorgstagare, 2012); EK 100 < 120 − 6 not achieved (ekonomi, its only value 2011). Not
    counted: UP 2013 and EK 2012 (no value that year), the unit target. 'senaste' (year NULL):
    each KPI at its latest year — 2012 for the omsorgstagare KPIs, 2011 for EK."""
    con = duckdb.connect(str(twh))
    try:
        con.execute("INSERT INTO kpi (kpi_id, title, unit, higher_is_better, perspective, source, is_demo) "
                    "VALUES ('EK', 'KPI EK', 'kr', true, 'ekonomi', 'test', false)")
        insert_kpi_values(con, [("EK", "1480", 2011, "T", 100.0, "test", False)])
        from pipelines.scorecard import run_scorecard

        run_scorecard(con, make_default=True)   # the rows the scorecard lists: what is counted
        con.execute("CHECKPOINT")
    finally:
        con.close()
    f = write(twh.parent / "mal.csv", HEADER
              + "1480,UP,2012,80,,,,\r\n1480,DOWN,2012,9.5,,1,,\r\n1480,NODIR,2012,45.5,,,,\r\n"
              + "1480,UP,2013,85,,,,\r\n1480,EK,2011,120,,,,\r\n1480,EK,2012,90,,,,\r\n"
              + "1480,UP,2012,60,GBG-HT-1,,,\r\n0509,UP,2012,74,,,,\r\n")
    r = cli("import", "targets", f, "--db", twh)
    assert r.exit_code == 0, r.output
    # (n, achieved, near, not achieved, no direction)
    assert _counts(twh) == {
        ("1480", "omsorgstagare", 2012): (3, 1, 1, 0, 1), ("1480", "omsorgstagare", None): (3, 1, 1, 0, 1),
        ("1480", "ekonomi", 2011): (1, 0, 0, 1, 0), ("1480", "ekonomi", None): (1, 0, 0, 1, 0),
        ("0509", "omsorgstagare", 2012): (1, 0, 0, 1, 0), ("0509", "omsorgstagare", None): (1, 0, 0, 1, 0)}
    # a changed target is counted at once (the import recomputes the step): DOWN 10 ≤ 10,5 achieved
    g = write(twh.parent / "mal2.csv", HEADER + "1480,DOWN,2012,10.5,,1,,\r\n")
    assert cli("import", "targets", g, "--db", twh).exit_code == 0
    assert _counts(twh)[("1480", "omsorgstagare", 2012)] == (3, 2, 0, 0, 1)
    # the page's words from those counts
    from dashboard.scorecard_rules import target_summary

    assert target_summary({"n": 3, "achieved": 2, "near": 0, "not_achieved": 0, "no_direction": 1}, "sv") == (
        "Mål: 2 av 3 uppnådda, 0 nära, 0 ej uppnådda. 1 av dem gäller nyckeltal utan riktning: där visas bara "
        "avvikelsen.")
    assert target_summary(None, "sv") is None


def test_target_counts_without_a_scorecard_are_empty(twh):
    f = write(twh.parent / "mal.csv", HEADER + "1480,UP,2012,80,,,,\r\n")
    assert cli("import", "targets", f, "--db", twh).exit_code == 0
    assert _counts(twh) == {}


def test_embedded_default_ships_flagged_demo_targets(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        rows = con.execute("SELECT municipality_code, is_demo, source FROM targets").fetchall()
        status = dict(con.execute("SELECT status, count(*) FROM target_status GROUP BY 1").fetchall())
        demo_set = con.execute("SELECT is_demo FROM datasets WHERE dataset = 'demo_mal'").fetchone()
    finally:
        con.close()
    assert {r[0] for r in rows} == {"1480", "0509", "0180"}
    assert all(r[1] for r in rows) and all("DEMO" in r[2] for r in rows)
    assert demo_set == (True,)
    # the demo targets show each status the scorecard can show
    assert {"achieved", "near", "not_achieved"} <= set(status)
