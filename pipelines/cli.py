"""Pipeline commands; each pipeline module registers its own."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from pipelines.cli_economy import register as register_economy
    from pipelines.cli_ranking import register as register_ranking

    register_ranking(app)
    register_economy(app)
