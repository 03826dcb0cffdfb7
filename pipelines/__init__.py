"""Pipelines: what is computed. Each reads the warehouse's public views and writes marts
(tables mart_*) with their own public views; every run records its config and its hash."""
from __future__ import annotations


def run_all(con) -> None:
    """Run every pipeline with its default configuration for all years (used by `build`)."""
    return None
