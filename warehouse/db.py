"""Connections and schema. Writers go through `connect(path)`; the web process uses
`connect(path, read_only=True)` and can never write."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

SCHEMA_FILES = ("01_tables.sql", "02_views.sql")


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"Warehouse {path} does not exist; run `styrkort build` first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def schema_sql(name: str) -> str:
    return resources.files("warehouse.schema").joinpath(name).read_text(encoding="utf-8")


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create tables and (re)create the public views. Idempotent."""
    for name in SCHEMA_FILES:
        con.execute(schema_sql(name))
