"""Quality associations: composite vs cost deviation, size/SKL group ANOVA, share 80+."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest

from pipelines.economy_associations import TESTS, run_associations
from warehouse.value_source import insert_kpi_values

COMPOSITE = [0.5, -1.0, 1.2, 0.3, -0.4, 2.0, -0.8, 0.1]
DEVIATION = [5.0, -3.0, 8.0, 1.0, -6.0, 10.0, 2.0, -1.0]
SHARE80 = [5.1, 6.3, 4.2, 7.7, 5.9, 4.8, 6.6, 5.0]
SIZE = ["small", "small", "small", "medium", "medium", "medium", "large", "large"]


@pytest.fixture
def toy(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "a.duckdb"))
    apply_schema(con)
    for i in range(8):
        code = f"{i + 1:04d}"
        skl = "Glesbygdskommuner" if i < 4 else "Storstäder"
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', ?)", [code, code, skl])
        insert_kpi_values(con, [("N01813", code, 2010, "T", SHARE80[i], "k", False)])
    # Stand-ins for the marts of the ranking and cost steps (their own modules build them).
    con.execute("""CREATE TABLE mart_composite_index AS SELECT * FROM (VALUES
        (2010, '0001', 0.5, 1, 'small', 1, 'h'), (2010, '0002', -1.0, 1, 'small', 1, 'h'),
        (2010, '0003', 1.2, 1, 'small', 1, 'h'), (2010, '0004', 0.3, 1, 'medium', 1, 'h'),
        (2010, '0005', -0.4, 1, 'medium', 1, 'h'), (2010, '0006', 2.0, 1, 'medium', 1, 'h'),
        (2010, '0007', -0.8, 1, 'large', 1, 'h'), (2010, '0008', 0.1, 1, 'large', 1, 'h'),
        (2012, '0001', 0.0, 1, 'small', 1, 'h'))
        t(year, municipality_code, composite, rank, size_group, group_rank, config_hash)""")
    con.execute("ALTER TABLE mart_composite_index ADD COLUMN is_demo BOOLEAN DEFAULT false")
    con.execute("CREATE VIEW composite_index AS SELECT * FROM mart_composite_index")
    con.execute("CREATE TABLE mart_cost_deviation (year INTEGER, municipality_code VARCHAR, deviation_pct DOUBLE)")
    for i, d in enumerate(DEVIATION):
        con.execute("INSERT INTO mart_cost_deviation VALUES (2010, ?, ?)", [f"{i + 1:04d}", d])
    con.execute("CREATE VIEW cost_deviation AS SELECT * FROM mart_cost_deviation")
    run_associations(con)
    rows = {r[1]: r for r in con.execute(
        "SELECT year, test, statistic, estimate, ci_low, ci_high, p_value, n FROM quality_associations "
        "WHERE year = 2010").fetchall()}
    intercepts = dict(con.execute("SELECT test, intercept FROM quality_associations WHERE year = 2010").fetchall())
    yield {**rows, "intercept": intercepts}
    con.close()


def _ranks(a):
    return np.argsort(np.argsort(a)).astype(float)


def test_correlations_match_hand_formulas(toy):
    x, y = np.array(DEVIATION), np.array(COMPOSITE)
    r = ((x - x.mean()) * (y - y.mean())).sum() / np.sqrt(((x - x.mean()) ** 2).sum() * ((y - y.mean()) ** 2).sum())
    row = toy["pearson_cost_deviation"]
    assert row[2] == "r" and row[3] == pytest.approx(r) and row[7] == 8
    z, se = np.arctanh(r), 1 / np.sqrt(8 - 3)               # Fisher z interval
    assert row[4] == pytest.approx(np.tanh(z - 1.959964 * se), abs=1e-5)
    assert row[5] == pytest.approx(np.tanh(z + 1.959964 * se), abs=1e-5)
    rs = np.corrcoef(_ranks(x), _ranks(y))[0, 1]             # no ties in the toy
    assert toy["spearman_cost_deviation"][3] == pytest.approx(rs)
    s = np.array(SHARE80)
    assert toy["pearson_share_80_plus"][3] == pytest.approx(np.corrcoef(s, y)[0, 1])


def test_ols_slope_and_ci_by_hand(toy):
    x, y = np.array(DEVIATION), np.array(COMPOSITE)
    sxx = ((x - x.mean()) ** 2).sum()
    slope = ((x - x.mean()) * (y - y.mean())).sum() / sxx
    resid = y - (y.mean() + slope * (x - x.mean()))
    se = np.sqrt((resid ** 2).sum() / 6 / sxx)
    t = 2.446912                                             # t(0.975, 6)
    row = toy["ols_cost_deviation"]
    assert row[3] == pytest.approx(slope)
    assert row[4] == pytest.approx(slope - t * se, abs=1e-5)
    assert row[5] == pytest.approx(slope + t * se, abs=1e-5)


def test_scatter_line_by_hand(toy):
    """The line /kostnad draws through its scatter: deviation (y) on the composite (x)."""
    x, y = np.array(COMPOSITE), np.array(DEVIATION)
    slope = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    row = toy["ols_line_cost_deviation"]
    assert row[2] == "slope" and row[3] == pytest.approx(slope) and row[7] == 8
    assert toy["intercept"]["ols_line_cost_deviation"] == pytest.approx(y.mean() - slope * x.mean())
    assert toy["intercept"]["pearson_cost_deviation"] is None


def test_ols_line_hand_computed():
    # x̄ = ȳ = 2,5; Σdxdy = 3; Σdx² = Σdy² = 5 -> slope 0,6, intercept 1,0 (r = 0,6).
    # t = 0,6·√2/0,8 = 1,0607 with 2 df; two-sided p = 1 − t/√(2+t²) = 0,4.
    import pandas as pd

    from pipelines.economy_associations import ols_slope

    row = ols_slope(pd.DataFrame({"c": [1, 2, 3, 4], "d": [2, 1, 4, 3]}), "d", "c", "t", "toy")
    assert row["estimate"] == pytest.approx(0.6)
    assert row["intercept"] == pytest.approx(1.0)
    assert row["p_value"] == pytest.approx(0.4, abs=1e-9)
    assert row["n"] == 4


def test_ols_line_drops_missing():
    import pandas as pd

    from pipelines.economy_associations import ols_slope

    row = ols_slope(pd.DataFrame({"c": [1, 2, None, 4], "d": [3, 5, 100, 9]}), "d", "c", "t", "toy")
    assert (row["estimate"], row["intercept"], row["n"]) == (pytest.approx(2.0), pytest.approx(1.0), 3)  # y = 2x + 1


def test_anova_f_by_hand(toy):
    y = np.array(COMPOSITE)
    groups = {g: y[[i for i, s in enumerate(SIZE) if s == g]] for g in set(SIZE)}
    ssb = sum(len(v) * (v.mean() - y.mean()) ** 2 for v in groups.values())
    ssw = sum(((v - v.mean()) ** 2).sum() for v in groups.values())
    f = (ssb / 2) / (ssw / 5)
    assert toy["anova_size_group"][2] == "F" and toy["anova_size_group"][3] == pytest.approx(f)
    skl = {"a": y[:4], "b": y[4:]}
    ssb = sum(4 * (v.mean() - y.mean()) ** 2 for v in skl.values())
    ssw = sum(((v - v.mean()) ** 2).sum() for v in skl.values())
    assert toy["anova_skl_group"][3] == pytest.approx(ssb / (ssw / 6))


def test_all_tests_present(toy):
    assert set(toy) - {"intercept"} == set(TESTS)


def test_real_warehouse_associations(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        df = con.execute("SELECT * FROM quality_associations").df()
        index_years = {r[0] for r in con.execute("SELECT DISTINCT year FROM composite_index").fetchall()}
        cost_years = {r[0] for r in con.execute("SELECT DISTINCT year FROM cost_deviation").fetchall()}
    finally:
        con.close()
    cost_tests = df[df["test"].str.endswith("cost_deviation")]
    assert set(cost_tests["year"]) == index_years & cost_years and len(index_years & cost_years) >= 3
    assert set(df["test"]) == set(TESTS)
    assert df["p_value"].between(0, 1).all() and (df["n"] >= 280).all()
    r = df[df["statistic"].isin(["r", "rho"])]
    assert r["estimate"].between(-1, 1).all()
