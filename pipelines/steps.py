"""The pipeline steps as one registry: build, refresh, re-running a dependent step when a
default changes, and re-running a recorded run into a scratch copy (`styrkort rerun`).

| step         | per year | marts (pipelines/marts/*.toml)                                    | its default feeds |
|--------------|----------|-------------------------------------------------------------------|-------------------|
| effective    |          | demo_twin_years (+ view effective_kpi_values)                     | every step that reads KPI values |
| index        | yes      | composite_index, area_scores, index_kpi_usage, index_kpi_scores   | select, uncertainty, associations |
| select       | yes      | selections, selection_items, selection_table1                     |                   |
| uncertainty  | yes      | rank_uncertainty                                                  |                   |
| cost         |          | cost_deviation, cost_model                                        | associations      |
| associations |          | quality_associations                                              |                   |
| trends       |          | trends                                                            | scorecard         |
| scorecard    |          | municipality_size_groups, kpi_reference_series, scorecard, scorecard_series | targets |
| positions    |          | kpi_positions, scorecard_status_counts                            | targets           |
| similar      |          | similar_municipalities, similar_reference                         | targets           |
| targets      |          | target_status, target_status_counts, scorecard_page (also run by `styrkort import targets`) |         |
| whatif       |          | index_whatif, index_contributions (every year's default index)    |                   |
| grants       |          | grant_uptake, grant_uptake_by_year, grant_uptake_by_size_group, grant_round_summary, grant_reconciliation, grant_not_applied_2013, stimulus_returns | |
| units        |          | unit_scorecard, unit_kpi_summary, unit_status_counts              |                   |

`effective` runs first: where a demo indicator's real Kolada twin has values, the steps after it
read the real values instead (pipelines/effective.py). `styrkort build` runs every step with its
shipped configuration. `styrkort refresh` recomputes
the default runs: every step with the configuration of its current default run (the shipped one
unless a run was made the default with `--make-default`), on the data now in the warehouse.
"""
from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

STEPS = ("effective", "index", "select", "uncertainty", "cost", "associations", "trends", "scorecard",
         "positions", "similar", "targets", "whatif", "grants", "units")
PER_YEAR = frozenset({"index", "select", "uncertainty"})
# effective feeds the index too (per year: `refresh` recomputes every year's index after it)
DEPENDANTS = {"effective": ("trends", "positions", "similar"),
              "index": ("select", "uncertainty", "associations", "whatif"), "cost": ("associations", "similar"),
              "trends": ("scorecard",), "scorecard": ("targets",),
              # the targets step also builds scorecard_page, which joins the positions and similar marts
              "positions": ("targets",), "similar": ("targets",)}


# step -> (module, its rerun function, its shipped configuration): one line per step, imported
# only when asked (the steps import heavy packages). The per-year steps build their shipped
# configuration from the warehouse (shipped_config).
REGISTRY = {
    "effective": ("pipelines.effective", "rerun", "SHIPPED_CONFIG"),
    "index": ("pipelines.ranking.pipeline", "rerun_index", None),
    "select": ("pipelines.ranking.pipeline", "rerun_select", None),
    "uncertainty": ("pipelines.ranking.pipeline", "rerun_uncertainty", None),
    "cost": ("pipelines.cost", "rerun", "DEFAULT_CONFIG"),
    "associations": ("pipelines.economy_associations", "rerun", "SHIPPED_CONFIG"),
    "trends": ("pipelines.trends", "rerun", "SHIPPED_CONFIG"),
    "scorecard": ("pipelines.scorecard", "rerun", "SHIPPED_CONFIG"),
    "positions": ("pipelines.positions", "rerun", "CONFIG"),
    "similar": ("pipelines.similar", "rerun", "CONFIG"),
    "targets": ("pipelines.targets", "rerun", "CONFIG"),
    "whatif": ("pipelines.whatif", "rerun", "SHIPPED"),
    "grants": ("pipelines.grants", "rerun", "SHIPPED_CONFIG"),
    "units": ("pipelines.units", "rerun", "SHIPPED_CONFIG"),
}


