"""Similar municipalities: hand-made cases for the choice (nearest, ties by code, never
itself), and the embedded default: deterministic, 7 distinct, the reference mean recomputed
here from kpi_values."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.similar import K, VARIABLES, compute_similar, similar_for_year


def _frame(ln_pop: list[float]) -> pd.DataFrame:
    """Structure rows where only ln_population varies (the other variables are constant, so
    after standardising they add nothing to the distance)."""
    n = len(ln_pop)
    return pd.DataFrame({"municipality_code": [f"{i:04d}" for i in range(n)], "year": 2011,
                         "ln_population": ln_pop, "share_65_79": 10.0, "share_80_plus": 5.0,
                         "glesbygd": 0, "standard_cost": 8000.0})


def test_nearest_by_hand_with_ties_to_the_lower_code():
    # ln_population 0..9: for 0005 the distances are 1 (0004, 0006), 2 (0003, 0007),
    # 3 (0002, 0008), 4 (0001, 0009): seven picks, ties to the lower code
    out = similar_for_year(_frame([float(i) for i in range(10)]))
    five = out[out["municipality_code"] == "0005"].sort_values("similar_rank")
    assert five["similar_code"].tolist() == ["0004", "0006", "0003", "0007", "0002", "0008", "0001"]
    assert five["similar_rank"].tolist() == list(range(1, 8))
    # distances in z units: sd of 0..9 (ddof 0) = sqrt(8.25)
    sd = np.sqrt(8.25)
    assert five["distance"].tolist() == pytest.approx([1 / sd, 1 / sd, 2 / sd, 2 / sd, 3 / sd, 3 / sd, 4 / sd])
    zero = out[out["municipality_code"] == "0000"].sort_values("similar_rank")
    assert zero["similar_code"].tolist() == ["0001", "0002", "0003", "0004", "0005", "0006", "0007"]
    assert (out["n_candidates"] == 10).all()


def test_missing_variable_leaves_a_municipality_out_that_year():
    f = _frame([float(i) for i in range(10)])
    f.loc[3, "standard_cost"] = np.nan
    out = similar_for_year(f)
    assert "0003" not in set(out["municipality_code"]) and "0003" not in set(out["similar_code"])
    assert (out["n_candidates"] == 9).all()


def test_every_variable_counts_equally_after_standardising():
    # two municipalities equally far from 0000 in raw units of different variables: after
    # z-scoring, the variable with the smaller spread makes a bigger distance
    f = pd.DataFrame({"municipality_code": ["0000", "0001", "0002", "0003"], "year": 2011,
                      "ln_population": [0.0, 1.0, 0.0, 10.0], "share_65_79": [0.0, 0.0, 1.0, 0.0],
                      "share_80_plus": 5.0, "glesbygd": 0, "standard_cost": 8000.0})
    out = similar_for_year(f, k=2)
    first = out[(out["municipality_code"] == "0000") & (out["similar_rank"] == 1)]["similar_code"].item()
    assert first == "0001"   # ln_population spreads over 0–10, so 1 unit is the smaller step


def test_shuffled_input_gives_the_same_result():
    rng = np.random.default_rng(7)
    f = pd.DataFrame({"municipality_code": [f"{i:04d}" for i in range(40)], "year": 2010,
                      **{v: rng.normal(size=40) for v in VARIABLES}})
    f["glesbygd"] = (f["glesbygd"] > 0.8).astype(int)
    a = compute_similar(f)
    b = compute_similar(f.sample(frac=1, random_state=3))
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_embedded_default_seven_distinct_never_itself_deterministic(built_db, tmp_path):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        df = con.execute("SELECT year, municipality_code, similar_rank, similar_code FROM similar_municipalities "
                         "ORDER BY 1, 2, 3").df()
        config = con.execute("SELECT config_json FROM pipeline_runs WHERE step = 'similar' "
                             "ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()
    assert len(df) > 0
    g = df.groupby(["year", "municipality_code"])
    assert (g.size() == K).all()
    assert (g["similar_code"].nunique() == K).all()
    assert not (df["municipality_code"] == df["similar_code"]).any()
    assert (g["similar_rank"].apply(list) == pd.Series([list(range(1, K + 1))] * g.ngroups, index=g.size().index)).all()
    assert 2011 in set(df["year"]) and df[df["year"] == 2011]["municipality_code"].nunique() == 290
    # the method and variables are stored with the run
    for word in ("ln_population", "share_65_79", "share_80_plus", "glesbygd", "standard_cost", "euclidean"):
        assert word in config
    # running the step again on a copy gives the same sets
    import shutil
    from pipelines.similar import run_similar
    copy = tmp_path / "again.duckdb"
    shutil.copy(built_db, copy)
    con = duckdb.connect(str(copy))
    try:
        run_similar(con)
        again = con.execute("SELECT year, municipality_code, similar_rank, similar_code FROM similar_municipalities "
                            "ORDER BY 1, 2, 3").df()
    finally:
        con.close()
    pd.testing.assert_frame_equal(df, again)


@pytest.mark.parametrize("code,kpi,year,set_year", [("1480", "N20014", 2011, 2011),
                                                    ("0509", "DEMO_HT_BEMOT", 2013, 2011),
                                                    ("0180", "N20896", 2006, 2006)])
def test_reference_is_the_mean_of_the_similar_municipalities(built_db, code, kpi, year, set_year):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        similar = [r[0] for r in con.execute(
            "SELECT similar_code FROM similar_municipalities WHERE municipality_code = ? AND year = ?",
            [code, set_year]).fetchall()]
        values = dict(con.execute("SELECT municipality_code, value FROM kpi_values WHERE kpi_id = ? AND year = ? "
                                  "AND gender = 'T' AND value IS NOT NULL", [kpi, year]).fetchall())
        got = con.execute("SELECT similar_mean, similar_n, similar_year FROM similar_reference WHERE kpi_id = ? "
                          "AND municipality_code = ? AND year = ?", [kpi, code, year]).fetchone()
    finally:
        con.close()
    have = [values[c] for c in similar if c in values]
    assert len(similar) == K
    assert got == (pytest.approx(sum(have) / len(have)), len(have), set_year)


def test_refresh_after_a_cost_change_recomputes_the_similar_step(built_db, tmp_path):
    """`similar` reads the standard cost: when the cost step's default changes, the similar sets
    are recomputed in the same transaction (steps.DEPENDANTS), and refresh keeps one default run."""
    import shutil

    from pipelines.steps import DEPENDANTS, refresh_dependants
    assert "similar" in DEPENDANTS["cost"]
    copy = tmp_path / "dep.duckdb"
    shutil.copy(built_db, copy)
    con = duckdb.connect(str(copy))
    try:
        before = con.execute("SELECT run_id FROM pipeline_runs WHERE step = 'similar' AND is_default").fetchall()
        done = refresh_dependants(con, "cost")
        after = con.execute("SELECT run_id FROM pipeline_runs WHERE step = 'similar' AND is_default").fetchall()
        n_views = con.execute("SELECT count(DISTINCT run_id) FROM similar_reference").fetchone()[0]
    finally:
        con.close()
    assert "similar" in done
    assert len(before) == 1 and len(after) == 1 and before != after
    assert n_views == 1
