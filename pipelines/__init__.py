"""Pipelines: what is computed. Each step reads the warehouse's public views and stores marts
declared in pipelines/marts/*.toml (tables mart_*, public view = the default run's rows, *_all =
every run); every run records its configuration and its hash (pipelines/runs.py). The steps and
their order: pipelines/steps.py."""
from __future__ import annotations


def run_all(con) -> None:
    """Every step with its shipped configuration, made the default (used by `build`)."""
    from pipelines.steps import run_all as run

    run(con)


def refresh(con) -> None:
    """Recompute every step's default run on the data now in the warehouse (`refresh`)."""
    from pipelines.steps import refresh as run

    run(con)
