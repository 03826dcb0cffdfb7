"""styrkort.formats against Babel's CLDR number formats (sv_SE and en_GB).

formats.py formats with f-strings for speed; these tests hold it to the locale data. Two
documented differences: the minus sign is CLDR sv's U+2212 (Babel's pattern output uses the
ASCII hyphen), and a value exactly halfway at the last shown digit is rounded as the binary
float is (Python) rather than as its decimal text is (Babel), so such ties are left out."""
from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol
from hypothesis import given, settings, strategies as st

from styrkort import formats

LOCALE = {"sv": "sv_SE", "en": "en_GB"}


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _babel_number(x, decimals, lang):
    s = format_decimal(x, format=_pattern(decimals), locale=LOCALE[lang])
    return s.replace("-", "\u2212") if lang == "sv" else s


def _is_tie(x: float, decimals: int) -> bool:
    d = Decimal(repr(x)).scaleb(decimals)
    return abs(d - d.to_integral_value(rounding="ROUND_FLOOR")) == Decimal("0.5")


NUMBERS = [0, 1, 7, 12, 999, 1000, 1001, 12345, 99999, 100000, 3569733, 123456789, 1234567890123,
           -1, -999, -1000, -3569733, 0.1, 0.04, 1.5e-3, 12.34, 12.35001, 999.96, 1234.5678,
           -0.75, -12.3456, 260286.0465116279, 4.100000000000001, 2.5e9, -7.25e6]


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("decimals", [0, 1, 2, 3])
def test_number_matches_babel(lang, decimals):
    checked = 0
    for x in NUMBERS:
        if _is_tie(x, decimals):
            continue
        assert formats.number(x, decimals, lang) == _babel_number(x, decimals, lang), (x, decimals, lang)
        checked += 1
    assert checked >= 25


@settings(max_examples=300, deadline=None)
@given(x=st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), decimals=st.integers(0, 3),
       lang=st.sampled_from(["sv", "en"]))
def test_number_matches_babel_for_any_value(x, decimals, lang):
    if _is_tie(x, decimals):
        return
    assert formats.number(x, decimals, lang) == _babel_number(x, decimals, lang)


def test_symbols_are_the_locales():
    assert formats.symbols("sv")[:2] == (get_group_symbol("sv_SE"), get_decimal_symbol("sv_SE"))
    assert formats.symbols("en")[:2] == (get_group_symbol("en_GB"), get_decimal_symbol("en_GB"))


@pytest.mark.parametrize("x,decimals", [(12.5, 1), (0.3, 1), (99.94, 1), (100, 0), (3.14159, 2), (-4.2, 1)])
def test_percent_matches_babel(x, decimals):
    sv = format_percent(x / 100, _pattern(decimals) + "\u00a0%", locale="sv_SE").replace("-", "\u2212")
    en = format_percent(x / 100, _pattern(decimals) + "%", locale="en_GB")
    assert formats.percent(x, decimals, "sv") == sv
    assert formats.percent(x, decimals, "en") == en


def test_hand_computed_examples():
    nb = "\u00a0"
    assert formats.kr(3569733) == f"3{nb}569{nb}733{nb}kr"
    assert formats.kr(3569733, lang="en") == f"SEK{nb}3,569,733"
    assert formats.percent(12.5) == f"12,5{nb}%"
    assert formats.number(-1234.5, 1) == f"\u22121{nb}234,5"
    assert formats.number(None) == "uppgift saknas" and formats.number(float("nan"), lang="en") == "no data"
    assert formats.plotly_separators("sv") == ", " and formats.plotly_separators("en") == ".,"


def test_timestamps_for_people():
    from datetime import datetime

    from styrkort import formats

    assert formats.timestamp(datetime(2026, 12, 2, 5, 14, 51)) == "2 dec 2026 05:14"
    assert formats.timestamp("2026-05-09 17:03:59", "en") == "9 May 2026 17:03"
    assert formats.timestamp(None) == "uppgift saknas"


def _babel_with_unit(x, unit, lang):
    """with_unit's text built from Babel's number and the rule its docstring states."""
    unit = (unit or "").strip()
    if unit in ("kr", "kr/inv", "SEK"):
        n = _babel_number(x, 0, lang)
        text = f"{n}\u00a0kr" if lang == "sv" else f"SEK\u00a0{n}"
        return text + ("/inv" if unit == "kr/inv" else "")
    if unit == "%":
        return _babel_number(x, 1, lang) + ("\u00a0%" if lang == "sv" else "%")
    n = _babel_number(x, 0 if abs(x) >= 100 else 1, lang)
    return n + (f"\u00a0{unit}" if unit and unit not in ("antal", "index", "count") else "")


@settings(max_examples=300, deadline=None)
@given(x=st.one_of(st.integers(-10**9, 10**9), st.floats(-1e9, 1e9, allow_nan=False)),
       unit=st.sampled_from([None, "", "%", "kr", "kr/inv", "SEK", "antal", "index", "count", "dagar", " % "]),
       lang=st.sampled_from(["sv", "en"]))
def test_with_unit_matches_babel_and_its_rule(x, unit, lang):
    """with_unit (and the per-series formatter behind it, formats.unit_formatter) against Babel."""
    places = 0 if (unit or "").strip() in ("kr", "kr/inv", "SEK") else 1 if (unit or "").strip() == "%" \
        else (0 if abs(x) >= 100 else 1)
    if _is_tie(float(x), places):
        return
    assert formats.with_unit(x, unit, lang) == _babel_with_unit(x, unit, lang)
    assert formats.with_unit(None, unit, lang) == formats.with_unit(float("nan"), unit, lang) == \
        ("uppgift saknas" if lang == "sv" else "no data")
