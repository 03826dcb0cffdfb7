"""Unit marts: Balansen's scorecard per unit and month (Stockholm 2005, the follow-up model
describing Göteborg's *Balansen*: each home-care group or care home with monthly key figures in
four perspectives, compared with other units and over time, missing figures shown as missing).

One step, `units` (pipelines/steps.py), three marts (their columns and meaning declared in
pipelines/marts/unit_scorecard.toml, unit_kpi_summary.toml and unit_status_counts.toml; `styrkort build`, `refresh` and
`rerun` run it under the mart contract):

- `unit_scorecard` (pipelines/sql/unit_scorecard.sql): per unit, unit KPI and month the unit is
  followed — its value (NULL = not reported), the median, lowest and highest value of the other
  units of the same municipality and kind (demo units with demo units) that month and how many
  they are, status against that median ('better' / 'same' / 'worse' / 'no_direction' /
  'no_peers' / 'missing'), and the unit's target for the month's year and the month's status
  against it ('met' / 'near' / 'not_met'; the rule of pipelines/targets.py: direction-aware,
  'near' within the target's tolerance, default 5 % of |target|, boundaries inclusive) where the
  public view `targets` has rows with a unit_id (`styrkort import targets`; the embedded default
  ships a few demo unit targets). Without unit targets, target and target_status are NULL and
  the pages show no target column.
- `unit_kpi_summary` (pipelines/sql/unit_kpi_summary.sql): per unit and KPI the latest month's
  row, 12-month means this year and the year before with the trend ('improving' / 'worsening' /
  'no_change' / 'no_direction' / 'too_few'), and the last 24 months as sparkline lists.
- `unit_status_counts` (pipelines/sql/unit_status_counts.sql): per unit and perspective (and
  'all') the status and target counts the unit pages print.

Reads the public views org_units, unit_values, unit_kpis and (if present) targets.
"""
from __future__ import annotations

from pipelines.core import read_sql, relation_exists, store_query, transaction
from pipelines.runs import start_run
from pipelines.targets import DEFAULT_TOLERANCE_REL

SAME_REL = 0.02      # within ±2 % of the peers' median counts as 'same'
TREND_REL = 0.02     # 12-month means within ±2 % of each other: 'no_change'
MIN_MONTHS = 6       # a monthly KPI needs 6 reported months in each 12-month window for a trend


def units_config(same_rel: float = SAME_REL, trend_rel: float = TREND_REL, min_months: int = MIN_MONTHS) -> dict:
    return {"model": "unit_scorecard.sql + unit_kpi_summary.sql", "same_rel": same_rel,
            "trend_rel": trend_rel, "min_months": min_months,
            "peers": "other units of the same municipality, kind and demo flag; median",
            "targets": "targets view rows with unit_id (year of the month)",
            "target_tolerance": f"the target's own, else {DEFAULT_TOLERANCE_REL:g} x |target| (pipelines/targets.py)"}


SHIPPED_CONFIG = units_config()

NO_TARGETS = "(SELECT NULL::VARCHAR AS unit_id, NULL::VARCHAR AS kpi_id, NULL::INTEGER AS year, " \
             "NULL::DOUBLE AS target, NULL::DOUBLE AS tolerance WHERE false)"


def targets_source(con) -> str:
    """The unit targets as a relation (unit_id, kpi_id, year, target, tolerance): the `targets`
    view's rows with a unit_id, or an empty relation when there is no such view or column."""
    if not relation_exists(con, "targets"):
        return NO_TARGETS
    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'targets'").fetchall()}
    if not {"unit_id", "kpi_id", "year", "target"} <= cols:
        return NO_TARGETS
    tol = "tolerance" if "tolerance" in cols else "NULL::DOUBLE"
    return (f"(SELECT unit_id, kpi_id, CAST(year AS INTEGER) AS year, CAST(target AS DOUBLE) AS target, "
            f"CAST({tol} AS DOUBLE) AS tolerance FROM targets WHERE unit_id IS NOT NULL)")


