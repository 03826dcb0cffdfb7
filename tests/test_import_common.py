"""Shared fixtures for the importer tests (test_import_*.py).

`tiny_wh` is a small warehouse: the schema plus the real municipalities, aliases and Kolada
catalogue (loaded by warehouse/loaders.py), no values, so every count an importer test checks
comes from the test's own file. `wh` is a private copy per test. `snapshot` reads every table
so a test can assert that a failed import left the warehouse unchanged."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner
from warehouse.value_source import insert_kpi_values

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "warehouse" / "sources"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def tiny_wh(tmp_path_factory) -> Path:
    from warehouse.db import apply_schema
    from warehouse.loaders import load_aliases, load_kpi_catalogue, load_municipalities

    path = tmp_path_factory.mktemp("tiny") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    apply_schema(con)
    load_municipalities(con)
    load_aliases(con)
    load_kpi_catalogue(con)
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def wh(tiny_wh, tmp_path) -> Path:
    dst = tmp_path / "wh.duckdb"
    shutil.copy(tiny_wh, dst)
    return dst


def rules_warehouse(tiny: Path, path: Path) -> Path:
    """tiny_wh plus grant rounds (Tabell 2), one own KPI with direction and perspective, the
    N20014 KPI row, and one value (Ale, N20014, 2010 = 100) that a wrong import could overwrite:
    the start of the rule tests, the corpus and the fuzz."""
    shutil.copy(tiny, path)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO grant_round (round, pot, source) VALUES ('2011:1', 1, 't'), ('2011:2', 1, 't'), "
                "('2012', 1, 't'), ('2013:1', 1, 't'), ('2013:2', 2, 't')")
    con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, area, unit, source) VALUES "
                "('OJ_A', 'Eget nyckeltal', true, 'omsorgstagare', 'Område', '%', 't'), "
                "('N20014', 'Nettokostnad äldreomsorg, kr/inv', false, 'ekonomi', NULL, 'kr/inv', 't')")
    insert_kpi_values(con, [("N20014", "1440", 2010, "T", 100, "t", False)])
    con.execute("CHECKPOINT")
    con.close()
    return path


def snapshot(db: Path) -> dict[str, list]:
    """Every base table's rows, sorted (import_log included)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        con.close()


def query(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def cli(*args: str):
    """Run `styrkort ARGS...` in-process; returns the click Result (exit_code, output)."""
    from styrkort.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def cli_refuses(db: Path, command: str, files: list, *, line, words, extra=()) -> str:
    """`styrkort import COMMAND FILES` must fail naming the last file (and `rad (line) N:` when
    `line` is given) with every word of `words`, and leave the warehouse exactly as it was.
    Returns the output with whitespace folded."""
    before = snapshot(db)
    r = cli("import", command, *files, *extra, "--db", db)
    assert r.exit_code != 0, r.output
    out = " ".join(r.output.split())
    assert str(files[-1]) in out, out
    if line is not None:
        assert f"rad (line) {line}:" in out, out
    for w in words:
        assert w in out, out
    assert snapshot(db) == before
    return out


def read_csv_rows(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[dict]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def scb_names() -> dict[str, str]:
    """name -> code from the SCB panel (independent of the warehouse code)."""
    rows = read_csv_rows(SOURCES / "scb_municipality_panel.csv")
    return {r["municip_name"]: r["municip_code"] for r in rows}


def write(path: Path, data: bytes | str, encoding: str = "utf-8") -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path
