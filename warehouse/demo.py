"""Deterministic demo data (flagged is_demo) where no real data exists."""
from __future__ import annotations


def generate_demo(con, seed: int = 20101) -> None:
    raise NotImplementedError
