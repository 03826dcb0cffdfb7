"""Composite index, size-group ranks, the 15/15 selection and rank uncertainty: the
warehouse side. Reads the public views (municipalities, municipality_years, kpis, kpi_values),
computes with the pure functions in pipelines/ranking/index.py, selection.py and uncertainty.py,
and stores the marts declared in pipelines/marts/ (composite_index, area_scores, index_kpi_usage,
index_kpi_scores; selections, selection_items; rank_uncertainty).

Mart contract (pipelines/core.py, pipelines/runs.py): every configuration's rows are kept, one
set per year and config_hash, replaced when the same configuration runs again; `is_default`
marks the default run's rows per year — the shipped config (pipelines/configs/oj_default.toml)
unless another run was made the default. The public views (composite_index, …) show the default
rows, the *_all views every run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from pipelines.core import size_groups_sql, store_rows, transaction
from pipelines.effective import annotate_usage, kpi_counts, resolve_index_config, twin_years, twins_of
from pipelines.ranking.config import IndexConfig, config_from_dict, load_config
from pipelines.ranking.index import IndexComputationError, IndexResult, compute_index
from pipelines.ranking.selection import QUOTAS, Swap, apply_swaps, group_quarters, select, table1_rows
from pipelines.ranking.uncertainty import (CONCENTRATION, DEFAULT_DRAWS, DEFAULT_SEED,
                                           simulate_index, summarise)
from pipelines.runs import config_hash, default_config, start_run

NORMALISATION_DRAWS = ["zscore", "minmax", "rank"]


def default_config_hash() -> str:
    """Hash of the shipped index configuration."""
    return config_hash(load_config().as_dict())


def default_index_config(con, year: int) -> IndexConfig:
    """The index configuration of the year's default run, else the shipped one."""
    shipped = load_config()
    cfg = default_config(con, "index", shipped.as_dict(), year)
    return shipped if cfg == shipped.as_dict() else config_from_dict(cfg, source="pipeline_runs (default run)")


# --- reading the warehouse -----------------------------------------------------------------

@dataclass
class Inputs:
    year: int
    municipalities: pd.DataFrame   # municipality_code, name, county_code, county_name, size_group
    values: pd.DataFrame           # kpi_id, municipality_code, value, is_demo
    kpi_meta: pd.DataFrame         # kpi_id, higher_is_better, is_demo


def load_inputs(con, year: int, config: IndexConfig) -> Inputs:
    # size group: the one rule of pipelines/sql/size_groups.sql (the year's, else the nearest year's)
    munis = con.execute(
        f"""SELECT m.municipality_code, m.name, m.county_code, m.county_name, y.size_group
            FROM municipalities m
            LEFT JOIN ({size_groups_sql(year)}) y ON y.municipality_code = m.municipality_code
            ORDER BY m.municipality_code""").df()
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
    """Years in which any of the config's KPIs, or the real KPI a demo one stands for, has values."""
    twins = twins_of(con)
    ids = config.kpi_ids + [twins[k] for k in config.kpi_ids if k in twins]
    rows = con.execute(
        """SELECT DISTINCT year FROM kpi_values
           WHERE gender = 'T' AND list_contains(?::VARCHAR[], kpi_id) ORDER BY year""",
        [ids]).fetchall()
    return [r[0] for r in rows]


# --- writing -------------------------------------------------------------------------------

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
    n_kpis: int = 0                 # KPIs the index used this year ...
    n_kpis_real: int = 0            # ... of them real (not demo)


