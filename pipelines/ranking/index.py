"""The composite index as pure functions over DataFrames / numpy arrays (no database).

Method (SKL 2010, *Öppna jämförelser analys – framgångsfaktorer inom
äldreomsorgen*, ch. 2):
1. a KPI is used in year Y only if every municipality has a value (gender 'T') that year;
2. z-score per KPI over the municipalities, population sd (ddof=0); sign flipped where
   higher_is_better is false (normalisation "minmax" and "rank" are offered for sensitivity);
3. area score = mean of its used KPIs' scores; composite = Σ weight·area / Σ weight over the
   areas with at least one used KPI;
4. rank 1 = highest composite; ties broken by municipality code ascending; group_rank the same
   within the size group.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from pipelines.ranking.config import NORMALISATIONS, IndexConfig

# Composites are compared after rounding to this many decimals, so floating-point noise
# (e.g. from adding a constant to a KPI) can never decide a rank: such near-equal composites
# are ties, and ties go to the lower municipality code.
TIE_DECIMALS = 9
SIZE_GROUPS = ("small", "medium", "large")


class IndexComputationError(ValueError):
    """The index cannot be computed (e.g. no KPI is complete in the year)."""


@dataclass
class IndexResult:
    composite: pd.DataFrame   # municipality_code, composite, rank, size_group, group_rank
    areas: pd.DataFrame       # municipality_code, area, score, weight, weight_share
    usage: pd.DataFrame       # kpi_id, area, used, reason_code, reason, n_values, n_municipalities
    matrix: np.ndarray        # (n × k) used KPIs' values, sign-flipped so higher = better
    kpi_ids: list[str]        # the k used KPIs, columns of `matrix`
    area_names: list[str]     # areas with ≥ 1 used KPI
    area_weights: np.ndarray  # their configured weights
    area_matrix: np.ndarray   # (k × a): 1/k_area where the KPI belongs to the area
    kpi_scores: pd.DataFrame | None = None  # municipality_code, kpi_id, area, value, direction, score


# --- step 1: completeness -------------------------------------------------------------------

def _preview(codes: list[str], limit: int = 5) -> str:
    shown = ", ".join(codes[:limit])
    return shown + (f" … (+{len(codes) - limit})" if len(codes) > limit else "")


def kpi_usage(values: pd.DataFrame, codes: list[str], kpi_meta: pd.DataFrame,
              config: IndexConfig) -> pd.DataFrame:
    """Which of the config's KPIs are used, and why not.

    values: kpi_id, municipality_code, value for one year, gender 'T'.
    codes: all municipalities (the 290 rows of `municipalities`).
    kpi_meta: kpi_id, higher_is_better (NULL/NA = no direction).
    """
    codes_set = set(codes)
    n = len(codes_set)
    v = values[values["municipality_code"].isin(codes_set)]
    v = v[np.isfinite(v["value"].astype(float))]
    have = v.groupby("kpi_id")["municipality_code"].agg(lambda s: set(s))
    spread = v.groupby("kpi_id")["value"].agg(lambda s: float(s.max() - s.min()))
    direction = dict(zip(kpi_meta["kpi_id"], kpi_meta["higher_is_better"]))
    rows = []
    for area in config.areas:
        for kpi in area.kpis:
            present = have.get(kpi, set())
            n_values = len(present)
            if kpi not in direction:
                code, reason = "not_in_warehouse", "finns inte i lagret (kpis)"
            elif n_values == 0:
                code, reason = "no_values", "inga värden detta år"
            elif n_values < n:
                missing = sorted(codes_set - present)
                code = "incomplete"
                reason = (f"värde saknas för {len(missing)} av {n} kommuner "
                          f"(t.ex. {_preview(missing)}); används bara om alla har värde")
            elif direction[kpi] is None or pd.isna(direction[kpi]):
                code, reason = "no_direction", "saknar riktning (higher_is_better är tom)"
            elif spread.get(kpi, 0.0) == 0.0:
                code, reason = "no_variation", "samma värde för alla kommuner (ingen spridning)"
            else:
                code, reason = "used", f"används: värde för alla {n} kommuner"
            rows.append({"kpi_id": kpi, "area": area.name, "used": code == "used",
                         "reason_code": code, "reason": reason,
                         "n_values": n_values, "n_municipalities": n})
    return pd.DataFrame(rows, columns=["kpi_id", "area", "used", "reason_code", "reason",
                                       "n_values", "n_municipalities"])


# --- step 2: normalisation -------------------------------------------------------------------

def normalise(X: np.ndarray, method: str) -> np.ndarray:
    """Column-wise normalisation of an (n × k) matrix already oriented so higher = better."""
    X = np.asarray(X, dtype=float)
    if method == "zscore":
        return (X - X.mean(axis=0)) / X.std(axis=0, ddof=0)
    if method == "minmax":
        lo, hi = X.min(axis=0), X.max(axis=0)
        return (X - lo) / (hi - lo)
    if method == "rank":
        # average rank for ties, scaled to [0, 1] so it averages like the others
        n = X.shape[0]
        return (rankdata(X, method="average", axis=0) - 1.0) / max(n - 1, 1)
    raise ValueError(f"unknown normalisation {method!r}; use one of {', '.join(NORMALISATIONS)}")


def directed_matrix(values: pd.DataFrame, codes: list[str], kpi_ids: list[str],
                    kpi_meta: pd.DataFrame) -> np.ndarray:
    """(n × k) matrix of values, rows = codes (in the given order), sign flipped where lower
    is better. All cells must be present (the completeness rule has been applied)."""
    wide = (values[values["kpi_id"].isin(kpi_ids)]
            .pivot_table(index="municipality_code", columns="kpi_id", values="value", aggfunc="first")
            .reindex(index=codes, columns=kpi_ids))
    X = wide.to_numpy(dtype=float)
    if np.isnan(X).any():  # guarded by kpi_usage; a bug if reached
        raise IndexComputationError("internal: missing cells in a KPI marked complete")
    hib = dict(zip(kpi_meta["kpi_id"], kpi_meta["higher_is_better"]))
    sign = np.array([1.0 if bool(hib[k]) else -1.0 for k in kpi_ids])
    return X * sign


def build_area_matrix(kpi_ids: list[str], config: IndexConfig) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Areas with ≥ 1 used KPI, their weights and the (k × a) averaging matrix."""
    used = set(kpi_ids)
    names, weights, cols = [], [], []
    for area in config.areas:
        members = [k for k in area.kpis if k in used]
        if not members:
            continue
        col = np.array([1.0 / len(members) if k in members else 0.0 for k in kpi_ids])
        names.append(area.name)
        weights.append(area.weight)
        cols.append(col)
    M = np.column_stack(cols) if cols else np.zeros((len(kpi_ids), 0))
    return names, np.array(weights, dtype=float), M


