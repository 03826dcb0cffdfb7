"""Swedish (sv-SE) number formats: '3 569 733 kr', '12,5 %'.

A no-break space (U+00A0) separates thousands and the unit, as Swedish typography does,
so a figure never wraps in the middle.
"""
from __future__ import annotations

import math

NBSP = "\u00a0"
MISSING_SV = "uppgift saknas"
MISSING_EN = "no data"


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def number(x, decimals: int = 0, lang: str = "sv") -> str:
    """Format a number with sv-SE (or en) grouping and decimal marks."""
    if _is_missing(x):
        return MISSING_SV if lang == "sv" else MISSING_EN
    s = f"{x:,.{decimals}f}"  # '3,569,733.50'
    if lang == "sv":
        s = s.replace(",", NBSP).replace(".", ",")
        s = s.replace("-", "\u2212")  # typographic minus
    return s


def kr(x, decimals: int = 0, lang: str = "sv") -> str:
    if _is_missing(x):
        return number(x, lang=lang)
    return f"{number(x, decimals, lang)}{NBSP}kr" if lang == "sv" else f"SEK{NBSP}{number(x, decimals, lang)}"


def percent(x, decimals: int = 1, lang: str = "sv") -> str:
    """x is already in percent (12.5 -> '12,5 %')."""
    if _is_missing(x):
        return number(x, lang=lang)
    return f"{number(x, decimals, lang)}{NBSP}%" if lang == "sv" else f"{number(x, decimals, lang)}%"


# Plotly layout separators: decimal mark then thousands separator.
PLOTLY_SEPARATORS = {"sv": ", ", "en": ".,"}
