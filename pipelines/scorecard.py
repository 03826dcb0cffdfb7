"""Scorecard and reference marts for the Balansen page and the trend charts (Stockholm 2005, the
follow-up model describing Göteborg's *Balansen*: four perspectives, a unit compared with others
and over time).

One step, one size-group rule (pipelines/sql/size_groups.sql), in this order:
- `municipality_size_groups`: per municipality and year the size group every reference uses
  (the year's own, else the nearest year's with a population figure).
- `kpi_reference_series` (pipelines/sql/kpi_reference_series.sql): per KPI, year and size group
  the group mean and n, the national mean, n and coverage — the reference lines of /trender and
  the PDF, and the numbers the scorecard's references are taken from.
- `scorecard` (pipelines/sql/economy_scorecard.sql): one row per KPI with a perspective,
  municipality and year, stored sorted by municipality, KPI and year, so DuckDB's zone maps let
  the page read one municipality's rows without scanning the rest.
- `scorecard_series` (pipelines/sql/scorecard_series.sql): one row per municipality and KPI
  with the sparkline lists and the default trends run's verdict code, same sort order; at Kolada
  scale (~550 perspective KPIs × 17 years) it spares the page aggregating ~9 000 rows per request.
(The page's status and its panel counts come from the positions step: pipelines/positions.py.)

Values come from effective_kpi_values (pipelines/effective.py: a demo indicator's years in which
its real Kolada twin has values are replaced by the real KPI there; decided there, not here).
Reads the public views only (effective_kpi_values, demo_twin_years, kpis, municipality_years, municipalities, and `trends`,
the default trends run: a trends run with other parameters does not change the verdicts here).
"""
from __future__ import annotations

from pipelines.core import read_sql, relation_exists, size_groups_sql, store_query, transaction
from pipelines.effective import ensure_effective
from pipelines.runs import start_run

SAME_REL = 0.02   # within ±2 % of the group mean counts as 'same' ...
SAME_SD = 0.1     # ... or within ±0.1 group standard deviations, whichever is wider
# A national mean over fewer than 90 % of the year's municipalities is marked (issue: "Riket"
# averaged 223 municipalities in 1999 and jumped); a fixed rule, part of the SQL model.
MIN_COVERAGE = 0.9

NO_TRENDS = ("(SELECT NULL::VARCHAR AS kpi_id, NULL::VARCHAR AS municipality_code, "
             "NULL::VARCHAR AS verdict, NULL::VARCHAR AS run_id WHERE false)")


def scorecard_config(same_rel: float = SAME_REL, same_sd: float = SAME_SD) -> dict:
    return {"model": "economy_scorecard.sql", "same_rel": same_rel, "same_sd": same_sd,
            "gender": "T", "means": "unweighted", "size_groups": "size_groups.sql (nearest year)",
            "trends": "default run"}


SHIPPED_CONFIG = scorecard_config()


def run_scorecard(con, same_rel: float = SAME_REL, same_sd: float = SAME_SD,
                  make_default: bool = False) -> str:
    """Compute and store the marts of the step; returns the run_id."""
    with transaction(con):
        ensure_effective(con)
        run = start_run(con, "scorecard", scorecard_config(same_rel, same_sd), shipped=SHIPPED_CONFIG,
                        make_default=make_default)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _size_groups AS {size_groups_sql()}")
        try:
            store_query(con, "municipality_size_groups", "SELECT * FROM _size_groups", None, run)
            refs = (read_sql("kpi_reference_series.sql").replace("{size_groups}", "_size_groups")
                    .replace("{min_coverage}", repr(MIN_COVERAGE)))
            con.execute(f"CREATE OR REPLACE TEMP TABLE _references AS {refs}")
            store_query(con, "kpi_reference_series", "SELECT * FROM _references", None, run)
            sql = (read_sql("economy_scorecard.sql").replace("{size_groups}", "_size_groups")
                   .replace("{references}", "_references"))
            store_query(con, "scorecard", sql, {"same_rel": same_rel, "same_sd": same_sd}, run)
            trends = "trends" if relation_exists(con, "trends") else NO_TRENDS
            series = read_sql("scorecard_series.sql").replace("{trends}", trends)
            store_query(con, "scorecard_series", series, {"run_id": run.run_id}, run)
        finally:
            con.execute("DROP TABLE IF EXISTS _size_groups")
            con.execute("DROP TABLE IF EXISTS _references")
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration."""
    return run_scorecard(con, float(config["same_rel"]), float(config["same_sd"]), make_default=make_default)