def run_index(con, year: int, config: IndexConfig | None = None, make_default: bool = False) -> IndexRun:
    """Compute the index for one year and store it (replacing this config's rows of the year).

    Demo KPIs of the config give way to their real twins where those are complete this year
    (pipelines/effective.py, the default `effective` run); the run is recorded and hashed with
    the config as written, so the shipped configuration stays the default."""
    config = config or load_config()
    resolution = resolve_index_config(config, twin_years(con, year))
    inputs = load_inputs(con, year, resolution.config)
    if inputs.municipalities.empty:
        raise IndexComputationError("the warehouse has no municipalities; run `styrkort build`")
    if inputs.values.empty:
        raise IndexComputationError(
            f"no values (gender 'T') for year {year} for any KPI in {config.source}")
    result = compute_index(inputs.values, inputs.municipalities, inputs.kpi_meta, resolution.config)
    result.usage = annotate_usage(result.usage, resolution)
    demo_kpis = set(inputs.kpi_meta.loc[inputs.kpi_meta["is_demo"].astype(bool), "kpi_id"])
    n_kpis, n_real = kpi_counts(result.kpi_ids, demo_kpis)
    is_demo = n_real < n_kpis
    with transaction(con):
        run = start_run(con, "index", config.as_dict(), shipped=load_config().as_dict(), year=year,
                        make_default=make_default)
        comp = result.composite
        group_n = comp.groupby("size_group")["municipality_code"].transform("size")
        group_n = group_n.where(comp["size_group"].notna())
        store_rows(con, "composite_index", comp.assign(
            n_ranked=len(comp), group_n=group_n, group_quarter=group_quarters(comp["group_rank"], group_n),
            normalisation=config.normalisation, is_demo=is_demo, n_kpis=n_kpis, n_kpis_real=n_real),
            run, year=year)
        store_rows(con, "area_scores", result.areas.assign(is_demo=is_demo), run, year=year)
        store_rows(con, "index_kpi_usage", result.usage, run, year=year)
        scores = result.kpi_scores.assign(normalisation=config.normalisation,
                                          is_demo=result.kpi_scores["kpi_id"].isin(demo_kpis))
        store_rows(con, "index_kpi_scores", scores, run, year=year)
    ranked = result.composite.merge(
        inputs.municipalities[["municipality_code", "name", "county_code", "county_name"]],
        on="municipality_code", how="left")
    return IndexRun(year, config, run.config_hash, run.run_id, run.is_default, result, ranked, is_demo,
                    n_kpis, n_real)


@dataclass
class SelectionRun:
    selection_id: str
    index: IndexRun
    items: pd.DataFrame
    options: dict
    created_at: datetime
    is_default: bool = False


def selection_options(max_per_county: int | None = None, swaps: list[Swap] | None = None) -> dict:
    return {"quotas": QUOTAS, "max_per_county": max_per_county, "swaps": [s.as_dict() for s in swaps or []]}


def run_select(con, year: int, config: IndexConfig | None = None, max_per_county: int | None = None,
               swaps: list[Swap] | None = None, make_default: bool = False,
               index: IndexRun | None = None) -> SelectionRun:
    """Index (recomputed, so the selection matches the data now in the warehouse), selection,
    swaps; stored as one `selections` row, its `selection_items` and its Tabell 1
    (`selection_table1`: ranks and counts per size group and result)."""
    swaps = swaps or []
    with transaction(con):
        index = index or run_index(con, year, config)
        ranked = index.ranked
        missing_group = ranked.loc[ranked["size_group"].isna(), "municipality_code"].tolist()
        if missing_group:
            raise IndexComputationError(
                f"{len(missing_group)} municipalities have no size group in {year} "
                f"(no population figure in any year), e.g. {', '.join(missing_group[:5])}")
        items = select(ranked, QUOTAS, max_per_county)
        items = apply_swaps(items, ranked, swaps)
        options = selection_options(max_per_county, swaps)
        shipped = {"index": default_index_config(con, year).as_dict(), "options": selection_options()}
        run = start_run(con, "select", {"index": index.config.as_dict(), "options": options},
                        shipped=shipped, year=year, make_default=make_default)
        store_rows(con, "selections", pd.DataFrame([{
            "selection_id": run.run_id, "index_config_hash": index.config_hash,
            "options_json": json.dumps(options, ensure_ascii=False), "max_per_county": max_per_county,
            "n_swaps": len(swaps), "is_demo": index.is_demo, "created_at": run.started_at}]), run, year=year)
        store_rows(con, "selection_items", items.assign(selection_id=run.run_id, is_demo=index.is_demo),
                   run, year=year)
        store_rows(con, "selection_table1",
                   table1_rows(items).assign(selection_id=run.run_id, is_demo=index.is_demo), run, year=year)
    return SelectionRun(run.run_id, index, items, options, run.started_at, run.is_default)


@dataclass
class UncertaintyRun:
    index: IndexRun
    run_id: str
    table: pd.DataFrame
    is_default: bool = False


