"""The one mart contract (pipelines/core.py, pipelines/runs.py): rows keyed by config_hash (and
scope), the default marked, old runs kept; the declarations (pipelines/marts/*.toml) checked
against the built warehouse; ARCHITECTURE.md generated from them; `styrkort runs` / `rerun`."""
from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines import core
from pipelines.runs import config_hash, start_run
from styrkort.cli import app

TOY = {
    "name": "toy", "step": "toystep", "description": "A toy mart.", "key": ["code"], "scope": ["year"],
    "order_by": ["year", "code"],
    "columns": [
        {"name": "year", "type": "INTEGER", "description": "Year.", "not_null": True},
        {"name": "code", "type": "VARCHAR", "description": "Code.", "not_null": True,
         "relationship": "codes.code"},
        {"name": "value", "type": "DOUBLE", "description": "Value.", "min": 0, "max": 10},
        {"name": "kind", "type": "VARCHAR", "description": "Kind.", "accepted_values": ["a", "b"]},
    ],
}


@pytest.fixture
def toy_con(monkeypatch):
    decl = core.parse_declaration(TOY, "toy.toml")
    monkeypatch.setattr(core, "_DECLARATIONS", {**core.declarations(), "toy": decl})
    con = duckdb.connect()
    con.execute("CREATE TABLE codes AS SELECT * FROM (VALUES ('x'), ('y')) t(code)")
    yield con
    con.close()


def _store(con, config: dict, rows: list[tuple], year: int = 2010, make_default: bool = False):
    run = start_run(con, "toystep", config, shipped={"k": 1}, year=year, make_default=make_default)
    df = pd.DataFrame(rows, columns=["code", "value", "kind"])
    core.store_rows(con, "toy", df, run, year=year)
    return run


def _view(con, view: str) -> list[tuple]:
    return con.execute(f"SELECT year, code, value, is_default FROM {view} ORDER BY ALL").fetchall()


def test_other_parameters_are_stored_beside_the_default_until_made_default(toy_con):
    con = toy_con
    a = _store(con, {"k": 1}, [("x", 1.0, "a"), ("y", 2.0, "b")])          # the shipped config
    assert a.is_default                                                    # no default yet: shipped wins
    b = _store(con, {"k": 2}, [("x", 5.0, "a")])                           # other parameters
    assert not b.is_default
    assert _view(con, "toy") == [(2010, "x", 1.0, True), (2010, "y", 2.0, True)]   # dashboard unchanged
    assert len(_view(con, "toy_all")) == 3
    b2 = _store(con, {"k": 2}, [("x", 6.0, "a")])                          # same config again: replaces
    assert con.execute("SELECT value FROM toy_all WHERE config_hash = ?", [b2.config_hash]).fetchall() == [(6.0,)]
    replaced = con.execute("SELECT replaced_by FROM pipeline_runs WHERE run_id = ?", [b.run_id]).fetchone()[0]
    assert replaced == b2.run_id
    c = _store(con, {"k": 2}, [("x", 7.0, "a")], make_default=True)       # asked: now the default
    assert _view(con, "toy") == [(2010, "x", 7.0, True)]
    assert con.execute("SELECT count(*) FROM toy_all WHERE config_hash = ? AND NOT is_default",
                       [a.config_hash]).fetchone()[0] == 2                  # the old default is kept
    # a run of the current default's configuration stays the default; the shipped one does not
    assert _store(con, {"k": 2}, [("x", 8.0, "a")]).is_default
    assert not _store(con, {"k": 1}, [("x", 1.0, "a")]).is_default
    assert _view(con, "toy") == [(2010, "x", 8.0, True)]
    # other years are another scope: untouched
    _store(con, {"k": 1}, [("y", 3.0, "a")], year=2011)
    assert (2010, "x", 8.0, True) in _view(con, "toy") and (2011, "y", 3.0, True) in _view(con, "toy")
    defaults = con.execute("SELECT year, config_hash FROM pipeline_runs WHERE is_default ORDER BY year").fetchall()
    assert defaults == [(2010, config_hash({"k": 2})), (2011, config_hash({"k": 1}))]


def test_check_mart_finds_each_kind_of_violation(toy_con):
    con = toy_con
    _store(con, {"k": 1}, [("x", 1.0, "a"), ("y", 2.0, "b")])
    assert core.check_mart(con, "toy") == []
    con.execute("""INSERT INTO mart_toy VALUES (2010, 'x', 11.0, 'c', 'r1', 'h1', true),
                                               (NULL, 'z', -1.0, 'a', 'r1', 'h1', false)""")
    problems = "\n".join(core.check_mart(con, "toy"))
    for expected in ("year: 1 NULL", "values outside ['a', 'b']", "1 values above 10", "1 values below 0",
                     "values not in codes.code", "duplicate keys in the default rows",
                     "more than one default run"):
        assert expected in problems, (expected, problems)
    con.execute("ALTER TABLE mart_toy ALTER value TYPE VARCHAR")
    assert "differ from the declaration" in core.check_mart(con, "toy")[0]


