"""Trends: closed-form OLS slope and CI per KPI and municipality, verdict by direction."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pipelines.trends import (IMPROVING, NO_DIRECTION, UNCLEAR, WORSENING, compute, ols_slopes,
                              run_trends, verdicts)
from warehouse.value_source import insert_kpi_values


def _values(rows):
    return pd.DataFrame(rows, columns=["kpi_id", "municipality_code", "year", "value", "is_demo",
                                       "higher_is_better"])


def test_slope_and_ci_match_a_hand_calculation():
    # years 2009..2013, values 1,3,2,5,4: x̄ = 2011, ȳ = 3, Sxx = 10, Sxy = 8 -> slope 0.8;
    # residuals -0.4, 0.8, -1.0, 1.2, -0.6 -> SSE 3.6, s² = 1.2, se = √0.12 = 0.346410;
    # t(0.975, 3) = 3.182446 -> CI 0.8 ± 1.102432.
    v = _values([("K", "0001", 2009 + i, y, False, True) for i, y in enumerate([1, 3, 2, 5, 4])])
    r = ols_slopes(v).iloc[0]
    assert r["n_years"] == 5 and r["first_year"] == 2009 and r["last_year"] == 2013
    assert r["slope"] == pytest.approx(0.8)
    assert r["ci_low"] == pytest.approx(0.8 - 1.102432, abs=1e-5)
    assert r["ci_high"] == pytest.approx(0.8 + 1.102432, abs=1e-5)


@pytest.mark.parametrize("values, hib, expected", [
    ([1, 2, 3.1], True, IMPROVING),
    ([1, 2, 3.1], False, WORSENING),
    ([3.1, 2, 1], False, IMPROVING),
    ([3.1, 2, 1], True, WORSENING),
    ([1, 2, 3.1], None, NO_DIRECTION),
    ([1, 3, 2, 5, 4], True, UNCLEAR),
])
def test_verdict_uses_direction(values, hib, expected):
    v = _values([("K", "0001", 2011 + i, y, False, hib) for i, y in enumerate(values)])
    assert compute(v)["verdict"].tolist() == [expected]


def test_verdicts_vectorised_directly():
    lo = pd.Series([0.1, -2.0, -1.0, 0.5])
    hi = pd.Series([0.9, -0.5, 1.0, 0.7])
    hib = pd.Series([True, True, False, None], dtype="object")
    assert verdicts(lo, hi, hib).tolist() == [IMPROVING, WORSENING, UNCLEAR, NO_DIRECTION]


def test_window_is_the_kpis_last_n_years_and_needs_three_points():
    rows = [("K", "0001", y, float(y), False, True) for y in range(2000, 2014)]   # 14 years
    rows += [("K", "0002", y, 1.0, False, True) for y in (2012, 2013)]            # 2 points only
    rows += [("K", "0003", y, 1.0, False, True) for y in (2001, 2002, 2003)]      # old data only
    out = compute(_values(rows), years=5)
    assert out["municipality_code"].tolist() == ["0001"]
    assert (out["first_year"].iloc[0], out["last_year"].iloc[0], out["n_years"].iloc[0]) == (2009, 2013, 5)
    assert out["slope"].iloc[0] == pytest.approx(1.0)


def test_matches_statsmodels_on_random_series():
    rng = np.random.default_rng(7)
    rows = []
    for m in range(6):
        years = sorted(rng.choice(np.arange(2005, 2014), size=rng.integers(3, 9), replace=False))
        rows += [("K", f"{m:04d}", int(y), float(rng.normal(50, 5) + 0.7 * (y - 2005)), False, True)
                 for y in years]
    v = _values(rows)
    out = compute(v, years=20).set_index("municipality_code")
    for code, g in v.groupby("municipality_code"):
        fit = sm.OLS(g["value"].to_numpy(), sm.add_constant(g["year"].to_numpy(float))).fit()
        lo, hi = fit.conf_int(0.05)[1]
        assert out.loc[code, "slope"] == pytest.approx(fit.params[1], rel=1e-9)
        assert out.loc[code, "ci_low"] == pytest.approx(lo, rel=1e-7)
        assert out.loc[code, "ci_high"] == pytest.approx(hi, rel=1e-7)
        assert out.loc[code, "p_value"] == pytest.approx(fit.pvalues[1], rel=1e-6)


def test_run_trends_writes_the_view(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    apply_schema(con)
    con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, source) VALUES ('K', 'k', false, 's')")
    for y, val in zip(range(2010, 2014), [10, 8, 6, 4]):
        insert_kpi_values(con, [("K", "0001", y, "T", val, "s", False)])
        insert_kpi_values(con, [("K", "0001", y, "K", -val, "s", False)])  # not 'T'
    run_trends(con, years=5)
    rows = con.execute("""SELECT kpi_id, municipality_code, first_year, last_year, n_years, slope,
                                 ci_low, ci_high, verdict FROM trends""").fetchall()
    assert len(rows) == 1
    assert rows[0][:5] == ("K", "0001", 2010, 2013, 4)
    assert rows[0][5] == pytest.approx(-2.0)
    assert rows[0][8] == IMPROVING          # falling and lower is better
    assert con.execute("SELECT count(*) FROM pipeline_runs WHERE step = 'trends'").fetchall()[0][0] == 1


def test_real_warehouse_trends(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        df = con.execute("""SELECT t.*, k.higher_is_better AS hib FROM trends t JOIN kpis k USING (kpi_id)""").df()
        dup = con.execute("""SELECT count(*) FROM (SELECT kpi_id, municipality_code FROM trends
                             GROUP BY ALL HAVING count(*) > 1)""").fetchall()[0][0]
    finally:
        con.close()
    assert len(df) > 1000 and dup == 0
    assert set(df["verdict"]) <= {IMPROVING, WORSENING, UNCLEAR, NO_DIRECTION}
    assert (df["n_years"] >= 3).all() and (df["last_year"] - df["first_year"] <= 4).all()
    assert (df.loc[df["hib"].isna(), "verdict"] == NO_DIRECTION).all()
    assert (df["ci_low"] <= df["slope"]).all() and (df["slope"] <= df["ci_high"]).all()


# -- change codes and definition changes (committee-readable trends, issue 10) -----------------------

@pytest.mark.parametrize("values, expected", [
    ([1, 2, 3.1], "rising"),          # CI above 0: rising whatever the direction (None here)
    ([3.1, 2, 1], "falling"),
    ([1, 3, 2, 5, 4], "flat"),        # CI 0.8 ± 1.10 covers 0 (test above)
])
def test_change_is_stored_for_kpis_without_direction(values, expected):
    v = _values([("COST", "0001", 2011 + i, y, False, None) for i, y in enumerate(values)])
    out = compute(v)
    assert out["verdict"].tolist() == [NO_DIRECTION]
    assert out["change"].tolist() == [expected]


def test_break_year_is_the_latest_break_inside_the_trend():
    # window 2007-2011 (5 years); breaks: 2007 (= first year: the window starts after it, not
    # across it), 2009 and 2010 inside (the latest, 2010, is stored), 2012 after the window
    rows = [("A", "0001", y, float(y % 7), False, True) for y in range(2007, 2012)]
    rows += [("B", "0001", y, float(y % 5), False, True) for y in range(2007, 2012)]
    rows += [("C", "0001", y, float(y % 3), False, True) for y in range(2007, 2012)]
    breaks = pd.DataFrame({"kpi_id": ["A", "A", "B", "C"], "year": [2009, 2010, 2007, 2012]})
    out = compute(_values(rows), years=5, breaks=breaks).set_index("kpi_id")
    assert int(out.loc["A", "break_year"]) == 2010
    assert pd.isna(out.loc["B", "break_year"]) and pd.isna(out.loc["C", "break_year"])
    assert compute(_values(rows), years=5)["break_year"].isna().all()     # no breaks known


def test_real_warehouse_knows_the_n20896_break(built_db):
    """Kolada's N20896 (65+ with home care or special housing) jumps in 2009 (Göteborg 18,7 ->
    23,3 %): the shipped break is in the view and Göteborg's 2007-2011 trend is marked with it."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        breaks = con.execute("SELECT kpi_id, year, note, source FROM kpi_series_breaks").fetchall()
        row = con.execute("SELECT first_year, last_year, break_year, change FROM trends "
                          "WHERE kpi_id = 'N20896' AND municipality_code = '1480'").fetchall()
        cost = con.execute("SELECT change, slope FROM trends WHERE kpi_id = 'N20014' AND municipality_code = '1480'"
                           ).fetchall()
    finally:
        con.close()
    assert ("N20896", 2009) in [(k, y) for k, y, *_ in breaks]
    note = [n for k, y, n, s in breaks if k == "N20896"][0]
    assert "18,7" in note and "23,3" in note and "kolada" in [s for k, y, n, s in breaks][0].lower()
    assert row == [(2007, 2011, 2009, row[0][3])]
    assert cost[0][0] in ("rising", "falling", "flat") and cost[0][1] is not None
