"""Fixture helpers shared by test_build.py, test_population.py, test_demo.py: the warehouse
layer on its own (schema + load_embedded + generate_demo, no pipelines), built once per
session into a temporary file. The full `styrkort build` path is `built_db` in conftest.py."""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "warehouse" / "sources"
DEMO_SEED = 20101


def build_layer(path: Path, seed: int = DEMO_SEED, demo: bool = True) -> Path:
    from warehouse.db import apply_schema
    from warehouse.demo import generate_demo
    from warehouse.loaders import load_embedded

    con = duckdb.connect(str(path))
    try:
        apply_schema(con)
        load_embedded(con)
        if demo:
            generate_demo(con, seed=seed)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def layer_db(tmp_path_factory) -> Path:
    return build_layer(tmp_path_factory.mktemp("layer") / "warehouse.duckdb")


@pytest.fixture
def con(layer_db):
    c = duckdb.connect(str(layer_db), read_only=True)
    yield c
    c.close()


def read_rows(name: str, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    """A source file as dict rows, read with the csv module (independent of the loaders)."""
    with open(SOURCES / name, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f, delimiter=delimiter))