@pytest.mark.parametrize("change, message", [
    ({"colour": "red"}, "unknown key"),
    ({"columns": [{"name": "a", "type": "TEXT", "description": "x"}]}, "is not one of"),
    ({"columns": [{"name": "a", "type": "VARCHAR"}]}, "give a description"),
    ({"columns": [{"name": "run_id", "type": "VARCHAR", "description": "x"}]}, "added by the mart contract"),
    ({"key": ["nope"]}, "unknown column"),
])
def test_bad_declarations_are_refused(change, message):
    with pytest.raises(core.DeclarationError, match=message):
        core.parse_declaration({**TOY, **change}, "bad.toml")


def test_a_table_of_an_older_shape_is_rebuilt(toy_con):
    toy_con.execute("CREATE TABLE mart_toy (year INTEGER, code VARCHAR)")
    toy_con.execute("INSERT INTO mart_toy VALUES (2010, 'x')")
    _store(toy_con, {"k": 1}, [("y", 1.0, "a")])
    assert _view(toy_con, "toy_all") == [(2010, "y", 1.0, True)]


# --- the built warehouse against the declarations ----------------------------------------------

def test_every_mart_of_the_built_warehouse_matches_its_declaration(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'mart\\_%' ESCAPE '\\'").fetchall()}
        declared = core.declarations()
        assert tables == {d.table for d in declared.values()}          # nothing undeclared, nothing missing
        for name in declared:
            assert core.check_mart(con, name) == [], name
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] > 0, name
            # every row of the public view is a default row of one run per scope
            assert con.execute(f"SELECT bool_and(is_default) FROM {name}").fetchone()[0] is True
    finally:
        con.close()


