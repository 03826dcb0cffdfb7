"""kill -9 at random moments of `styrkort refresh` and `styrkort import kolada`: the warehouse is
always the state before or the state after, never a mix, and the next run leaves no temporary
files behind.

States are compared table by table with an order-independent fingerprint (row count and the
sum of row hashes). Columns that differ by nature between two runs of the same command
(timestamps, random run ids) are left out of the comparison; everything else must match
exactly."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from layout_support import big_kolada_csv
from test_import_common import REPO

pytestmark = pytest.mark.slow
KILLS = 10          # per command


def _cmd(*args) -> list[str]:
    exe = REPO / ".venv" / "bin" / "styrkort"
    return ([str(exe)] if exe.exists() else [sys.executable, "-m", "styrkort.cli"]) + [str(a) for a in args]


def _columns(con, table):
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? "
        "ORDER BY column_index", [table]).fetchall()]


def fingerprint(db: Path, skip: dict[str, set[str]] | None = None) -> dict[str, tuple]:
    """table -> (rows, sum of row hashes over the columns not in skip[table])."""
    skip = skip or {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
        for t in tables:
            cols = [c for c in _columns(con, t) if c not in skip.get(t, set())]
            expr = "hash(" + ", ".join(f'"{c}"' for c in cols) + ")" if cols else "0"
            out[t] = tuple(con.execute(f'SELECT count(*), coalesce(sum({expr}::HUGEINT), 0) FROM "{t}"').fetchall()[0])
        return out
    finally:
        con.close()


def volatile_columns(db: Path) -> dict[str, set[str]]:
    """Columns that differ by nature between two runs of the same command: timestamps, and ids
    made of random hex (run ids, selection ids)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, set[str]] = {}
        random_ids: dict[str, set[str]] = {}
        for t, c, typ in con.execute(
                "SELECT table_name, column_name, data_type FROM duckdb_columns() "
                "WHERE database_name = current_database()").fetchall():
            volatile = typ.startswith("TIMESTAMP") or typ == "UUID"
            if not volatile and c.endswith("id") and typ == "VARCHAR":
                volatile = con.execute(
                    f'SELECT count(*) > 0 AND bool_and(regexp_full_match("{c}", \'[0-9a-f-]{{8,}}\')) '
                    f'FROM "{t}" WHERE "{c}" IS NOT NULL').fetchall()[0][0]
                if volatile:
                    random_ids.setdefault(t, set()).add(c)
            if volatile:
                out.setdefault(t, set()).add(c)
        # ... and columns that point at such ids (pipeline_run.replaced_by names the run_id of the
        # run that replaced it): every value one of a random id column's values of the same table
        for t, c in con.execute(
                "SELECT table_name, column_name FROM duckdb_columns() "
                "WHERE database_name = current_database() AND data_type = 'VARCHAR'").fetchall():
            for ref in random_ids.get(t, set()) - {c}:
                if con.execute(f'SELECT count("{c}") > 0 AND count("{c}") FILTER (WHERE "{c}" NOT IN '
                               f'(SELECT "{ref}" FROM "{t}" WHERE "{ref}" IS NOT NULL)) = 0 FROM "{t}"').fetchall()[0][0]:
                    out[t].add(c)
                    break
        return out
    finally:
        con.close()


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def _reference(start: Path, folder: Path, args: list) -> tuple[Path, float]:
    """Run the command once on a copy of start; return the result and how long it took."""
    d = folder / "ref"
    d.mkdir()
    db = d / "w.duckdb"
    shutil.copy(start, db)
    t0 = time.monotonic()
    r = subprocess.run(_cmd(*args, "--db", db), capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode == 0, r.stderr
    return db, time.monotonic() - t0


def _kill_loop(start: Path, folder: Path, args: list, ref: Path, skip, seconds: float, seed: int):
    """Runs of the command on copies of start, each SIGKILLed at a random moment of its run,
    until KILLS runs were killed while running; each result must be the start (byte for byte)
    or the reference state."""
    rng = random.Random(seed)
    start_print, after_print = fingerprint(start, skip), fingerprint(ref, skip)
    assert start_print != after_print, "the command changes nothing: the test would prove nothing"
    start_bytes = start.read_bytes()
    outcomes = []
    for i in range(3 * KILLS):
        if len(outcomes) == KILLS:
            break
        d = folder / f"kill{i}"
        d.mkdir()
        db = d / "w.duckdb"
        shutil.copy(start, db)
        at = rng.uniform(0.0, seconds)
        p = subprocess.Popen(_cmd(*args, "--db", db), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=REPO, start_new_session=True)
        time.sleep(at)
        if p.poll() is not None:        # finished before the kill: not a kill, try again
            shutil.rmtree(d)
            continue
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=60)
        if db.read_bytes() == start_bytes:
            outcomes.append(f"{at:.1f}s:before")
            continue
        got = fingerprint(db, skip)
        mixed = {t for t in set(got) | set(after_print) if got.get(t) != after_print.get(t)}
        assert not mixed, f"kill {i} at {at:.2f} s left a mix: {sorted(mixed)} differ from the after state"
        outcomes.append(f"{at:.1f}s:after")
    return outcomes


def _no_temp_files_after_next_run(folder: Path, args: list):
    """The next run of the command (here: refresh) removes what the killed runs left."""
    leftovers = {}
    for d in sorted(folder.glob("kill*")):
        if _temp_files(d):
            leftovers[d] = _temp_files(d)
            r = subprocess.run(_cmd(*args, "--db", d / "w.duckdb"), capture_output=True, text=True, cwd=REPO, timeout=600)
            assert r.returncode == 0, r.stderr
            assert _temp_files(d) == [], _temp_files(d)
    return leftovers


def test_kill_refresh_at_random_moments(built_db, tmp_path):
    # Start: the default warehouse with a changed cost figure, not yet refreshed, so a refresh
    # really changes marts (cost deviation, scorecard).
    start = tmp_path / "start.duckdb"
    shutil.copy(built_db, start)
    con = duckdb.connect(str(start))
    con.execute("UPDATE kpi_value SET value = value * 1.5 WHERE kpi_id = 'N20014' AND year = 2010 "
                "AND municipality_code IN ('0180', '1480', '1440')")
    con.close()
    ref, seconds = _reference(start, tmp_path, ["refresh"])
    skip = volatile_columns(ref)
    assert {"run_id", "replaced_by"} <= skip.get("pipeline_run", set()), skip
    outcomes = _kill_loop(start, tmp_path, ["refresh"], ref, skip, seconds, seed=8)
    assert len(outcomes) == KILLS
    leftovers = _no_temp_files_after_next_run(tmp_path, ["refresh"])
    print(f"refresh: {seconds:.1f} s per run; outcomes {outcomes}; runs that left temp files: {len(leftovers)}")


def test_kill_import_at_random_moments(built_db, tmp_path):
    start = tmp_path / "start.duckdb"
    shutil.copy(built_db, start)
    csv = big_kolada_csv(tmp_path / "big.csv", 60)          # 296 000 values
    args = ["import", "kolada", csv]
    ref, seconds = _reference(start, tmp_path, args)
    skip = volatile_columns(ref)
    assert {"import_id", "imported_at"} <= skip.get("import_log", set()), skip
    outcomes = _kill_loop(start, tmp_path, args, ref, skip, seconds, seed=9)
    assert len(outcomes) == KILLS
    leftovers = _no_temp_files_after_next_run(tmp_path, ["refresh"])
    print(f"import: {seconds:.1f} s per run; outcomes {outcomes}; runs that left temp files: {len(leftovers)}")
