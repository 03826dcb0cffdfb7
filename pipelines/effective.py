"""Demo indicators give way to real ones — decided once, here, for every mart downstream.

Each demo indicator names the real Kolada KPI it stands in for (`kpis.stands_for`, from the
column stands_for of warehouse/demo_kpis.csv; the real ones are listed in the preset
warehouse/presets/oj_aldreomsorg.toml). This step ("effective", the first of
pipelines/steps.py: build, refresh and rerun run it before every step that reads KPI values)
stores, per demo indicator and year, whether its real twin has values and whether they are
complete, and which of the two the pages show (mart `demo_twin_years`, declared in
pipelines/marts/demo_twin_years.toml, model pipelines/sql/demo_twin_years.sql). Over the mart's
public view (the default run's rows), the view

    effective_kpi_values   kpi_values without the demo rows of a year in which the demo
                           indicator's real twin has a value (same columns as kpi_values)

The rules (issue 12, "demo gives way to real"):

- Shown values. Where real values of the twin exist for a year, the demo twin is not shown for
  that year: every mart that shows KPI values (scorecard, scorecard_series,
  kpi_reference_series, kpi_positions, scorecard_status_counts, trends) reads
  `effective_kpi_values` instead of `kpi_values`, and so do the pages that read values (the
  map). The demo rows stay in the warehouse, flagged is_demo, for reproducibility;
  `demo_twin_years.superseded` says which years are replaced.
- One row per pair. `demo_twin_years.shown_kpi_id` says which of the two the scorecard, /jamfor
  and the status counts show in a year (year NULL: the "senaste" view, where a demo twin whose
  real KPI has a value in any year is never a candidate), `hidden_kpi_id` the other one, so the
  stand-in is never shown next to the real figure.
- The composite index. A demo KPI of an index configuration is replaced in a year by its real
  twin when the twin is complete that year (every municipality has a value — the completeness
  rule of SKL 2010 "Öppna jämförelser analys – framgångsfaktorer inom äldreomsorgen"); else the
  demo twin stays and `index_kpi_usage` lists the real KPI as not used, with the reason
  (`resolve_index_config`, `annotate_usage`). The configuration's hash stays that of the
  configuration as written, so the shipped default stays the default.

For the marts downstream (scorecard, trends, index): read `effective_kpi_values`, never decide
demo-vs-real yourself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipelines.core import ALL_YEARS, ensure_mart, read_sql, relation_exists, store_query, transaction
from pipelines.ranking.config import Area, IndexConfig
from pipelines.runs import start_run

CONFIG = {"model": "demo_twin_years.sql", "superseded": "real value that year",
          "index_replaces": "real KPI complete that year", "shown": "real where it has a value",
          "gender": "T"}
SHIPPED_CONFIG = CONFIG

EFFECTIVE_VIEW = """
CREATE OR REPLACE VIEW effective_kpi_values AS
SELECT v.kpi_id, v.municipality_code, v.year, v.gender, v.value, v.source, v.is_demo
FROM kpi_values v
ANTI JOIN (SELECT demo_kpi_id AS kpi_id, year FROM demo_twin_years
           WHERE superseded AND year IS NOT NULL) s
    ON s.kpi_id = v.kpi_id AND s.year = v.year
