"""Two municipalities side by side (/jamfor): which one is better on each KPI, by how much, and in
which year — defined once here, on rows the page reads from the scorecard marts.

A pair is not stored as a mart (290 × 289 pairs × KPIs × years would be a large table of plain
differences); instead this module is the one definition of the comparison, pure functions over
mart rows, so the page, its download and any later caller (CLI, PDF) agree.

    common_years(values, a, b) -> [years in which both have any value]
    compare_pair(values, kpis, a, b, year=None, similar=None, hidden=()) -> Comparison
    better_of(value_a, value_b, higher_is_better) -> 'a' | 'b' | 'same' | None
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

ROW_COLUMNS = ["kpi_id", "title", "unit", "perspective", "higher_is_better", "is_demo", "year", "value_a",
               "value_b", "diff", "source", "better", "national_mean", "similar_a", "similar_b"]


@dataclass
class Comparison:
    year: int | None              # the year asked for; None = each KPI's latest common year
    rows: pd.DataFrame            # ROW_COLUMNS, one row per KPI compared
    no_common: int = 0            # KPIs one of them has but never in the same year as the other
    n_better_a: int = 0           # KPIs on which a is better
    n_better_b: int = 0
    years: list = field(default_factory=list)

    @property
    def latest(self) -> bool:
        return self.year is None


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def better_of(value_a, value_b, higher_is_better) -> str | None:
    """'a' or 'b' (the better one given the KPI's direction), 'same' when equal to the last
    representable digits, None without both values or without a direction."""
    if not (_present(value_a) and _present(value_b)) or higher_is_better is None:
        return None
    if abs(value_a - value_b) <= 1e-9 * max(1.0, abs(value_a)):
        return "same"
    return "a" if (value_a > value_b) == bool(higher_is_better) else "b"


def common_years(values: pd.DataFrame, a: str, b: str) -> list[int]:
    """Years in which both municipalities have a value of some KPI (`values`: kpi_id,
    municipality_code, year, value, ... rows with a value)."""
    by = values.groupby("municipality_code")["year"].agg(set) if not values.empty else {}
    return sorted(set(by.get(a, set())) & set(by.get(b, set())))


def compare_pair(values: pd.DataFrame, kpis: list[dict], a: str, b: str, year: int | None = None,
                 similar: dict | None = None, hidden=()) -> Comparison:
    """Both municipalities on every KPI of `kpis` (dicts: kpi_id, title, unit, perspective,
    higher_is_better, is_demo; the scorecard's order), leaving out the KPIs in `hidden` (a demo
    twin whose real KPI is shown).

    `values`: scorecard rows (kpi_id, municipality_code, year, value, source, is_demo,
    national_mean) of a and b with a value. `year` given: every KPI in that year. Otherwise each
    KPI in the latest year in which BOTH have a value, so a real indicator whose data ends before
    the demo ones is still compared; KPIs without such a year are left out and counted
    (`no_common`). `similar`: {(kpi_id, code, year): mean of that municipality's similar
    municipalities}."""
    similar = similar or {}
    vals, kpi_years = {}, {}
    for r in values.itertuples(index=False):
        vals[(r.kpi_id, r.municipality_code, int(r.year))] = r
        kpi_years.setdefault((r.kpi_id, r.municipality_code), set()).add(int(r.year))
    out, no_common = [], 0
    for k in kpis:
        kid = k["kpi_id"]
        if kid in hidden:
            continue
        if year is not None:
            y = year
        else:
            both = kpi_years.get((kid, a), set()) & kpi_years.get((kid, b), set())
            if not both:
                no_common += bool(kpi_years.get((kid, a)) or kpi_years.get((kid, b)))
                continue
            y = max(both)
        va, vb = vals.get((kid, a, y)), vals.get((kid, b, y))
        if va is None and vb is None:
            continue
        value_a = va.value if va is not None else None
        value_b = vb.value if vb is not None else None
        hib = k.get("higher_is_better")
        hib = None if hib is None or (isinstance(hib, float) and math.isnan(hib)) else bool(hib)
        either = va if va is not None else vb
        out.append({"kpi_id": kid, "title": k["title"], "unit": k.get("unit"), "perspective": k["perspective"],
                    "higher_is_better": hib,
                    "is_demo": bool(k.get("is_demo")) or bool(va is not None and va.is_demo)
                    or bool(vb is not None and vb.is_demo),
                    "year": y, "value_a": value_a, "value_b": value_b,
                    "diff": value_a - value_b if _present(value_a) and _present(value_b) else None,
                    "source": either.source, "better": better_of(value_a, value_b, hib),
                    "national_mean": either.national_mean,
                    "similar_a": similar.get((kid, a, y)), "similar_b": similar.get((kid, b, y))})
    rows = pd.DataFrame(out, columns=ROW_COLUMNS)
    return Comparison(year=year, rows=rows, no_common=no_common,
                      n_better_a=int((rows["better"] == "a").sum()), n_better_b=int((rows["better"] == "b").sum()),
                      years=common_years(values, a, b))
