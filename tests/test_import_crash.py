"""A process killed (SIGKILL) during an import leaves the previous warehouse intact.

DuckDB makes a transaction durable only at COMMIT (write-ahead log): whatever an import wrote
before the kill is discarded when the warehouse is opened again. Two kill points, made
deterministic with a small driver process that reports its progress on stdout:
- mid-import: while import_kolada is still reading/writing a ~1.5-million-row file;
- after every row is written, just before COMMIT (the driver waits for a word that never comes).
"""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from layout_support import big_kolada_csv
from test_import_common import REPO, cli, snapshot, tiny_wh, wh, write  # noqa: F401

DRIVER = textwrap.dedent("""
    import sys, duckdb
    sys.path.insert(0, {repo!r})
    from warehouse.importers.kolada import import_kolada
    con = duckdb.connect({db!r})
    con.execute("BEGIN")
    print("begin", flush=True)
    import_kolada(con, [{csv!r}])
    print("imported", flush=True)
    if sys.stdin.readline().strip() == "commit":
        con.execute("COMMIT")
        print("committed", flush=True)
""")


def _start(db, csv):
    code = DRIVER.format(repo=str(REPO), db=str(db), csv=str(csv))
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(proc, word, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        line = proc.stdout.readline()
        if line.strip() == word:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"driver ended early: {proc.stderr.read()}")
    raise AssertionError(f"no {word!r} within {timeout} s")


@pytest.fixture
def seeded(wh):
    f = write(wh.parent / "seed.csv", "Variabelkod,Kommun,År,Värde\nN20014,Ale,2009,100\nN20014,Stockholm,2009,200\n")
    assert cli("import", "kolada", f, "--db", wh).exit_code == 0
    return wh


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["mid-import", "before-commit"])
def test_kill_leaves_previous_warehouse(seeded, tmp_path, kill_at):
    csv = big_kolada_csv(tmp_path / "big.csv", 300)
    before = snapshot(seeded)
    proc = _start(seeded, csv)
    try:
        _wait_for(proc, "begin")
        if kill_at == "mid-import":
            time.sleep(0.5)
            assert proc.poll() is None, "the import finished before the kill; use a bigger file"
        else:
            _wait_for(proc, "imported")          # every row written, transaction open
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(seeded) == before
    # The warehouse is usable afterwards: the same import now succeeds through the CLI.
    r = cli("import", "kolada", csv, "--db", seeded)
    assert r.exit_code == 0, r.output
    n = duckdb.connect(str(seeded), read_only=True)
    try:
        assert n.execute("SELECT count(*) FROM kpi_value").fetchall()[0][0] == 2 + 300 * 290 * 17
    finally:
        n.close()


def test_driver_commits_when_told(seeded, tmp_path):
    """Control for the test above: the same driver, allowed to commit, does change the warehouse."""
    csv = write(tmp_path / "small.csv", "Variabelkod,Kommun,År,Värde\nN20014,Ale,2010,1\n")
    proc = _start(seeded, csv)
    _wait_for(proc, "imported")
    out, err = proc.communicate("commit\n", timeout=60)
    assert "committed" in out, err
    con = duckdb.connect(str(seeded), read_only=True)
    try:
        assert con.execute("SELECT value FROM kpi_value WHERE year = 2010").fetchall() == [(1.0,)]
    finally:
        con.close()
