"""What would move the rank: arithmetic on the composite index, not a causal claim.

Two marts, for the default index run of every year (the configuration stored with that run in
pipeline_runs, so whatever the default index is — demo KPIs or their real Kolada twins — the
what-if follows it):

index_contributions  per municipality and area: the area's share of the composite against the
    size group's median, contribution = weight share · (area score − the group's median area
    score). A waterfall starts at `baseline` = Σ weight share · group median area score (an
    imagined municipality at the group's median in every area) and adds the contributions to
    arrive at the composite.

index_whatif  per municipality, index KPI and scenario: the municipality's new rank and group
    rank if that one KPI reached the size group's median ('group_median') or the boundary of
    the group's best quartile ('group_top_quartile': the 75th percentile in the KPI's good
    direction, linear interpolation), every other value of every municipality unchanged. A
    municipality already at or beyond that level keeps its value (`reached` = true, no change).
    The index is recomputed exactly as pipelines/ranking/index.py computes it (its normalise,
    composite and rank rules): raising one value changes that KPI's mean and spread, so every
    municipality's score on the KPI moves a little. Vectorised: for a KPI and scenario the n
    variants (one per municipality) are the n columns of one matrix, normalised column-wise.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from pipelines.core import relation_exists, store_rows, transaction
from pipelines.ranking.config import config_from_dict
from pipelines.ranking.index import TIE_DECIMALS, compute_index, normalise, rank_desc
from pipelines.runs import start_run

SCENARIOS = ("group_median", "group_top_quartile")
TOP_QUARTILE = 75.0   # percentile, in the KPI's good direction

CONFIG = {"scenarios": {"group_median": "median of the size group's values",
                        "group_top_quartile": f"{TOP_QUARTILE:g}th percentile of the size group's values "
                                              "in the good direction (linear interpolation)"},
          "raise_only": "a municipality already at or beyond the level keeps its value",
          "others": "every other value of every municipality unchanged",
          "index": "the default index run of each year (its stored configuration), recomputed with "
                   "pipelines/ranking/index.py",
          "contributions": "weight share x (area score - size group's median area score)"}

# --- pure functions ---------------------------------------------------------------------------

def group_levels(col: np.ndarray, groups: np.ndarray, scenario: str) -> np.ndarray:
    """Per municipality, its size group's level of a directed KPI column (NaN without a group)."""
    out = np.full(col.shape, np.nan)
    for g in pd.unique(groups):
        if g is None or (isinstance(g, float) and np.isnan(g)):
            continue
        mask = groups == g
        vals = col[mask]
        out[mask] = np.median(vals) if scenario == "group_median" else np.percentile(vals, TOP_QUARTILE)
    return out


