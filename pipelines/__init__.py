"""Pipelines: what is computed. Each reads the warehouse's public views and writes marts
(tables mart_*) with their own public views; every run records its config and its hash
(pipelines/runs.py)."""
from __future__ import annotations


def run_all(con) -> None:
    """Run every pipeline with its default configuration for all years (used by `build`)."""
    from pipelines.ranking.pipeline import run_default as run_ranking
    from pipelines.economy import run_default as run_economy

    from pipelines.positions import run_positions

    run_ranking(con)
    run_economy(con)
    run_positions(con)