def uncertainty_config(index_config: IndexConfig, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                       concentration: float = CONCENTRATION) -> dict:
    return {"index": index_config.as_dict(), "draws": draws, "seed": seed,
            "concentration": concentration, "normalisations": NORMALISATION_DRAWS}


def run_uncertainty(con, year: int, config: IndexConfig | None = None, draws: int = DEFAULT_DRAWS,
                    seed: int = DEFAULT_SEED, concentration: float = CONCENTRATION,
                    index: IndexRun | None = None, make_default: bool = False) -> UncertaintyRun:
    with transaction(con):
        index = index or run_index(con, year, config)
        sim = simulate_index(index.result, index.ranked["size_group"].to_numpy(dtype=object), draws,
                             seed, concentration)
        table = summarise(sim, index.ranked["municipality_code"].tolist())
        run = start_run(con, "uncertainty", uncertainty_config(index.config, draws, seed, concentration),
                        shipped=uncertainty_config(default_index_config(con, year)), year=year,
                        make_default=make_default)
        out = table.assign(seed=seed, concentration=concentration, index_config_hash=index.config_hash,
                           is_demo=index.is_demo)
        store_rows(con, "rank_uncertainty", out, run, year=year)
    return UncertaintyRun(index, run.run_id, table, run.is_default)


def run_year(con, year: int, config: IndexConfig | None = None, draws: int = DEFAULT_DRAWS,
             seed: int = DEFAULT_SEED) -> None:
    """The default runs of one year: index, the plain-ranking selection (no county cap, no
    swaps) and rank uncertainty, all made the default."""
    index = run_index(con, year, config, make_default=True)
    run_select(con, year, index=index, make_default=True)
    run_uncertainty(con, year, draws=draws, seed=seed, index=index, make_default=True)


def run_default(con, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> None:
    """`styrkort build`: for every year with values for the shipped config's KPIs, the default
    runs of run_year with the shipped configuration."""
    config = load_config()
    for year in index_years(con, config):
        run_year(con, year, config, draws, seed)


def rerun_index(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    return run_index(con, year, config_from_dict(config, source="pipeline_runs"),
                     make_default=make_default).run_id


def selection_from_config(config: dict) -> tuple[int | None, list[Swap]]:
    """(max_per_county, swaps) of a recorded select configuration."""
    opts = config["options"]
    if opts.get("quotas", QUOTAS) != QUOTAS:
        raise ValueError(f"quotas {opts['quotas']} differ from this version's {QUOTAS}")
    return opts.get("max_per_county"), [Swap(s["out"], s["in"], s["reason"]) for s in opts.get("swaps", [])]


def rerun_select(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    max_per_county, swaps = selection_from_config(config)
    return run_select(con, year, config_from_dict(config["index"], source="pipeline_runs"),
                      max_per_county=max_per_county, swaps=swaps, make_default=make_default).selection_id


def rerun_uncertainty(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    return run_uncertainty(con, year, config_from_dict(config["index"], source="pipeline_runs"),
                           draws=int(config["draws"]), seed=int(config["seed"]),
                           concentration=float(config["concentration"]), make_default=make_default).run_id


def selection_json(run: SelectionRun, items: pd.DataFrame | None = None) -> dict:
    """The `--json` document (items: the run's rows as read back from selection_items_all)."""
    cols = ["municipality_code", "name", "size_group", "result", "rank", "group_rank", "composite",
            "county_code", "county_name", "adjusted", "reason", "replaces", "is_demo"]
    items_df = run.items.assign(is_demo=run.index.is_demo) if items is None else items
    items = []
    for row in items_df[cols].itertuples(index=False):
        d = row._asdict()
        d["rank"], d["group_rank"] = int(d["rank"]), int(d["group_rank"])
        d["composite"] = float(d["composite"])
        d["adjusted"] = bool(d["adjusted"])
        d["is_demo"] = bool(d["is_demo"])
        d = {k: (None if (v is None or (isinstance(v, float) and np.isnan(v))) else v)
             for k, v in d.items()}
        items.append(d)
    return {"year": run.index.year, "config_hash": run.index.config_hash,
            "selection_id": run.selection_id, "is_default": run.is_default, "is_demo": run.index.is_demo,
            "options": run.options, "selection": items}
