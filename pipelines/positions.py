"""Quartile positions: the scorecard's status, as Kolada's KKiK shows it — where a municipality
stands among all municipalities (and within its size group): among the best 25 %, the middle
50 % or the worst 25 %. The rule is in pipelines/sql/kpi_positions.sql and stated on the
scorecard ("Så läser du styrkortet") and on /om, from the same catalogue texts.

Mart `kpi_positions`: one row per KPI with a perspective, municipality and year; stored sorted
by municipality so the scorecard reads one municipality's rows cheaply."""
from __future__ import annotations

from pipelines.core import read_sql, transaction
from pipelines.runs import record_run

MIN_N = 4            # fewer municipalities with a value: no quartile
TIE_DECIMALS = 9     # values compared rounded, so float noise never splits a tie

CONFIG = {"model": "kpi_positions.sql", "rule": "rank <= n/4 best, rank from worst <= n/4 worst",
          "ties": "competition rank (equal values share the best place)", "min_n": MIN_N,
          "tie_decimals": TIE_DECIMALS, "missing": "not counted (n = municipalities with a value)",
          "size_groups": "the year's, else the nearest year's", "gender": "T"}


def run_positions(con) -> str:
    """Compute and store `kpi_positions`; returns the config hash."""
    sql = read_sql("kpi_positions.sql")
    with transaction(con):
        _, h = record_run(con, "positions", CONFIG)
        con.execute(f"""CREATE OR REPLACE TABLE mart_kpi_positions AS
                        SELECT *, $config_hash AS config_hash FROM ({sql})
                        ORDER BY municipality_code, kpi_id, year""", {"config_hash": h})
        con.execute("CREATE OR REPLACE VIEW kpi_positions AS SELECT * FROM mart_kpi_positions")
    return h