"""


def run_effective(con, make_default: bool = False) -> str:
    """Store demo_twin_years and (re)create effective_kpi_values; returns the run_id.
    Inside the caller's transaction if it holds one, else its own."""
    sql = read_sql("demo_twin_years.sql").replace("{years}", ALL_YEARS)
    with transaction(con):
        run = start_run(con, "effective", CONFIG, shipped=SHIPPED_CONFIG, make_default=make_default)
        store_query(con, "demo_twin_years", sql, None, run)
        con.execute(EFFECTIVE_VIEW)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (the rule has no adjustable parameter)."""
    if config != CONFIG:
        raise ValueError("the recorded effective configuration differs from this version's rule")
    return run_effective(con, make_default=make_default)


def ensure_effective(con) -> None:
    """Make the mart's views and effective_kpi_values exist, without running the step (a step
    run on its own in a warehouse where `effective` never ran, e.g. a test's: no twin gives way
    there, effective_kpi_values = kpi_values). build / refresh run the step first."""
    if not relation_exists(con, "demo_twin_years"):
        ensure_mart(con, "demo_twin_years")
    if not relation_exists(con, "effective_kpi_values"):
        con.execute(EFFECTIVE_VIEW)


def twin_years(con, year: int) -> pd.DataFrame:
    """demo_twin_years rows of one year."""
    ensure_effective(con)
    cols = ["demo_kpi_id", "real_kpi_id", "year", "real_n_values", "n_municipalities",
            "superseded", "real_complete"]   # the default run's rows (public view)
    return con.execute(f"SELECT {', '.join(cols)} FROM demo_twin_years WHERE year = ?", [year]).df()


def twins_of(con) -> dict[str, str]:
    """demo KPI id -> real KPI id for every demo indicator with a twin."""
    return dict(con.execute("SELECT kpi_id, stands_for FROM kpis WHERE stands_for IS NOT NULL").fetchall())


# --- the index -----------------------------------------------------------------------------

@dataclass
class Resolution:
    """An index configuration resolved for one year."""
    config: IndexConfig                         # what the index computes with this year
    replaced: dict[str, str] = field(default_factory=dict)   # demo id -> real id in its place
    kept: dict[str, str] = field(default_factory=dict)       # demo id -> real id (incomplete)
    real_n_values: dict[str, int] = field(default_factory=dict)
    n_municipalities: int = 0


def resolve_index_config(config: IndexConfig, year_twins: pd.DataFrame) -> Resolution:
    """The configuration for one year: each demo KPI whose real twin is complete that year is
    replaced by the twin (in the same area, same place); a demo KPI whose twin has values but
    is incomplete stays (pure).

    year_twins: demo_twin_years rows of the year (demo_kpi_id, real_kpi_id, real_n_values,
    n_municipalities, superseded, real_complete)."""
    rows = {r.demo_kpi_id: r for r in year_twins.itertuples(index=False)}
    listed = set(config.kpi_ids)
    replaced: dict[str, str] = {}
    kept: dict[str, str] = {}
    real_n: dict[str, int] = {}
    n = 0
    areas: list[Area] = []
    for area in config.areas:
        kpis: list[str] = []
        for k in area.kpis:
            r = rows.get(k)
            if r is None or not bool(r.superseded):
                kpis.append(k)
                continue
            n = int(r.n_municipalities)
            real_n[r.real_kpi_id] = int(r.real_n_values)
            if bool(r.real_complete):
                replaced[k] = r.real_kpi_id
                if r.real_kpi_id not in listed:      # listed itself: it counts once, where it is
                    kpis.append(r.real_kpi_id)
            else:
                kept[k] = r.real_kpi_id
                kpis.append(k)
        if kpis:
            areas.append(Area(area.name, area.weight, tuple(kpis)))
    return Resolution(IndexConfig(config.normalisation, tuple(areas), source=config.source),
                      replaced, kept, real_n, n)


def annotate_usage(usage: pd.DataFrame, res: Resolution) -> pd.DataFrame:
    """index_kpi_usage of the resolved config plus the resolution: column twin_kpi_id (the demo
    KPI a real one replaced, or the real KPI of a demo KPI that stayed), and one row per real
    twin that has values but is incomplete, saying why the demo twin is used (pure)."""
    out = usage.copy()
    back = {real: demo for demo, real in res.replaced.items()}
    out["twin_kpi_id"] = [back.get(k, res.kept.get(k)) for k in out["kpi_id"]]
    extra = []
    area_of = dict(zip(out["kpi_id"], out["area"]))
    for demo, real in res.kept.items():
        if real in area_of:          # the config lists the real KPI itself: its own row says why
            continue
        k, n = res.real_n_values.get(real, 0), res.n_municipalities
        extra.append({
            "kpi_id": real, "area": area_of.get(demo), "used": False, "reason_code": "incomplete",
            "reason": (f"värde saknas för {n - k} av {n} kommuner; demonyckeltalet {demo} "
                       "används i stället tills alla har värde"),
            "n_values": k, "n_municipalities": n, "twin_kpi_id": demo})
    if extra:
        out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    twin = out["twin_kpi_id"].astype(object)
    out["twin_kpi_id"] = twin.where(twin.notna(), None)
    return out


def kpi_counts(used_kpis: list[str], demo_kpis: set[str]) -> tuple[int, int]:
    """(KPIs the index used, of them real) — the index is demo unless all are real."""
    return len(used_kpis), sum(1 for k in used_kpis if k not in demo_kpis)
