"""Scorecard marts for the dashboard's Balansen page (seed 004: four perspectives, a unit
compared with others and over time).

- `scorecard` (model pipelines/sql/economy_scorecard.sql): one row per KPI, municipality and
  year, stored sorted by municipality, KPI and year, so DuckDB's zone maps let the page read one
  municipality's rows without scanning the rest.
- `scorecard_series` (model pipelines/sql/scorecard_series.sql): one row per municipality and
  KPI with the sparkline lists and the trend verdict, same sort order; at Kolada scale
  (~550 perspective KPIs × 17 years) it spares the page aggregating ~9 000 rows per request."""
from __future__ import annotations

from pipelines.core import read_sql, relation_exists, transaction
from pipelines.runs import record_run

SAME_REL = 0.02   # within ±2 % of the group mean counts as 'same' ...
SAME_SD = 0.1     # ... or within ±0.1 group standard deviations, whichever is wider

NO_TRENDS = "(SELECT NULL::VARCHAR AS kpi_id, NULL::VARCHAR AS municipality_code, NULL::VARCHAR AS verdict WHERE false)"


def _latest_trends_run(con) -> str | None:
    """run_id of the latest `trends` run (the one the trends mart holds), None if none."""
    if not relation_exists(con, "trends"):
        return None
    row = con.execute("SELECT run_id FROM pipeline_run WHERE step = 'trends' "
                      "ORDER BY started_at DESC LIMIT 1").fetchall()
    return row[0][0] if row else None


def run_scorecard(con, same_rel: float = SAME_REL, same_sd: float = SAME_SD) -> str:
    config = {"model": "economy_scorecard.sql", "same_rel": same_rel, "same_sd": same_sd,
              "gender": "T", "means": "unweighted"}
    sql = read_sql("economy_scorecard.sql")
    with transaction(con):
        _, h = record_run(con, "scorecard", config)
        con.execute(
            f"""CREATE OR REPLACE TABLE mart_scorecard AS
                SELECT *, $config_hash AS config_hash FROM ({sql})
                ORDER BY municipality_code, kpi_id, year""",
            {"same_rel": same_rel, "same_sd": same_sd, "config_hash": h},
        )
        con.execute("CREATE OR REPLACE VIEW scorecard AS SELECT * FROM mart_scorecard")
        run_id = _latest_trends_run(con)
        series = read_sql("scorecard_series.sql").replace(
            "{trends}", "trends" if run_id is not None else NO_TRENDS)
        con.execute(
            f"""CREATE OR REPLACE TABLE mart_scorecard_series AS
                SELECT * FROM ({series}) ORDER BY municipality_code, kpi_id""",
            {"trends_run_id": run_id},
        )
        con.execute("CREATE OR REPLACE VIEW scorecard_series AS SELECT * FROM mart_scorecard_series")
    return h
