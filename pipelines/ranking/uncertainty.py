"""Rank uncertainty (beyond the study): how much does a municipality's rank depend on the
index's arbitrary choices?

Each Monte Carlo draw picks
- area weights from a Dirichlet distribution centred on the configured weights:
  alpha = CONCENTRATION · w / Σw. With CONCENTRATION = 50 a share p varies with standard
  deviation sqrt(p(1−p)/51): the default's 1/3 (user survey, weight 2 of 6) by ±0.066 and each
  1/6 by ±0.052, i.e. roughly ±20–30 % of the configured weight;
- a normalisation method, uniformly from zscore / minmax / rank.
Everything is vectorised: the three normalised area-score matrices are computed once, the
draws' composites are one matrix product per method, ranks are one argsort over the
(draws × n) matrix of integer tie keys, and each group's top / bottom one argpartition. The tie rule is
the index's (municipalities in code order, composites rounded, stable sort).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.ranking.config import NORMALISATIONS
from pipelines.ranking.index import TIE_DECIMALS, normalise
from pipelines.ranking.selection import QUOTAS

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


def _tie_keys(C: np.ndarray) -> np.ndarray:
    """Integer sort keys implementing the index's tie rule: composites rounded to TIE_DECIMALS,
    descending, ties to the lower column (= lower municipality code). Every key is distinct,
    so a plain quicksort gives the same order as a stable sort — and is several times faster.
    Normalised composites are small (|z| ≤ sqrt(n)), so the keys stay far inside int64."""
    n = C.shape[1]
    scaled = np.rint(C * 10.0 ** TIE_DECIMALS)
    if np.abs(scaled).max(initial=0) * n >= 2.0 ** 62:   # not reachable with normalised data
        raise ValueError("composite out of range for integer tie keys")
    return (-scaled).astype(np.int64) * n + np.arange(n, dtype=np.int64)


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
    # draws along rows, municipalities along columns: each draw's sort runs over contiguous memory
    C = np.empty((draws, n))
    for m, name in enumerate(NORMALISATIONS):
        rows = np.flatnonzero(methods == m)
        if rows.size:
            St = (normalise(X, name) @ area_matrix).T     # (a × n), once per method
            Wm = W[rows]                                  # weights are shares: Σw = 1
            # Σ_a w_a·S_a as a few fused array ops: faster and steadier than a threaded BLAS
            # call for these thin matrices on a busy machine
            acc = Wm[:, :1] * St[0]
            for a in range(1, St.shape[0]):
                acc += Wm[:, a:a + 1] * St[a]
            C[rows] = acc
    keys = _tie_keys(C)                                   # ascending key = better
    order = np.argsort(keys, axis=1)                      # keys are unique: no stable sort needed
    ranks = np.empty((draws, n), dtype=np.int32)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, n + 1, dtype=np.int32), order.shape), axis=1)
    in_top = np.zeros(n)
    in_bottom = np.zeros(n)
    sg = np.asarray(size_groups, dtype=object)
    for g, q in quotas.items():
        members = np.flatnonzero(sg == g)
        n_g = members.size
        if n_g == 0:
            continue
        q = min(q, n_g)
        kg = keys[:, members]
        # only set membership matters, so a partition (O(n)) replaces a sort per group
        top = np.argpartition(kg, q - 1, axis=1)[:, :q] if q < n_g else np.broadcast_to(np.arange(n_g), (draws, n_g))
        bottom = np.argpartition(kg, n_g - q, axis=1)[:, n_g - q:] if q < n_g else top
        in_top += np.bincount(members[top.ravel()], minlength=n)
        in_bottom += np.bincount(members[bottom.ravel()], minlength=n)
    return Simulation(ranks.T, in_top / draws, in_bottom / draws, methods, W)


def simulate_index(result, size_groups: np.ndarray, draws: int, seed: int,
                   concentration: float = CONCENTRATION) -> Simulation:
    """simulate() for a computed index (pipelines.ranking.index.IndexResult), with the areas in
    name order: the draws then depend on the configuration, not on the order its file lists the
    areas in (two such files have the same config_hash)."""
    order = np.argsort(np.array(result.area_names, dtype=object), kind="stable")
    return simulate(result.matrix, result.area_matrix[:, order], result.area_weights[order],
                    size_groups, draws, seed, concentration)


def rank_quantiles(ranks: np.ndarray, probs) -> list[np.ndarray]:
    """Row-wise quantiles of an (n × D) matrix with numpy's default 'linear' method
    (h = (D−1)·p, interpolating between the order statistics around h); one contiguous sort."""
    s = np.sort(np.ascontiguousarray(ranks), axis=1).astype(float)
    d = s.shape[1]
    out = []
    for p in probs:
        h = (d - 1) * p
        lo = int(np.floor(h))
        hi = min(lo + 1, d - 1)
        out.append(s[:, lo] + (h - lo) * (s[:, hi] - s[:, lo]))
    return out


def summarise(sim: Simulation, codes: list[str]) -> pd.DataFrame:
    """Per municipality: median rank, 5 % and 95 % quantiles (linear interpolation), p_top,
    p_bottom, draws."""
    q05, q50, q95 = rank_quantiles(sim.ranks, (0.05, 0.5, 0.95))
    return pd.DataFrame({
        "municipality_code": codes,
        "rank_median": q50,
        "rank_p05": q05,
        "rank_p95": q95,
        "p_top": sim.in_top,
        "p_bottom": sim.in_bottom,
        "draws": sim.ranks.shape[1],
    })
