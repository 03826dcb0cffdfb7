"""Rank uncertainty (beyond the study): how much does a municipality's rank depend on the
index's arbitrary choices?

Each Monte Carlo draw picks
- area weights from a Dirichlet distribution centred on the configured weights:
  alpha = CONCENTRATION · w / Σw. With CONCENTRATION = 50 a share p varies with standard
  deviation sqrt(p(1−p)/51): the default's 1/3 (user survey, weight 2 of 6) by ±0.066 and each
  1/6 by ±0.052, i.e. roughly ±20–30 % of the configured weight;
- a normalisation method, uniformly from zscore / minmax / rank.
Everything is vectorised: the three normalised area-score matrices are computed once, the
draws' composites are one matrix product per method, and ranks are one argsort over the
(n × draws) matrix. The tie rule is the index's (rows in code order, stable sort).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.ranking_config import NORMALISATIONS
from pipelines.ranking_index import normalise, rank_desc
from pipelines.ranking_selection import QUOTAS

CONCENTRATION = 50.0
DEFAULT_DRAWS = 500
DEFAULT_SEED = 2010


@dataclass
class Simulation:
    ranks: np.ndarray        # (n × D) overall ranks per draw
    in_top: np.ndarray       # (n,) share of draws in the group's top quota
    in_bottom: np.ndarray    # (n,) share of draws in the group's bottom quota
    methods: np.ndarray      # (D,) index into NORMALISATIONS
    weights: np.ndarray      # (D × a) weight shares


def draw_parameters(weights: np.ndarray, draws: int, rng: np.random.Generator,
                    concentration: float = CONCENTRATION) -> tuple[np.ndarray, np.ndarray]:
    """(D × a) weight shares and (D,) normalisation indices."""
    w = np.asarray(weights, dtype=float)
    if w.size == 1:
        W = np.ones((draws, 1))
    else:
        W = rng.dirichlet(concentration * w / w.sum(), size=draws)
    methods = rng.integers(0, len(NORMALISATIONS), size=draws)
    return W, methods


def simulate(X: np.ndarray, area_matrix: np.ndarray, weights: np.ndarray,
             size_groups: np.ndarray, draws: int, seed: int,
             concentration: float = CONCENTRATION,
             quotas: dict[str, int] | None = None) -> Simulation:
    """X: (n × k) directed KPI values, rows in municipality-code order; area_matrix (k × a);
    weights (a,); size_groups (n,) labels (None = no group)."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    quotas = QUOTAS if quotas is None else quotas
    rng = np.random.default_rng(seed)
    W, methods = draw_parameters(weights, draws, rng, concentration)
    n = X.shape[0]
    C = np.empty((n, draws))
    for m, name in enumerate(NORMALISATIONS):
        cols = np.flatnonzero(methods == m)
        if cols.size:
            S = normalise(X, name) @ area_matrix          # (n × a), once per method
            C[:, cols] = S @ W[cols].T                    # weights are shares: Σw = 1
    ranks = rank_desc(C)
    in_top = np.zeros(n)
    in_bottom = np.zeros(n)
    sg = np.asarray(size_groups, dtype=object)
    for g, q in quotas.items():
        mask = sg == g
        n_g = int(mask.sum())
        if n_g == 0:
            continue
        # rank within the group per draw: argsort of the members' overall ranks
        gr = rank_desc(-ranks[mask].astype(float))
        in_top[mask] = (gr <= q).mean(axis=1)
        in_bottom[mask] = (gr > n_g - q).mean(axis=1)
    return Simulation(ranks, in_top, in_bottom, methods, W)


def summarise(sim: Simulation, codes: list[str]) -> pd.DataFrame:
    """Per municipality: median rank, 5 % and 95 % quantiles (linear interpolation), p_top,
    p_bottom, draws."""
    q05, q50, q95 = np.quantile(sim.ranks, [0.05, 0.5, 0.95], axis=1)
    return pd.DataFrame({
        "municipality_code": codes,
        "rank_median": q50,
        "rank_p05": q05,
        "rank_p95": q95,
        "p_top": sim.in_top,
        "p_bottom": sim.in_bottom,
        "draws": sim.ranks.shape[1],
    })
