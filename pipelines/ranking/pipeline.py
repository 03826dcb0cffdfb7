"""Composite index, size-group ranks, the 15/15 selection and rank uncertainty: the
warehouse side. Reads the public views (municipalities, municipality_years, kpis, kpi_values),
computes with the pure functions in pipelines/ranking/index.py, selection.py and uncertainty.py,
and writes the marts of pipelines/ranking/marts.sql.

Which rows are "the" index: every config's rows are kept (one set per year and config_hash,
replaced when the same config is run again), and `is_default` marks the shipped default
config's rows — the dashboard and the economy pipeline read `WHERE is_default`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.ranking.config import IndexConfig, load_config
from pipelines.ranking.index import IndexComputationError, IndexResult, compute_index
from pipelines.ranking.selection import (QUOTAS, Swap, apply_swaps, select)
from pipelines.ranking.uncertainty import (CONCENTRATION, DEFAULT_DRAWS, DEFAULT_SEED,
                                           simulate, summarise)
from pipelines.runs import config_hash, record_run

MARTS_SQL = Path(__file__).with_name("marts.sql")


def ensure_marts(con) -> None:
    con.execute(MARTS_SQL.read_text(encoding="utf-8"))


def default_config_hash() -> str:
    return config_hash(load_config().as_dict())


# --- reading the warehouse -----------------------------------------------------------------

@dataclass
class Inputs:
    year: int
    municipalities: pd.DataFrame   # municipality_code, name, county_code, county_name, size_group
    values: pd.DataFrame           # kpi_id, municipality_code, value, is_demo
    kpi_meta: pd.DataFrame         # kpi_id, higher_is_better, is_demo


def load_inputs(con, year: int, config: IndexConfig) -> Inputs:
    munis = con.execute(
        """SELECT m.municipality_code, m.name, m.county_code, m.county_name, y.size_group
           FROM municipalities m
           LEFT JOIN municipality_years y ON y.municipality_code = m.municipality_code AND y.year = ?
           ORDER BY m.municipality_code""", [year]).df()
    kpis = config.kpi_ids
    values = con.execute(
        """SELECT kpi_id, municipality_code, value, is_demo FROM kpi_values
           WHERE year = ? AND gender = 'T' AND list_contains(?::VARCHAR[], kpi_id)""",
        [year, kpis]).df()
    meta = con.execute(
        "SELECT kpi_id, higher_is_better, is_demo FROM kpis WHERE list_contains(?::VARCHAR[], kpi_id)",
        [kpis]).df()
    return Inputs(year, munis, values, meta)


def index_years(con, config: IndexConfig) -> list[int]:
    """Years in which any of the config's KPIs has values."""
    rows = con.execute(
        """SELECT DISTINCT year FROM kpi_values
           WHERE gender = 'T' AND list_contains(?::VARCHAR[], kpi_id) ORDER BY year""",
        [config.kpi_ids]).fetchall()
    return [r[0] for r in rows]


# --- writing -------------------------------------------------------------------------------

