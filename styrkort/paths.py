"""Where things are. The warehouse path comes from --db, else STYRKORT_DB, else the default."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("data/warehouse.duckdb")


def default_db() -> Path:
    return Path(os.environ.get("STYRKORT_DB", str(DEFAULT_DB)))


# Use as the type of a `db` parameter on every CLI command.
DbOption = Annotated[
    Path,
    typer.Option("--db", envvar="STYRKORT_DB", help="Warehouse file (DuckDB).", show_default=True),
]
