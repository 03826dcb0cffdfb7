"""Warehouse commands: import (kolada, indicators, grants) and fetch."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    import_app = typer.Typer(help="Import users' own data (one transaction per command).", no_args_is_help=True)
    app.add_typer(import_app, name="import")