def whatif_ranks(X: np.ndarray, j: int, new_col: np.ndarray, comp: np.ndarray, coef: float,
                 method: str, same_group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For KPI column j of the directed matrix X: municipality i's composite, rank and group rank
    if its value alone were new_col[i] (all n variants at once).

    Variant i is column i of an (n × n) matrix: the KPI's column with entry i replaced. The
    column is normalised as compute_index does (normalise, column-wise); the composite changes
    by coef · (new score − old score) for every municipality, coef = the KPI's weight in the
    composite (area weight share / KPIs in the area); ranks as rank_desc (ties by code); the
    group rank counts the better-ranked municipalities of the same size group
    (same_group: (n × n) booleans, False for municipalities without a size group)."""
    n = X.shape[0]
    col = X[:, j]
    V = np.repeat(col[:, None], n, axis=1)
    idx = np.arange(n)
    V[idx, idx] = new_col
    z_old = normalise(col[:, None], method)[:, 0]
    Z = normalise(V, method)                                    # (n × n), column i = variant i
    C = comp[:, None] + coef * (Z - z_old[:, None])             # composites in each variant
    R = rank_desc(C)                                            # column-wise ranks, 1 = best
    new_rank = R[idx, idx]
    new_group_rank = (same_group & (R < new_rank[None, :])).sum(axis=0) + 1
    return C[idx, idx], new_rank, new_group_rank


def kpi_coefficients(M: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each used KPI's weight in the composite: composite = Σ_k coef_k · score_k."""
    return M @ weights / weights.sum()


def whatif_year(values: pd.DataFrame, munis: pd.DataFrame, kpi_meta: pd.DataFrame, config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(whatif rows, contribution rows) for one year's index inputs."""
    res = compute_index(values, munis, kpi_meta, config)
    method = config.normalisation
    comp = res.composite["composite"].to_numpy(dtype=float)
    ranks = res.composite["rank"].to_numpy()
    groups = res.composite["size_group"].to_numpy(dtype=object)
    granks = res.composite["group_rank"].astype("Int64").fillna(0).to_numpy(dtype=int)
    codes = res.composite["municipality_code"].to_numpy()
    coef = kpi_coefficients(res.area_matrix, res.area_weights)
    area_of = config.area_of()
    hib = dict(zip(kpi_meta["kpi_id"], kpi_meta["higher_is_better"]))
    demo = dict(zip(kpi_meta["kpi_id"], kpi_meta.get("is_demo", pd.Series(False, index=kpi_meta.index))))
    has_group = pd.notna(groups)
    same_group = (groups[:, None] == groups[None, :]) & has_group[:, None] & has_group[None, :]
    parts = []
    for j, kpi in enumerate(res.kpi_ids):
        sign = 1.0 if bool(hib[kpi]) else -1.0
        col = res.matrix[:, j]
        for scenario in SCENARIOS:
            level = group_levels(col, groups, scenario)
            reached = ~(col < level) | np.isnan(level)
            new_col = np.where(reached, col, level)
            new_comp, new_rank, new_grank = whatif_ranks(res.matrix, j, new_col, comp, coef[j], method, same_group)
            # unchanged where the value does not change (already reached): exactly the stored rank
            new_comp = np.where(reached, comp, new_comp)
            new_rank = np.where(reached, ranks, new_rank)
            new_grank = np.where(reached, granks, new_grank)
            parts.append(pd.DataFrame({
                "municipality_code": codes, "kpi_id": kpi, "area": area_of.get(kpi), "scenario": scenario,
                "value": sign * col, "target_value": sign * level, "reached": reached,
                "composite": comp, "new_composite": new_comp, "rank": ranks, "new_rank": new_rank,
                "rank_gain": ranks - new_rank, "group_rank": granks, "new_group_rank": new_grank,
                "group_rank_gain": granks - new_grank, "size_group": groups, "is_demo": bool(demo.get(kpi, False)),
            }))
    whatif = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(whatif):
        for c in ("group_rank", "new_group_rank", "group_rank_gain"):
            whatif[c] = whatif[c].astype("Int64").mask(whatif["size_group"].isna())
    return whatif, contributions(res, codes, groups)


def contributions(res, codes: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Area contributions against the size group's median area score (see module docstring)."""
    areas = res.areas.pivot(index="municipality_code", columns="area", values="score").reindex(
        index=codes, columns=res.area_names)
    S = areas.to_numpy(dtype=float)
    share = res.area_weights / res.area_weights.sum()
    med = np.full(S.shape, np.nan)
    for g in pd.unique(groups):
        if g is None or (isinstance(g, float) and np.isnan(g)):
            continue
        mask = groups == g
        med[mask] = np.median(S[mask], axis=0)
    contrib = share[None, :] * (S - med)
    baseline = (share[None, :] * med).sum(axis=1)
    n, a = S.shape
    return pd.DataFrame({
        "municipality_code": np.repeat(codes, a), "area": np.tile(res.area_names, n),
        "weight_share": np.tile(share, n), "score": S.reshape(-1), "group_median_score": med.reshape(-1),
        "contribution": contrib.reshape(-1), "baseline": np.repeat(baseline, a),
        "composite": np.repeat(res.composite["composite"].to_numpy(dtype=float), a),
        "size_group": np.repeat(groups, a),
    })


# --- the warehouse side ---------------------------------------------------------------------------

def default_index_runs(con) -> list[tuple[int, dict, bool]]:
    """(year, config dict, is_demo) of the default index run of every year in composite_index;
    none before an index was built (the step then stores an empty run, as the steps reading the
    index do)."""
    if not relation_exists(con, "composite_index"):
        return []
    rows = con.execute(
        """SELECT c.year, any_value(r.config_json), bool_or(c.is_demo)
           FROM composite_index c JOIN pipeline_runs r ON r.run_id = c.run_id
           WHERE c.is_default GROUP BY c.year ORDER BY c.year""").fetchall()
    return [(int(y), json.loads(cfg), bool(demo)) for y, cfg, demo in rows]


def load_year(con, year: int, config):
    """The index inputs of a year and the configuration the index computed with, read as
    pipelines/ranking/pipeline.run_index reads them: the run's configuration is stored as
    written, with demo KPIs that give way to their complete real twins this year (the default
    `effective` run) replaced by those twins."""
    from pipelines.effective import resolve_index_config, twin_years
    from pipelines.ranking.pipeline import load_inputs

    resolved = resolve_index_config(config, twin_years(con, year)).config
    inputs = load_inputs(con, year, resolved)
    return inputs.values, inputs.municipalities, inputs.kpi_meta, resolved


def compute_all(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    whatif, contrib = [], []
    for year, cfg, is_demo in default_index_runs(con):
        config = config_from_dict(cfg, source=f"default index run {year}")
        values, munis, meta, resolved = load_year(con, year, config)
        w, c = whatif_year(values, munis, meta, resolved)
        if len(w):
            whatif.append(w.assign(year=year, is_demo=w["is_demo"] | is_demo))
        contrib.append(c.assign(year=year, is_demo=is_demo))
    return (pd.concat(whatif, ignore_index=True) if whatif else pd.DataFrame(),
            pd.concat(contrib, ignore_index=True) if contrib else pd.DataFrame())


SHIPPED = dict(CONFIG, tie_decimals=TIE_DECIMALS)


def run_whatif(con, make_default: bool = False) -> str:
    """Compute and store `index_whatif` and `index_contributions` (pipelines/marts/) as one run
    of the step `whatif`; returns the run_id."""
    whatif, contrib = compute_all(con)
    with transaction(con):
        run = start_run(con, "whatif", SHIPPED, shipped=SHIPPED, make_default=make_default)
        store_rows(con, "index_whatif", whatif, run)
        store_rows(con, "index_contributions", contrib, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (the method has no adjustable parameter)."""
    if config != SHIPPED:
        raise ValueError("the recorded what-if configuration differs from this version's method")
    return run_whatif(con, make_default=make_default)
