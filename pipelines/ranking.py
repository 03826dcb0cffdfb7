"""Composite index, size-group ranks, the 15/15 selection and rank uncertainty."""
from __future__ import annotations


def run_default(con) -> None:
    return None
