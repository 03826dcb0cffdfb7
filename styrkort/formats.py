"""Number formats of the UI languages: sv-SE '3 569 733 kr', '12,5 %'; en '3,569,733', '12.5%'.

A no-break space (U+00A0) separates thousands and the unit, as Swedish typography does,
so a figure never wraps in the middle; negative numbers get the typographic minus (U+2212,
CLDR's minus sign for sv). tests/test_formats_babel.py checks these against Babel's CLDR
output for sv_SE and en_GB. Plain f-strings rather than babel.numbers because a scorecard
formats thousands of cells (Babel takes ~60 µs a number, this ~1 µs).
"""
from __future__ import annotations

import math

from styrkort.i18n import pick, t

NBSP = "\u00a0"


def _is_missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def symbols(lang: str = "sv") -> tuple[str, str, str]:
    """(thousands separator, decimal mark, minus sign) of the language."""
    return pick(lang, sv=(NBSP, ",", "\u2212"), en=(",", ".", "-"))


def number(x, decimals: int = 0, lang: str = "sv") -> str:
    """Format a number with the language's grouping and decimal marks; 'uppgift saknas'/'no data'
    when missing."""
    if _is_missing(x):
        return t("missing", lang)
    group, mark, minus = symbols(lang)
    s = f"{x:,.{decimals}f}"  # '3,569,733.50'
    return s.replace(",", "\0").replace(".", mark).replace("\0", group).replace("-", minus)


def kr(x, decimals: int = 0, lang: str = "sv") -> str:
    if _is_missing(x):
        return number(x, lang=lang)
    return pick(lang, sv="{n}" + NBSP + "kr", en="SEK" + NBSP + "{n}").format(n=number(x, decimals, lang))


def percent(x, decimals: int = 1, lang: str = "sv") -> str:
    """x is already in percent (12.5 -> '12,5 %')."""
    if _is_missing(x):
        return number(x, lang=lang)
    return pick(lang, sv="{n}" + NBSP + "%", en="{n}%").format(n=number(x, decimals, lang))


def plotly_separators(lang: str = "sv") -> str:
    """Plotly's layout.separators: decimal mark then thousands separator (', ' for sv)."""
    group, mark, _ = symbols(lang)
    return mark + (" " if group == NBSP else group)


def with_unit(value, unit: str | None = None, lang: str = "sv", decimals: int | None = None) -> str:
    """A value with its KPI unit: '18,7 %', '8 450 kr/inv', '3,2 dagar'; 'uppgift saknas' when
    missing. Shared by the dashboard (components.fmt_value) and the figures' hover texts."""
    if _is_missing(value):
        return number(None, lang=lang)
    unit = (unit or "").strip()
    if unit in ("kr", "kr/inv", "SEK"):
        return kr(value, decimals or 0, lang) + ("/inv" if unit == "kr/inv" else "")
    if unit == "%":
        return percent(value, 1 if decimals is None else decimals, lang)
    if decimals is None:
        decimals = 0 if abs(value) >= 100 else 1
    s = number(value, decimals, lang)
    if unit and unit not in ("antal", "index", "count"):
        s = f"{s}{NBSP}{unit}"
    return s


def unit_formatter(unit: str | None = None, lang: str = "sv"):
    """with_unit for one unit and language, as a function of the value: what with_unit decides
    from the unit and the language (symbols, suffix, decimals rule) decided once. A scorecard's
    sparklines word ~700 values a page; this is ~3 times faster per value, same text
    (tests/test_formats_babel.py compares the two)."""
    group, mark, minus = symbols(lang)
    missing = t("missing", lang)
    unit = (unit or "").strip()
    if unit in ("kr", "kr/inv", "SEK"):
        head, tail = pick(lang, sv=("", NBSP + "kr"), en=("SEK" + NBSP, ""))
        tail += "/inv" if unit == "kr/inv" else ""
        fixed = 0
    elif unit == "%":
        head, tail = "", pick(lang, sv=NBSP + "%", en="%")
        fixed = 1
    else:
        head, tail = "", (f"{NBSP}{unit}" if unit and unit not in ("antal", "index", "count") else "")
        fixed = None

    def fmt(value) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return missing
        decimals = fixed if fixed is not None else (0 if abs(value) >= 100 else 1)
        s = f"{value:,.{decimals}f}".replace(",", "\0").replace(".", mark).replace("\0", group).replace("-", minus)
        return head + s + tail
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