def _replace(con, table: str, df: pd.DataFrame, year: int, h: str) -> None:
    con.execute(f"DELETE FROM {table} WHERE year = ? AND config_hash = ?", [year, h])
    con.register("_ranking_df", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ranking_df")
    finally:
        con.unregister("_ranking_df")


def _mark_default(con, table: str, year: int, h: str, is_default: bool) -> None:
    # only one config's rows per year are the default (the shipped file may have changed)
    if is_default:
        con.execute(f"UPDATE {table} SET is_default = false WHERE year = ? AND config_hash <> ?",
                    [year, h])


@dataclass
class IndexRun:
    year: int
    config: IndexConfig
    config_hash: str
    run_id: str
    is_default: bool
    result: IndexResult
    ranked: pd.DataFrame            # composite + name, county_code, county_name
    is_demo: bool                   # any KPI used is demo data


def run_index(con, year: int, config: IndexConfig | None = None) -> IndexRun:
    """Compute the index for one year and store it (replacing this config's rows)."""
    config = config or load_config()
    ensure_marts(con)
    inputs = load_inputs(con, year, config)
    if inputs.municipalities.empty:
        raise IndexComputationError("the warehouse has no municipalities; run `styrkort build`")
    if inputs.values.empty:
        raise IndexComputationError(
            f"no values (gender 'T') for year {year} for any KPI in {config.source}")
    result = compute_index(inputs.values, inputs.municipalities, inputs.kpi_meta, config)
    cfg = config.as_dict()
    run_id, h = record_run(con, "index", cfg, year=year)
    is_default = h == default_config_hash()
    demo_kpis = set(inputs.kpi_meta.loc[inputs.kpi_meta["is_demo"].astype(bool), "kpi_id"])
    is_demo = bool(demo_kpis & set(result.kpi_ids))
    common = {"year": year, "config_hash": h, "is_default": is_default, "run_id": run_id}
    comp = result.composite.assign(**common, normalisation=config.normalisation, is_demo=is_demo)
    _replace(con, "mart_composite_index", comp, year, h)
    _replace(con, "mart_area_scores", result.areas.assign(**common), year, h)
    _replace(con, "mart_index_kpi_usage", result.usage.assign(**common), year, h)
    for t in ("mart_composite_index", "mart_area_scores", "mart_index_kpi_usage"):
        _mark_default(con, t, year, h, is_default)
    ranked = result.composite.merge(
        inputs.municipalities[["municipality_code", "name", "county_code", "county_name"]],
        on="municipality_code", how="left")
    return IndexRun(year, config, h, run_id, is_default, result, ranked, is_demo)


@dataclass
class SelectionRun:
    selection_id: str
    index: IndexRun
    items: pd.DataFrame
    options: dict
    created_at: datetime


def run_select(con, year: int, config: IndexConfig | None = None, max_per_county: int | None = None,
               swaps: list[Swap] | None = None, is_default: bool = False,
               index: IndexRun | None = None) -> SelectionRun:
    """Index (recomputed, so the selection matches the data now in the warehouse), selection,
    swaps; stored as one `selections` row and its `selection_items`."""
    swaps = swaps or []
    index = index or run_index(con, year, config)
    ranked = index.ranked
    missing_group = ranked.loc[ranked["size_group"].isna(), "municipality_code"].tolist()
    if missing_group:
        raise IndexComputationError(
            f"{len(missing_group)} municipalities have no size group in {year} "
            f"(no population in municipality_years), e.g. {', '.join(missing_group[:5])}")
    items = select(ranked, QUOTAS, max_per_county)
    items = apply_swaps(items, ranked, swaps)
    options = {"quotas": QUOTAS, "max_per_county": max_per_county,
               "swaps": [s.as_dict() for s in swaps]}
    run_id, _ = record_run(con, "select", {"index": index.config.as_dict(), "options": options},
                           year=year)
    created = datetime.now(timezone.utc).replace(tzinfo=None)
    if is_default:  # keep one default selection per year
        old = "SELECT selection_id FROM mart_selection WHERE year = ? AND is_default"
        con.execute(f"DELETE FROM mart_selection_item WHERE selection_id IN ({old})", [year])
        con.execute("DELETE FROM mart_selection WHERE year = ? AND is_default", [year])
    con.execute("INSERT INTO mart_selection VALUES (?, ?, ?, ?, ?, ?)",
                [run_id, year, index.config_hash, json.dumps(options, ensure_ascii=False),
                 created, is_default])
    con.register("_ranking_items", items.assign(selection_id=run_id))
    try:
        con.execute("INSERT INTO mart_selection_item BY NAME SELECT * FROM _ranking_items")
    finally:
        con.unregister("_ranking_items")
    return SelectionRun(run_id, index, items, options, created)


@dataclass
class UncertaintyRun:
    index: IndexRun
    run_id: str
    table: pd.DataFrame


def run_uncertainty(con, year: int, config: IndexConfig | None = None, draws: int = DEFAULT_DRAWS,
                    seed: int = DEFAULT_SEED, concentration: float = CONCENTRATION,
                    index: IndexRun | None = None) -> UncertaintyRun:
    index = index or run_index(con, year, config)
    r = index.result
    sim = simulate(r.matrix, r.area_matrix, r.area_weights,
                   index.ranked["size_group"].to_numpy(dtype=object), draws, seed, concentration)
    table = summarise(sim, index.ranked["municipality_code"].tolist())
    params = {"index": index.config.as_dict(), "draws": draws, "seed": seed,
              "concentration": concentration, "normalisations": ["zscore", "minmax", "rank"]}
    run_id, _ = record_run(con, "uncertainty", params, year=year)
    out = table.assign(year=year, seed=seed, concentration=concentration,
                       config_hash=index.config_hash, is_default=index.is_default, run_id=run_id)
    _replace(con, "mart_rank_uncertainty", out, year, index.config_hash)
    _mark_default(con, "mart_rank_uncertainty", year, index.config_hash, index.is_default)
    return UncertaintyRun(index, run_id, table)


def run_default(con, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> None:
    """`styrkort build`: for every year with values for the default config's KPIs, the index,
    the plain-ranking selection (no county cap, no swaps) and rank uncertainty."""
    config = load_config()
    ensure_marts(con)
    for year in index_years(con, config):
        index = run_index(con, year, config)
        run_select(con, year, index=index, is_default=True)
        run_uncertainty(con, year, draws=draws, seed=seed, index=index)


def selection_json(run: SelectionRun) -> dict:
    """The `--json` document."""
    cols = ["municipality_code", "name", "size_group", "result", "rank", "group_rank", "composite",
            "county_code", "county_name", "adjusted", "reason", "replaces"]
    items = []
    for row in run.items[cols].itertuples(index=False):
        d = row._asdict()
        d["rank"], d["group_rank"] = int(d["rank"]), int(d["group_rank"])
        d["composite"] = float(d["composite"])
        d["adjusted"] = bool(d["adjusted"])
        d = {k: (None if (v is None or (isinstance(v, float) and np.isnan(v))) else v)
             for k, v in d.items()}
        items.append(d)
    return {"year": run.index.year, "config_hash": run.index.config_hash,
            "selection_id": run.selection_id, "options": run.options, "selection": items}
