"""The pipeline commands of `styrkort`, one small module per command group, sharing
pipelines/cli/common.py (warehouse access, one transaction per run, the --json/--csv/--xlsx
output options, formatting). Numbers are read from the marts and only formatted here.

| module          | commands                                   |
|-----------------|--------------------------------------------|
| ranking.py      | index, select, uncertainty                 |
| economy.py      | cost, associations, trends, grants         |
| runs.py         | runs, rerun, marts                         |
"""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from pipelines.cli import economy, ranking, runs

    for module in (ranking, economy, runs):
        module.register(app)
