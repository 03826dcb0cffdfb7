"""Rank uncertainty: cases whose answer is known without the code (a one-KPI index cannot move;
a symmetric two-KPI case where the top place depends only on which weight is larger, whose
probability is a Beta tail), the Dirichlet draws, the vectorised ranks against a per-draw
recomputation, and the stored view."""
from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import beta

from pipelines.ranking.config import NORMALISATIONS, config_from_dict
from pipelines.ranking.index import compute_index
from pipelines.ranking.uncertainty import draw_parameters, simulate, summarise


def one_area(values, groups):
    X = np.asarray(values, dtype=float).reshape(-1, 1)
    return X, np.ones((1, 1)), np.array([1.0]), np.array(groups, dtype=object)


def test_single_kpi_ranks_never_move():
    # every normalisation is monotone, and weights of a single area do not matter
    X, M, w, g = one_area([5, 9, 1, 7, 3, 8], ["s", "s", "s", "s", "L", "L"])
    sim = simulate(X, M, w, g, draws=300, seed=1, quotas={"s": 1, "L": 1})
    t = summarise(sim, list("abcdef"))
    index_rank = [4, 1, 6, 3, 5, 2]
    assert list(t["rank_median"]) == index_rank
    assert list(t["rank_p05"]) == index_rank and list(t["rank_p95"]) == index_rank
    # group s = a(5) b(9) c(1) d(7): top b, bottom c; group L = e(3) f(8): top f, bottom e
    assert list(t["p_top"]) == [0, 1, 0, 0, 0, 1]
    assert list(t["p_bottom"]) == [0, 0, 1, 0, 1, 0]
    assert (t["draws"] == 300).all()


@pytest.mark.parametrize("weights, concentration", [((1.0, 1.0), 50.0), ((3.0, 1.0), 2.0), ((3.0, 1.0), 50.0)])
def test_top_share_is_the_beta_tail(weights, concentration):
    """a = [1, 0, .5], b = [0, 1, .5]: under zscore, minmax and rank alike the third municipality
    sits in the middle and the first is on top iff w_a > w_b. With Dirichlet(c·w/Σw) the share
    w_a is Beta(c·p, c·(1−p)), so P(top) = P(w_a > 1/2)."""
    X = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    sim = simulate(X, np.eye(2), np.array(weights), np.array(["g"] * 3, dtype=object),
                   draws=20000, seed=7, concentration=concentration, quotas={"g": 1})
    p = weights[0] / sum(weights)
    expected = beta.sf(0.5, concentration * p, concentration * (1 - p))
    t = summarise(sim, ["0001", "0002", "0003"])
    assert t.at[0, "p_top"] == pytest.approx(expected, abs=0.015)
    assert t.at[1, "p_top"] == pytest.approx(1 - expected, abs=0.015)
    assert t.at[2, "p_top"] == 0 and t.at[2, "p_bottom"] == 0
    assert (t.at[2, "rank_p05"], t.at[2, "rank_median"], t.at[2, "rank_p95"]) == (2, 2, 2)


def test_dirichlet_draws_centre_on_the_configured_weights():
    rng = np.random.default_rng(3)
    w = np.array([2.0, 1.0, 1.0, 1.0, 1.0])
    W, methods = draw_parameters(w, 40000, rng, concentration=50.0)
    shares = w / w.sum()
    assert np.allclose(W.sum(axis=1), 1.0)
    assert W.mean(axis=0) == pytest.approx(shares, abs=0.003)
    # documented spread: sd of a share p is sqrt(p(1-p)/(c+1))
    assert W.std(axis=0) == pytest.approx(np.sqrt(shares * (1 - shares) / 51), rel=0.05)
    counts = np.bincount(methods, minlength=3) / len(methods)
    assert counts == pytest.approx([1 / 3] * 3, abs=0.01)


def test_seeded_and_reproducible():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    M = np.kron(np.eye(3), np.full((2, 1), 0.5))     # 3 areas of 2 KPIs
    g = np.array(["small", "medium", "large", "small"] * 10, dtype=object)
    a = simulate(X, M, np.array([2.0, 1.0, 1.0]), g, 200, seed=11)
    b = simulate(X, M, np.array([2.0, 1.0, 1.0]), g, 200, seed=11)
    c = simulate(X, M, np.array([2.0, 1.0, 1.0]), g, 200, seed=12)
    assert np.array_equal(a.ranks, b.ranks)
    assert not np.array_equal(a.ranks, c.ranks)
    # every draw puts exactly `quota` municipalities in each group's top and bottom
    for grp, q in {"small": 6, "medium": 6, "large": 3}.items():
        assert a.in_top[g == grp].sum() == pytest.approx(q)
        assert a.in_bottom[g == grp].sum() == pytest.approx(q)
    # each draw's ranks are a permutation
    assert (np.sort(a.ranks, axis=0) == np.arange(1, 41)[:, None]).all()


