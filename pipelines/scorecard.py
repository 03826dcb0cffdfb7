"""Scorecard mart for the dashboard's Balansen page (seed 004: four perspectives, a unit
compared with others and over time). The model is pipelines/sql/economy_scorecard.sql; this
module runs it and stores the result sorted by municipality, KPI and year, so DuckDB's zone
maps let the page read one municipality's rows without scanning the rest."""
from __future__ import annotations

from pipelines.economy import read_sql, transaction
from pipelines.runs import record_run

SAME_REL = 0.02   # within ±2 % of the group mean counts as 'same' ...
SAME_SD = 0.1     # ... or within ±0.1 group standard deviations, whichever is wider

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
    return h
