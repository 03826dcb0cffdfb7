"""Loaders for the embedded real sources in warehouse/sources/."""
from __future__ import annotations


def load_embedded(con) -> None:
    raise NotImplementedError
