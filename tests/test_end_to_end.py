"""A user's own data end to end: import → refresh → the marts the dashboard reads show it.

Uses the CLI exactly as the README tells a user to, on a copy of the embedded default."""
from __future__ import annotations

import duckdb
from typer.testing import CliRunner

from styrkort.cli import app

runner = CliRunner()


def _rows(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def test_imported_indicator_reaches_the_scorecard_after_refresh(db_copy, tmp_path):
    # Three municipalities, one new KPI with a Balansen perspective, lower is better.
    meta = tmp_path / "meta.csv"
    meta.write_text("kpi_id,title,higher_is_better,area,perspective,unit\n"
                    "MY_FALL,Fallskador per 100 boende,false,,verksamhet,antal/100\n", encoding="utf-8")
    data = tmp_path / "values.csv"
    data.write_text("municipality_code,kpi_id,year,value\n"
                    "0180,MY_FALL,2012,4.0\n1480,MY_FALL,2012,2.0\n1280,MY_FALL,2012,3.0\n", encoding="utf-8")

    res = runner.invoke(app, ["import", "indicators", str(data), "--kpis", str(meta), "--db", str(db_copy)])
    assert res.exit_code == 0, res.output
    assert "styrkort refresh" in res.output
    # Stored, but not yet in the marts.
    assert _rows(db_copy, "SELECT count(*) FROM scorecard WHERE kpi_id = 'MY_FALL'") == [(0,)]

    res = runner.invoke(app, ["refresh", "--db", str(db_copy)])
    assert res.exit_code == 0, res.output
    got = dict((code, (nat, status)) for code, nat, status in _rows(
        db_copy, "SELECT municipality_code, national_mean, status FROM scorecard "
                 "WHERE kpi_id = 'MY_FALL' AND year = 2012"))
    assert set(got) == {"0180", "1480", "1280"}
    assert all(abs(nat - 3.0) < 1e-9 for nat, _ in got.values())  # (4 + 2 + 3) / 3
    # Göteborg (2.0) has the fewest falls among the large municipalities: better, never worse.
    assert got["1480"][1] == "better"
    assert got["0180"][1] == "worse"


def test_refresh_on_a_missing_warehouse_is_a_clear_error(tmp_path):
    res = runner.invoke(app, ["refresh", "--db", str(tmp_path / "nope.duckdb")])
    assert res.exit_code != 0
    assert "styrkort build" in res.output