def test_declared_types_are_what_duckdb_reports(built_db):
    """Types in the declarations are compared exactly with information_schema (not just names)."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        got = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_name = 'mart_scorecard_series'").fetchall())
    finally:
        con.close()
    assert got["spark_years"] == "INTEGER[]" and got["spark_values"] == "DOUBLE[]"
    assert got["is_default"] == "BOOLEAN"


def test_architecture_md_is_generated_from_the_declarations():
    from pipelines.docs import BEGIN, END, architecture_path, render

    text = architecture_path().read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert render(text) == text, "ARCHITECTURE.md is out of date: run `styrkort marts docs --write`"
    for name in core.declarations():
        assert f"| `{name}` |" in text


def test_docs_render_replaces_only_the_generated_part():
    from pipelines.docs import BEGIN, END, render

    out = render(f"# Title\n\nhand text\n\n{BEGIN}\nSTALE LINE\n{END}\n\ntail text\n")
    assert out.startswith("# Title\n\nhand text\n\n" + BEGIN) and out.endswith(END + "\n\ntail text\n")
    assert "STALE LINE" not in out and "| `trends` |" in out


# --- `styrkort runs`, `styrkort rerun`, and the dashboard staying put -------------------------------

def _default_run(db, step: str) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT run_id FROM pipeline_runs WHERE step = ? AND is_default "
                           "ORDER BY year DESC NULLS LAST LIMIT 1", [step]).fetchone()[0]
    finally:
        con.close()


def test_runs_lists_the_stored_runs(built_db):
    res = CliRunner().invoke(app, ["runs", "--json", "--db", str(built_db)])
    assert res.exit_code == 0, res.output
    runs = json.loads(res.stdout)
    steps = {r["step"] for r in runs}
    assert steps == {"effective", "index", "select", "uncertainty", "cost", "associations", "trends",
                     "scorecard", "positions", "similar", "targets", "whatif", "grants", "units"}
    assert all(r["is_default"] and r["is_stored"] for r in runs)        # a fresh build: only defaults
    years = sorted(r["year"] for r in runs if r["step"] == "index")
    assert years == list(range(2007, 2014))
    res = CliRunner().invoke(app, ["runs", "--step", "cost", "--db", str(built_db)])
    assert res.exit_code == 0 and "cost" in res.stdout and "ja" in res.stdout


@pytest.mark.slow
@pytest.mark.parametrize("step", ["effective", "index", "select", "cost", "positions", "similar", "targets", "grants",
                                  "units"])
def test_rerun_of_the_default_run_is_identical(built_db, step):
    run_id = _default_run(built_db, step)
    res = CliRunner().invoke(app, ["rerun", run_id, "--lang", "en", "--db", str(built_db)])
    assert res.exit_code == 0, res.output
    assert "identical" in res.stdout and "differs" not in res.stdout
    sv = CliRunner().invoke(app, ["rerun", run_id, "--db", str(built_db)])   # Swedish by default
    assert sv.exit_code == 0 and "identisk" in sv.stdout and "skiljer sig" not in sv.stdout


def test_rerun_reports_a_changed_row(db_copy):
    run_id = _default_run(db_copy, "cost")
    con = duckdb.connect(str(db_copy))
    con.execute("UPDATE mart_cost_deviation SET deviation_pct = deviation_pct + 1 "
                "WHERE year = 2010 AND municipality_code = '0180'")
    con.close()
    res = CliRunner().invoke(app, ["rerun", run_id, "--json", "--db", str(db_copy)])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    dev = next(m for m in doc["marts"] if m["mart"] == "cost_deviation")
    assert doc["identical"] is False and dev["changed_values"] == 1
    assert dev["examples"][0]["key"] == {"year": 2010, "municipality_code": "0180"}
    assert dev["examples"][0]["column"] == "deviation_pct"
    assert dev["examples"][0]["stored"] - dev["examples"][0]["recomputed"] == pytest.approx(1.0)
    assert next(m for m in doc["marts"] if m["mart"] == "cost_model")["changed_values"] == 0
    res = CliRunner().invoke(app, ["rerun", "nosuchrun", "--db", str(db_copy)])
    assert res.exit_code == 2 and "styrkort runs" in res.output


def _page_trends(db, code: str) -> dict:
    from dashboard.data import Warehouse, scorecard_data

    w = Warehouse(db)
    try:
        return {r["kpi_id"]: r["trend"] for r in scorecard_data(w, code)["kpi_rows"]}
    finally:
        w.close()


def test_trends_with_another_window_does_not_change_the_dashboard(db_copy):
    before = _page_trends(db_copy, "1480")
    assert any(v is not None for v in before.values())
    res = CliRunner().invoke(app, ["trends", "--years", "3", "--municipality", "1480", "--db", str(db_copy)],
                             env={"STYRKORT_LANG": "en"})
    assert res.exit_code == 0, res.output
    assert "dashboard is unchanged" in res.stdout
    assert _page_trends(db_copy, "1480") == before
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT window_years FROM trends").fetchall() == [(5,)]
        assert con.execute("SELECT DISTINCT window_years FROM trends_all WHERE NOT is_default").fetchall() == [(3,)]
    finally:
        con.close()


@pytest.mark.slow
def test_make_default_moves_the_dashboard_and_refresh_keeps_it(db_copy):
    res = CliRunner().invoke(app, ["trends", "--years", "3", "--make-default", "--kpi", "DEMO_HT_TID",
                                   "--db", str(db_copy)])
    assert res.exit_code == 0, res.output
    assert "omräknade: scorecard" in res.stdout
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT window_years FROM trends").fetchall() == [(3,)]
        # the scorecard's verdicts follow the new default trends run
        mismatch = con.execute("""SELECT count(*) FROM scorecard_series s JOIN trends t USING (municipality_code, kpi_id)
                                  WHERE s.trend IS DISTINCT FROM t.verdict""").fetchone()[0]
        run3 = con.execute("SELECT DISTINCT run_id FROM trends").fetchall()
        assert mismatch == 0 and con.execute("SELECT DISTINCT trends_run_id FROM scorecard_series").fetchall() == run3
    finally:
        con.close()
    res = CliRunner().invoke(app, ["refresh", "--db", str(db_copy)])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        # refresh recomputes the default runs with their recorded configuration: still 3 years
        assert con.execute("SELECT DISTINCT window_years FROM trends").fetchall() == [(3,)]
        assert con.execute("SELECT count(*) FROM trends_all WHERE window_years = 5").fetchone()[0] > 0
        for name in core.declarations():
            assert core.check_mart(con, name) == [], name
    finally:
        con.close()


def test_every_step_is_registered_once_with_a_rerun_and_a_config():
    """pipelines.steps.REGISTRY: each step of STEPS resolves to its rerun function and (steps not per
    year) its shipped configuration; an unknown step is a clear error."""
    from pipelines.steps import PER_YEAR, REGISTRY, STEPS, rerun_function, shipped_config

    assert set(REGISTRY) == set(STEPS) and len(STEPS) == len(set(STEPS))
    for step in STEPS:
        assert callable(rerun_function(step))
        if step not in PER_YEAR:
            assert isinstance(shipped_config(None, step), dict)
    with pytest.raises(ValueError, match="unknown step 'nosuch'"):
        rerun_function("nosuch")
