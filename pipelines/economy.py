"""Cost deviation, quality associations, trends, scorecard references and grant uptake."""
from __future__ import annotations


def run_default(con) -> None:
    return None