# --- steps 3 and 4: composite and ranks ------------------------------------------------------

def composite_scores(area_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ w·area / Σ w; works on (n × a) @ (a,) and on (n × a) @ (a × D) for many weight draws."""
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        return area_scores @ w / w.sum()
    return area_scores @ w / w.sum(axis=0)


def rank_desc(scores: np.ndarray) -> np.ndarray:
    """Ranks 1..n, 1 = highest; rows are in municipality-code order, so a stable sort breaks
    ties by code ascending. Works column-wise on (n × D) too."""
    s = np.round(np.asarray(scores, dtype=float), TIE_DECIMALS)
    order = np.argsort(-s, axis=0, kind="stable")
    ranks = np.empty(order.shape, dtype=np.int32)
    idx = np.arange(1, s.shape[0] + 1, dtype=np.int32)
    if s.ndim == 1:
        ranks[order] = idx
    else:
        np.put_along_axis(ranks, order, np.broadcast_to(idx[:, None], order.shape), axis=0)
    return ranks


def group_ranks(ranks: np.ndarray, size_groups: np.ndarray) -> np.ndarray:
    """Rank within the size group, from the overall rank (so the same tie rule applies).
    Municipalities without a size group get 0."""
    out = np.zeros_like(ranks)
    for g in pd.unique(size_groups):
        if g is None or (isinstance(g, float) and np.isnan(g)):
            continue
        mask = size_groups == g
        out[mask] = rank_desc(-ranks[mask].astype(float))  # lower overall rank = better
    return out


def compute_index(values: pd.DataFrame, municipalities: pd.DataFrame, kpi_meta: pd.DataFrame,
                  config: IndexConfig, normalisation: str | None = None) -> IndexResult:
    """The composite index for one year.

    values: kpi_id, municipality_code, value (one year, gender 'T').
    municipalities: municipality_code, size_group (NA if the year has no population row).
    kpi_meta: kpi_id, higher_is_better.
    """
    method = normalisation or config.normalisation
    munis = municipalities.sort_values("municipality_code").reset_index(drop=True)
    codes = munis["municipality_code"].tolist()
    if len(set(codes)) != len(codes):
        raise IndexComputationError("duplicate municipality codes in the municipality list")
    usage = kpi_usage(values, codes, kpi_meta, config)
    kpi_ids = usage.loc[usage["used"], "kpi_id"].tolist()
    if not kpi_ids:
        why = "; ".join(f"{r.kpi_id}: {r.reason}" for r in usage.itertuples())
        raise IndexComputationError(f"no KPI in the config is usable (complete for all {len(codes)} "
                          f"municipalities, with a direction): {why}")
    X = directed_matrix(values, codes, kpi_ids, kpi_meta)
    names, weights, M = build_area_matrix(kpi_ids, config)
    Z = normalise(X, method)                          # (n × k) normalised KPI scores
    S = Z @ M                                         # (n × a) area scores
    comp = composite_scores(S, weights)
    ranks = rank_desc(comp)
    sg = munis["size_group"].astype(object).where(munis["size_group"].notna(), None).to_numpy()
    granks = group_ranks(ranks, sg)
    composite = pd.DataFrame({
        "municipality_code": codes,
        "composite": comp,
        "rank": ranks,
        "size_group": sg,
        "group_rank": pd.array([int(g) if g > 0 else pd.NA for g in granks], dtype="Int32"),
    })
    areas = pd.DataFrame({
        "municipality_code": np.repeat(codes, len(names)),
        "area": np.tile(names, len(codes)),
        "score": S.reshape(-1),
        "weight": np.tile(weights, len(codes)),
        "weight_share": np.tile(weights / weights.sum(), len(codes)),
    })
    hib = dict(zip(kpi_meta["kpi_id"], kpi_meta["higher_is_better"]))
    sign = np.array([1.0 if bool(hib[k]) else -1.0 for k in kpi_ids])
    area_of = config.area_of()
    kpi_scores = pd.DataFrame({
        "municipality_code": np.repeat(codes, len(kpi_ids)),
        "kpi_id": np.tile(kpi_ids, len(codes)),
        "area": np.tile([area_of[k] for k in kpi_ids], len(codes)),
        "value": (X * sign).reshape(-1),              # back to the stored orientation
        "direction": np.tile(np.where(sign > 0, "higher_is_better", "lower_is_better"), len(codes)),
        "score": Z.reshape(-1),
    })
    return IndexResult(composite, areas, usage, X, kpi_ids, names, weights, M, kpi_scores)
