"""Shared fixtures. `built_db` is the embedded default warehouse, built once per test session
(per xdist worker) into a temporary folder with the real `styrkort build` code path."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "warehouse" / "sources"   # real files copied from shared/ (see PROVENANCE.md)


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> Path:
    from styrkort.build import build

    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    build(path, quiet=True)
    return path


@pytest.fixture
def db_copy(built_db, tmp_path) -> Path:
    """A private copy of the built warehouse a test may write to."""
    import shutil

    dst = tmp_path / "warehouse.duckdb"
    shutil.copy(built_db, dst)
    return dst


@pytest.fixture(scope="session")
def real_2009_db(built_db, tmp_path_factory) -> Path:
    """The embedded default after `styrkort import kolada` of a Kolada API v3 file with every id
    of the preset oj-aldreomsorg for all 290 municipalities in 2009 (recorded shape, synthetic
    values: tests/make_kolada_recordings.py) and `styrkort refresh`."""
    import json
    import shutil

    from typer.testing import CliRunner

    from make_kolada_recordings import combined
    from styrkort.cli import app

    folder = tmp_path_factory.mktemp("real2009")
    db = folder / "warehouse.duckdb"
    shutil.copy(built_db, db)
    data = folder / "kolada_oj_2009_v3.json"
    data.write_text(json.dumps(combined([2009], "v3"), ensure_ascii=False), encoding="utf-8")
    for args in (["import", "kolada", str(data), "--db", str(db)], ["refresh", "--db", str(db)]):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 0, r.output
    return db
