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