def test_vectorised_ranks_equal_the_index_recomputed_per_draw():
    """Draw d's ranks = compute_index with that draw's weights and normalisation."""
    rng = np.random.default_rng(5)
    n, codes = 30, [f"{i:04d}" for i in range(1, 31)]
    kpis = {"a1": True, "a2": False, "b1": True, "c1": True, "c2": False}
    raw = {k: rng.normal(50, 10, n) for k in kpis}
    vals = pd.DataFrame([(k, c, v) for k, col in raw.items() for c, v in zip(codes, col)],
                        columns=["kpi_id", "municipality_code", "value"])
    munis = pd.DataFrame({"municipality_code": codes, "size_group": ["small", "medium", "large"] * 10})
    meta = pd.DataFrame({"kpi_id": list(kpis), "higher_is_better": list(kpis.values())})
    config = config_from_dict({"areas": {"A": {"weight": 2, "kpis": ["a1", "a2"]},
                                         "B": {"weight": 1, "kpis": ["b1"]},
                                         "C": {"weight": 1, "kpis": ["c1", "c2"]}}})
    base = compute_index(vals, munis, meta, config)
    sim = simulate(base.matrix, base.area_matrix, base.area_weights,
                   munis["size_group"].to_numpy(dtype=object), draws=25, seed=9)
    for d in range(25):
        drawn = dataclasses.replace(config, areas=tuple(
            dataclasses.replace(a, weight=float(sim.weights[d, i])) for i, a in enumerate(config.areas)))
        ref = compute_index(vals, munis, meta, drawn, normalisation=NORMALISATIONS[sim.methods[d]])
        assert list(sim.ranks[:, d]) == list(ref.composite["rank"]), d


# --- stored view -----------------------------------------------------------------------------

def test_run_uncertainty_stores_and_replaces():
    from pipelines.ranking.pipeline import run_uncertainty
    from ranking_fixtures import synthetic_warehouse

    con = duckdb.connect()
    synthetic_warehouse(con, n=60, years=[2010])
    first = run_uncertainty(con, 2010)                       # shipped: 500 draws, seed 2010
    run_uncertainty(con, 2010, draws=80, seed=2)             # other parameters: stored beside
    run_uncertainty(con, 2010, draws=80, seed=2)             # ... and replaced when run again
    t = con.execute("SELECT * FROM rank_uncertainty").df()   # the public view: the default run
    assert len(t) == 60 and set(t["draws"]) == {500} and set(t["seed"]) == {2010}
    assert t["is_default"].all() and set(t["index_config_hash"]) == {first.index.config_hash}
    assert set(t["run_id"]) == {first.run_id}
    other = con.execute("SELECT * FROM rank_uncertainty_all WHERE NOT is_default").df()
    assert len(other) == 60 and set(other["draws"]) == {80} and set(other["seed"]) == {2}
    assert set(other["index_config_hash"]) == {first.index.config_hash}
    assert ((t["rank_p05"] <= t["rank_median"]) & (t["rank_median"] <= t["rank_p95"])).all()
    steps = [r[0] for r in con.execute("SELECT step FROM pipeline_runs ORDER BY started_at").fetchall()]
    assert steps == ["index", "uncertainty"] * 3
    con.close()


def test_cli_uncertainty(tmp_path):
    from typer.testing import CliRunner

    from ranking_fixtures import synthetic_warehouse
    from styrkort.cli import app

    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    synthetic_warehouse(con, n=80, years=[2011])
    con.close()
    res = CliRunner().invoke(app, ["uncertainty", "--year", "2011", "--draws", "120", "--seed", "4",
                                   "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "120 dragningar" in res.stdout and "Andel topp" in res.stdout
    con = duckdb.connect(str(db), read_only=True)
    # not the default run's parameters: stored beside it, the public view (dashboard) is empty
    assert con.execute("SELECT count(*), min(draws), max(seed) FROM rank_uncertainty_all").fetchone() == (80, 120, 4)
    assert con.execute("SELECT count(*) FROM rank_uncertainty").fetchone() == (0,)
    con.close()


def test_embedded_default_rank_uncertainty(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM municipalities").fetchone()[0]
        t = con.execute("""SELECT u.*, c.size_group FROM rank_uncertainty u
                           JOIN composite_index c ON c.year = u.year AND c.municipality_code = u.municipality_code
                                AND c.config_hash = u.index_config_hash
                           WHERE u.is_default""").df()
        years = con.execute("SELECT DISTINCT year FROM composite_index WHERE is_default").df()["year"]
        assert set(t["year"]) == set(years) and len(t) == n * len(years)
        assert ((t["rank_p05"] >= 1) & (t["rank_p95"] <= n)).all()
        assert ((t["rank_p05"] <= t["rank_median"]) & (t["rank_median"] <= t["rank_p95"])).all()
        sums = t.groupby(["year", "size_group"])[["p_top", "p_bottom"]].sum()
        for (year, group), row in sums.iterrows():
            q = 3 if group == "large" else 6
            assert row["p_top"] == pytest.approx(q) and row["p_bottom"] == pytest.approx(q)
    finally:
        con.close()


def test_quantiles_match_numpy_and_ties_follow_the_code_order():
    from pipelines.ranking.uncertainty import _tie_keys, rank_quantiles

    r = np.random.default_rng(2).integers(1, 50, size=(7, 101))
    for got, p in zip(rank_quantiles(r, (0.05, 0.5, 0.95)), (0.05, 0.5, 0.95)):
        assert np.allclose(got, np.quantile(r, p, axis=1))
    # equal composites (also equal only up to float noise) rank by column = code order
    C = np.array([[0.5, 0.7, 0.5 + 1e-13, -1.0, 0.7]])
    assert list(np.argsort(_tie_keys(C), axis=1)[0]) == [1, 4, 0, 2, 3]
