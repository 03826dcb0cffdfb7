"""pipelines/compare.py, the one definition of /jamfor's comparison, on hand-made rows; and on
the embedded default the page's figures equal the scorecard mart's values."""
from __future__ import annotations

import pandas as pd
import pytest

from pipelines.compare import better_of, common_years, compare_pair

KPIS = [
    {"kpi_id": "Q", "title": "Andel nöjda", "unit": "%", "perspective": "omsorgstagare", "higher_is_better": True,
     "is_demo": False},
    {"kpi_id": "S", "title": "Sjukfrånvaro", "unit": "%", "perspective": "medarbetare", "higher_is_better": False,
     "is_demo": False},
    {"kpi_id": "C", "title": "Kostnad", "unit": "kr/inv", "perspective": "ekonomi", "higher_is_better": None,
     "is_demo": False},
    {"kpi_id": "R", "title": "Bara A", "unit": "%", "perspective": "verksamhet", "higher_is_better": True,
     "is_demo": False},
]


def values(*rows):
    return pd.DataFrame([dict(zip(("kpi_id", "municipality_code", "year", "value", "source", "is_demo",
                                   "national_mean"), r)) for r in rows])


V = values(
    ("Q", "A", 2010, 80.0, "Kolada", False, 75.0), ("Q", "B", 2010, 70.0, "Kolada", False, 75.0),
    ("Q", "A", 2011, 82.0, "Kolada", False, 76.0),                       # B has no 2011 value of Q
    ("S", "A", 2011, 6.0, "Demo", True, 7.0), ("S", "B", 2011, 5.0, "Demo", True, 7.0),
    ("C", "A", 2011, 9000.0, "Kolada", False, 8500.0), ("C", "B", 2011, 9000.0, "Kolada", False, 8500.0),
    ("R", "A", 2011, 50.0, "Kolada", False, 40.0),                       # never in common
)


def test_better_respects_direction_and_ties():
    assert better_of(80, 70, True) == "a"
    assert better_of(6, 5, False) == "b"          # lower sick leave is better
    assert better_of(0.1 + 0.2, 0.3, True) == "same"
    assert better_of(9000, 8000, None) is None    # no direction: no better
    assert better_of(None, 5, True) is None


def test_latest_common_year_per_kpi():
    cmp = compare_pair(V, KPIS, "A", "B")
    rows = cmp.rows.set_index("kpi_id")
    # Q: the latest year both have is 2010 (A's 2011 has no partner)
    assert rows.loc["Q", "year"] == 2010 and rows.loc["Q", "diff"] == pytest.approx(10.0)
    assert rows.loc["Q", "better"] == "a"
    assert rows.loc["S", "better"] == "b" and rows.loc["S", "diff"] == pytest.approx(1.0)
    assert bool(rows.loc["S", "is_demo"]) is True and bool(rows.loc["Q", "is_demo"]) is False
    assert pd.isna(rows.loc["C", "better"]) and rows.loc["C", "diff"] == 0
    assert "R" not in rows.index and cmp.no_common == 1
    assert (cmp.n_better_a, cmp.n_better_b) == (1, 1)
    assert cmp.latest and common_years(V, "A", "B") == [2010, 2011]


def test_a_chosen_year_compares_every_kpi_in_that_year():
    cmp = compare_pair(V, KPIS, "A", "B", year=2011)
    rows = cmp.rows.set_index("kpi_id")
    assert rows.loc["Q", "value_a"] == 82.0 and pd.isna(rows.loc["Q", "value_b"])
    assert pd.isna(rows.loc["Q", "better"]) and pd.isna(rows.loc["Q", "diff"])
    assert rows.loc["R", "value_a"] == 50.0       # A alone in that year: shown, not compared
    assert not cmp.latest and cmp.no_common == 0


def test_hidden_twins_and_similar_means():
    cmp = compare_pair(V, KPIS, "A", "B", similar={("Q", "A", 2010): 78.5}, hidden={"S"})
    rows = cmp.rows.set_index("kpi_id")
    assert "S" not in rows.index
    assert rows.loc["Q", "similar_a"] == 78.5 and pd.isna(rows.loc["Q", "similar_b"])


def test_the_page_shows_the_scorecard_marts_values(built_db):
    """/jamfor's numbers for 1480 vs 0180 are the scorecard mart's values for the year it names."""
    import sys

    import duckdb

    from dashboard.app import create_app
    from dashboard.data import get_db

    create_app(built_db)
    compare_municipalities = sys.modules["pages.jamfor"].compare_municipalities
    cmp = compare_municipalities(get_db(built_db), "1480", "0180")
    assert not cmp["rows"].empty
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        for r in cmp["rows"].itertuples():
            vals = dict(con.execute("SELECT municipality_code, value FROM scorecard WHERE kpi_id = ? AND year = ? "
                                    "AND municipality_code IN ('1480', '0180')", [r.kpi_id, r.year]).fetchall())
            assert vals.get("1480") == pytest.approx(r.value_a, nan_ok=True)
            assert vals.get("0180") == pytest.approx(r.value_b, nan_ok=True)
    finally:
        con.close()
