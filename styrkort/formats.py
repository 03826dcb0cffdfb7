"""Number formats of the UI languages: sv-SE '3 569 733 kr', '12,5 %'; en '3,569,733', '12.5%'.

A no-break space (U+00A0) separates thousands and the unit, as Swedish typography does,
so a figure never wraps in the middle; negative numbers get the typographic minus (U+2212,
CLDR's minus sign for sv). tests/test_formats_babel.py checks these against Babel's CLDR
output for sv_SE and en_GB. Plain f-strings rather than babel.numbers because a scorecard
formats thousands of cells (Babel takes ~60 µs a number, this ~1 µs).
"""
from __future__ import annotations

import functools
import math

from styrkort.i18n import lang_of, pick, t

NBSP = "\u00a0"


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def symbols(lang: str = "sv") -> tuple[str, str, str]:
    """(thousands separator, decimal mark, minus sign) of the language."""
    return pick(lang, sv=(NBSP, ",", "\u2212"), en=(",", ".", "-"))


def number(x, decimals: int = 0, lang: str = "sv") -> str:
    """Format a number with the language's grouping and decimal marks; 'uppgift saknas'/'no data'
    when missing."""
    return unit_formatter(None, lang, decimals)(x)


def kr(x, decimals: int = 0, lang: str = "sv") -> str:
    return unit_formatter("kr", lang, decimals)(x)


def percent(x, decimals: int = 1, lang: str = "sv") -> str:
    """x is already in percent (12.5 -> '12,5 %')."""
    return unit_formatter("%", lang, decimals)(x)


def plotly_separators(lang: str = "sv") -> str:
    """Plotly's layout.separators: decimal mark then thousands separator (', ' for sv)."""
    group, mark, _ = symbols(lang)
    return mark + (" " if group == NBSP else group)


def with_unit(value, unit: str | None = None, lang: str = "sv", decimals: int | None = None) -> str:
    """A value with its KPI unit: '18,7 %', '8 450 kr/inv', '3,2 dagar'; 'uppgift saknas' when
    missing. Shared by the dashboard (components.fmt_value) and the figures' hover texts."""
    return unit_formatter(unit, lang, decimals)(value)


def unit_formatter(unit: str | None = None, lang: str = "sv", decimals: int | None = None):
    """The function that words a value of `unit` in `lang` (what number, kr, percent and with_unit
    all return): symbols, unit text and decimals rule decided once per (unit, language, decimals),
    not per value, since a scorecard words thousands of values. decimals None: 0 for kr, 1 for %,
    otherwise 0 from 100 upwards and 1 below. Units 'antal', 'index' and 'count' are not written.
    Any `lang` but 'en' is Swedish (also a value a hostile request sent: never a cache key)."""
    return _unit_formatter((unit or "").strip(), lang_of(lang), decimals)


@functools.lru_cache(maxsize=512)
def _unit_formatter(unit: str, lang: str, decimals: int | None):
    group, mark, minus = symbols(lang)
    missing = t("missing", lang)
    if unit in ("kr", "kr/inv", "SEK"):
        head, tail = t("fmt_kr", lang).split("{n}")     # "{n} kr" / "SEK {n}"
        tail += "/inv" if unit == "kr/inv" else ""
        fixed = decimals or 0
    elif unit == "%":
        head, tail = t("fmt_percent", lang).split("{n}")
        fixed = 1 if decimals is None else decimals
    else:
        head, tail = "", (f"{NBSP}{unit}" if unit and unit not in ("antal", "index", "count") else "")
        fixed = decimals

    def fmt(value) -> str:
        if _is_missing(value):
            return missing
        places = fixed if fixed is not None else (0 if abs(value) >= 100 else 1)
        digits = f"{value:,.{places}f}"   # '3,569,733.50'
        return head + digits.replace(",", "\0").replace(".", mark).replace("\0", group).replace("-", minus) + tail
    return fmt


def timestamp(value, lang: str = "sv") -> str:
    """A stored timestamp for people: '2 dec 2026 05:14' (sv), '2 Dec 2026 05:14' (en);
    'uppgift saknas' when missing. Accepts datetime, pandas Timestamp or an ISO string."""
    import pandas as pd

    if _is_missing(value):
        return number(None, lang=lang)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(ts):
        return number(None, lang=lang)
    month = t("months_short", lang).split()[ts.month - 1]     # the catalogue's twelve abbreviations
    return f"{ts.day} {month} {ts.year} {ts.hour:02d}:{ts.minute:02d}"
