"""Quartile positions: the scorecard's status, as Kolada's KKiK shows it — where a municipality
stands among all municipalities (and within its size group): among the best 25 %, the middle
50 % or the worst 25 %. The rule is in pipelines/sql/kpi_positions.sql and stated on the
scorecard ("Så läser du styrkortet") and on /om, from the same catalogue texts.

Marts (pipelines/marts/):
- `kpi_positions`: one row per KPI with a perspective, municipality and year; stored sorted by
  municipality so the scorecard reads one municipality's rows cheaply.
- `scorecard_status_counts` (pipelines/sql/scorecard_status_counts.sql): per municipality,
  perspective and year (NULL = each KPI's latest value) how many KPIs are in the best / middle /
  worst quarter, without direction, too few to place, or without a value — the counts of the
  /kommun panels and the nämndrapport.
Both read effective_kpi_values and count one KPI per demo/real pair (pipelines/effective.py)."""
from __future__ import annotations

from pipelines.core import read_sql, size_groups_sql, store_query, transaction
from pipelines.effective import ensure_effective
from pipelines.runs import start_run

MIN_N = 4            # fewer municipalities with a value: no quartile
TIE_DECIMALS = 9     # values compared rounded, so float noise never splits a tie

CONFIG = {"model": "kpi_positions.sql", "rule": "rank <= n/4 best, rank from worst <= n/4 worst",
          "ties": "competition rank (equal values share the best place)", "min_n": MIN_N,
          "tie_decimals": TIE_DECIMALS, "missing": "not counted (n = municipalities with a value)",
          "size_groups": "the year's, else the nearest year's", "gender": "T"}


def run_positions(con, make_default: bool = False) -> str:
    """Compute and store `kpi_positions` and `scorecard_status_counts`; returns the run_id."""
    sql = read_sql("kpi_positions.sql").replace("{size_groups}", f"({size_groups_sql()})")
    with transaction(con):
        ensure_effective(con)   # reads effective_kpi_values and demo_twin_years (demo gives way to real)
        run = start_run(con, "positions", CONFIG, shipped=CONFIG, make_default=make_default)
        store_query(con, "kpi_positions", sql, None, run)
        store_query(con, "scorecard_status_counts", read_sql("scorecard_status_counts.sql"),
                    {"run_id": run.run_id}, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (the rule has no adjustable parameter)."""
    if config != CONFIG:
        raise ValueError("the recorded positions configuration differs from this version's rule")
    return run_positions(con, make_default=make_default)