def _registered(step: str, part: int):
    import importlib

    if step not in REGISTRY:
        raise ValueError(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
    return getattr(importlib.import_module(REGISTRY[step][0]), REGISTRY[step][part])


def rerun_function(step: str):
    """fn(con, config: dict, year, make_default) -> run_id, for a recorded configuration."""
    return _registered(step, 1)


def shipped_config(con, step: str, year: int | None = None) -> dict:
    """The configuration a step runs with when no run of it was made the default."""
    if step in PER_YEAR:
        from pipelines.ranking.pipeline import default_index_config, selection_options, uncertainty_config

        index = default_index_config(con, year)
        if step == "index":
            return index.as_dict()
        if step == "select":
            return {"index": index.as_dict(), "options": selection_options()}
        return uncertainty_config(index)
    return dict(_registered(step, 2))


def current_default_config(con, step: str, year: int | None = None) -> dict:
    """The configuration of the step's default run now; for select and uncertainty with the
    year's default index configuration put in (the index may have been made default since)."""
    from pipelines.runs import default_run

    current = default_run(con, step, year if step in PER_YEAR else None)
    if current is None:
        return shipped_config(con, step, year)
    cfg = dict(current["config"])
    if step in ("select", "uncertainty"):
        from pipelines.ranking.pipeline import default_index_config

        cfg["index"] = default_index_config(con, year).as_dict()
    return cfg


def refresh_step(con, step: str, year: int | None = None) -> str:
    """Recompute a step's default run (with its current default configuration); returns run_id."""
    return rerun_function(step)(con, current_default_config(con, step, year),
                                year if step in PER_YEAR else None, True)


def refresh_dependants(con, step: str, year: int | None = None) -> list[str]:
    """After a step's default rows changed: recompute the default runs of the steps that read
    them (transitively). Returns the steps recomputed."""
    done: list[str] = []
    for dep in DEPENDANTS.get(step, ()):
        if dep in PER_YEAR and year is None:
            continue
        refresh_step(con, dep, year)
        done.append(dep)
        done += refresh_dependants(con, dep, year)
    return done


def ranking_years(con) -> list[int]:
    """Years for the index: years with values for the shipped config's KPIs, and years that
    already have a default index run."""
    from pipelines.ranking.config import load_config
    from pipelines.ranking.pipeline import index_years
    from pipelines.runs import ensure_runs

    ensure_runs(con)
    stored = {r[0] for r in con.execute(
        "SELECT DISTINCT year FROM pipeline_run WHERE step = 'index' AND is_default AND replaced_by IS NULL"
    ).fetchall()}
    return sorted(set(index_years(con, load_config())) | stored)


def run_all(con) -> None:
    """`styrkort build`: every step with its shipped configuration, made the default."""
    from pipelines.economy import run_default as run_economy
    from pipelines.effective import run_effective
    from pipelines.ranking.pipeline import run_default as run_ranking
    from pipelines.units import run_units

    run_effective(con, make_default=True)   # demo gives way to real: read by every step below
    run_ranking(con)
    run_economy(con)
    run_units(con, make_default=True)


# Tables of marts renamed since (a warehouse built by an older version): dropped by refresh.
LEGACY_TABLES = ("mart_selection", "mart_selection_item")


def refresh(con) -> None:
    """`styrkort refresh`: recompute every step's default run from its recorded configuration
    (shipped where none), in dependency order, on the data now in the warehouse."""
    from pipelines.ranking.pipeline import (default_index_config, run_index, run_select,
                                            run_uncertainty, selection_from_config)

    for table in LEGACY_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    refresh_step(con, "effective")   # first: which demo values give way, for every step below
    for year in ranking_years(con):
        # one index run per year, shared by its selection and uncertainty runs
        index = run_index(con, year, default_index_config(con, year), make_default=True)
        max_per_county, swaps = selection_from_config(current_default_config(con, "select", year))
        run_select(con, year, max_per_county=max_per_county, swaps=swaps, make_default=True, index=index)
        unc = current_default_config(con, "uncertainty", year)
        run_uncertainty(con, year, draws=int(unc["draws"]), seed=int(unc["seed"]),
                        concentration=float(unc["concentration"]), index=index, make_default=True)
    for step in STEPS:
        if step not in PER_YEAR and step != "effective":
            refresh_step(con, step)


# --- re-running a recorded run (`styrkort rerun`) -------------------------------------------------

REL_TOL = 1e-9


@dataclass
class MartDiff:
    mart: str
    stored_rows: int
    new_rows: int
    only_stored: int = 0
    only_new: int = 0
    changed: list[tuple] = field(default_factory=list)   # (key dict, column, stored, recomputed)
    n_changed: int = 0

    @property
    def identical(self) -> bool:
        return not (self.only_stored or self.only_new or self.n_changed)


@dataclass
class RerunReport:
    run: dict
    rows_of: str                  # run whose stored rows were compared (the run, or the one that replaced it)
    new_run_id: str
    new_config_hash: str
    marts: list[MartDiff]

    @property
    def config_reproduced(self) -> bool:
        return self.new_config_hash == self.run["config_hash"]

    @property
    def identical(self) -> bool:
        return self.config_reproduced and all(m.identical for m in self.marts)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return a == b
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def compare_rows(mart: str, key: list[str], columns: list[str], stored: list[tuple], new: list[tuple],
                 max_listed: int = 10) -> MartDiff:
    """Compare two row sets of a mart by key (pure). Rows are tuples in `columns` order."""
    ki = [columns.index(k) for k in key]
    index_s = {tuple(r[i] for i in ki): r for r in stored}
    index_n = {tuple(r[i] for i in ki): r for r in new}
    diff = MartDiff(mart, len(stored), len(new))
    diff.only_stored = len(index_s.keys() - index_n.keys())
    diff.only_new = len(index_n.keys() - index_s.keys())
    for k in sorted(index_s.keys() & index_n.keys(), key=lambda t: tuple(str(x) for x in t)):
        a, b = index_s[k], index_n[k]
        for j, col in enumerate(columns):
            if not _same(a[j], b[j]):
                diff.n_changed += 1
                if len(diff.changed) < max_listed:
                    diff.changed.append((dict(zip(key, k)), col, a[j], b[j]))
    return diff


def _rows(con, table: str, run_id: str, columns: list[str]) -> list[tuple]:
    cols = ", ".join(f'"{c}"' for c in columns)
    return con.execute(f"SELECT {cols} FROM {table} WHERE run_id = ?", [run_id]).fetchall()


def rerun_into_scratch(db: Path, run_id: str) -> RerunReport:
    """Recompute a recorded run from its configuration in a scratch copy of the warehouse and
    compare its rows with the stored ones. The warehouse itself is not changed."""
    from pipelines.core import marts_of_step, relation_exists
    from pipelines.runs import get_run, holder_of_rows
    from warehouse.db import connect

    con = connect(db, read_only=True)
    try:
        if not relation_exists(con, "pipeline_run"):
            raise LookupError(f"{db} has no run records; run `styrkort build` or `styrkort refresh`")
        record = get_run(con, run_id)
        if record is None:
            raise LookupError(f"no run {run_id!r} (or the prefix is not unique); `styrkort runs` lists them")
        holder = holder_of_rows(con, record["run_id"])
        marts = marts_of_step(record["step"])
        stored = {}
        for d in marts:
            cols = [c.name for c in d.columns if not c.volatile and not c.contract]
            stored[d.name] = (cols, _rows(con, d.table, holder, cols) if relation_exists(con, d.table) else [])
    finally:
        con.close()
    with tempfile.TemporaryDirectory(prefix="styrkort-rerun-") as tmp:
        scratch = Path(tmp) / "scratch.duckdb"
        shutil.copyfile(db, scratch)
        wal = Path(f"{db}.wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{scratch}.wal"))
        sc = connect(scratch)
        try:
            new_id = rerun_function(record["step"])(sc, record["config"], record["year"], False)
            new_hash = sc.execute("SELECT config_hash FROM pipeline_run WHERE run_id = ?", [new_id]).fetchall()[0][0]
            diffs = []
            for d in marts:
                cols, old_rows = stored[d.name]
                key = [k for k in dict.fromkeys((*d.scope, *d.key))]
                diffs.append(compare_rows(d.name, key, cols, old_rows, _rows(sc, d.table, new_id, cols)))
        finally:
            sc.close()
    return RerunReport(record, holder, new_id, new_hash, diffs)