def scorecard_sql(con) -> str:
    """unit_scorecard.sql with the target columns: the status the way pipelines/targets.py judges a
    target (sql/target_status.sql) — direction-aware; 'near' = on the wrong side of the target by
    at most its tolerance (given, else the default share of |target|); boundaries inclusive with
    1e-9 relative slack for float noise."""
    tol = f"coalesce(t.tolerance, {float(DEFAULT_TOLERANCE_REL)!r} * abs(t.target))"
    eps = "1e-9 * greatest(1, abs(t.target))"
    return f"""
        SELECT s.*, t.target,
               CASE WHEN s.value IS NULL OR t.target IS NULL OR k.higher_is_better IS NULL THEN NULL
                    WHEN (k.higher_is_better AND s.value >= t.target - {eps})
                      OR (NOT k.higher_is_better AND s.value <= t.target + {eps}) THEN 'met'
                    WHEN abs(s.value - t.target) <= {tol} + {eps} THEN 'near'
                    ELSE 'not_met' END AS target_status
        FROM ({read_sql('unit_scorecard.sql')}) s
        JOIN unit_kpis k USING (kpi_id)
        LEFT JOIN {targets_source(con)} t
          ON t.unit_id = s.unit_id AND t.kpi_id = s.kpi_id AND t.year = year(s.period)"""


EMPTY_ROWS = """SELECT NULL::VARCHAR AS unit_id, NULL::VARCHAR AS municipality_code, NULL::VARCHAR AS kind,
       NULL::VARCHAR AS kpi_id, NULL::DATE AS period, NULL::DOUBLE AS value, NULL::INTEGER AS peer_n,
       NULL::DOUBLE AS peer_median, NULL::DOUBLE AS peer_min, NULL::DOUBLE AS peer_max, NULL::VARCHAR AS status,
       NULL::BOOLEAN AS is_demo, NULL::VARCHAR AS source, NULL::DOUBLE AS target,
       NULL::VARCHAR AS target_status WHERE false"""

NO_UNIT_KPIS = ("(SELECT NULL::VARCHAR AS kpi_id, NULL::VARCHAR AS perspective, NULL::VARCHAR AS frequency, "
                "NULL::BOOLEAN AS higher_is_better WHERE false)")


def run_units(con, same_rel: float = SAME_REL, trend_rel: float = TREND_REL, min_months: int = MIN_MONTHS,
              make_default: bool = False) -> str:
    """Compute and store the step's marts under the mart contract; returns the run_id. A
    warehouse without the unit views (built before them) gets a run with no rows."""
    config = units_config(same_rel, trend_rel, min_months)
    have_views = all(relation_exists(con, v) for v in ("org_units", "unit_values", "unit_kpis"))
    with transaction(con):
        run = start_run(con, "units", config, shipped=SHIPPED_CONFIG, make_default=make_default)
        store_query(con, "unit_scorecard", scorecard_sql(con) if have_views else EMPTY_ROWS,
                    {"same_rel": same_rel} if have_views else None, run)
        # the summary reads this run's scorecard rows (not the public view: the run may not be
        # the default)
        rows = f"(SELECT * FROM mart_unit_scorecard WHERE run_id = '{run.run_id}')"
        summary = read_sql("unit_kpi_summary.sql").replace("{rows}", rows)
        if not have_views:
            summary = summary.replace("FROM unit_kpis", f"FROM {NO_UNIT_KPIS}")
        store_query(con, "unit_kpi_summary", summary, {"trend_rel": trend_rel, "min_months": min_months}, run)
        counts = read_sql("unit_status_counts.sql").replace(
            "{summary}", f"(SELECT * FROM mart_unit_kpi_summary WHERE run_id = '{run.run_id}')")
        store_query(con, "unit_status_counts", counts, None, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (`styrkort rerun`, `refresh`)."""
    return run_units(con, float(config["same_rel"]), float(config["trend_rel"]), int(config["min_months"]),
                     make_default=make_default)
