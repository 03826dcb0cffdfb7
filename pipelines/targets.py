"""Target fulfilment: each target a committee decided (the `targets` view, `styrkort import
targets`) judged against the value of its year — "uppnått", "nära" (within the tolerance) or
"ej uppnått", in the KPI's direction. The rule is in pipelines/sql/target_status.sql and stated
on the scorecard ("Så läser du styrkortet") and on /om.

Mart `target_status` (pipelines/marts/target_status.toml): one row per target, sorted by
municipality; the scorecard shows a municipality target beside the value of the same year, the
nämndrapport PDF and the scorecard download list them.
Mart `target_status_counts` (pipelines/sql/target_status_counts.sql): per municipality,
perspective and scorecard view (a year, or NULL = 'senaste') how many of the KPIs the scorecard
lists have a target and how many are achieved / near / not achieved — the "Mål: 4 av 6
uppnådda" line of the /kommun panels and the nämndrapport, counted here once. It counts the
default scorecard's rows, so the step runs after `scorecard` (and again when its default changes).
`styrkort import targets` recomputes the step's default run in its own transaction, so an
imported target shows at once.
Mart `scorecard_page` (pipelines/sql/scorecard_page.sql): the default scorecard rows with their
kpi_positions, similar_reference and (this run's) target_status columns joined, so /kommun/<code>
reads its rows in one point read instead of joining four marts per request. Nothing is computed
there; built here because targets is the last of the four steps, and the step reruns whenever
the default of scorecard, positions or similar changes (pipelines/steps.py DEPENDANTS)."""
from __future__ import annotations

from pipelines.core import declaration, read_sql, relation_exists, store_query, transaction
from pipelines.effective import ensure_effective
from pipelines.runs import start_run

DEFAULT_TOLERANCE_REL = 0.05   # no tolerance given: 5 % of |target| counts as "nära"

CONFIG = {"model": "target_status.sql", "default_tolerance": "5 % of |target|",
          "default_tolerance_rel": DEFAULT_TOLERANCE_REL,
          "near": "within tolerance of the target on the wrong side", "boundaries": "inclusive",
          "unit_value": "mean of the unit's monthly values in the target's year", "gender": "T"}

EMPTY_TARGETS = """CREATE OR REPLACE VIEW targets AS
SELECT NULL::VARCHAR AS municipality_code, NULL::VARCHAR AS kpi_id, NULL::INTEGER AS year,
       NULL::VARCHAR AS unit_id, NULL::DOUBLE AS target, NULL::DOUBLE AS tolerance,
       NULL::VARCHAR AS decided_by, NULL::VARCHAR AS comment, NULL::VARCHAR AS source,
       NULL::BOOLEAN AS is_demo WHERE false"""

# a warehouse without the scorecard mart (the scorecard step never ran): nothing is listed, so
# nothing is counted — the counts' only rows to judge are the scorecard's
NO_SCORECARD = ("(SELECT NULL::VARCHAR AS municipality_code, NULL::VARCHAR AS kpi_id, NULL::INTEGER AS year, "
                "NULL::DOUBLE AS value, NULL::BOOLEAN AS is_latest WHERE false)")


def run_target_status(con, default_rel: float = DEFAULT_TOLERANCE_REL, make_default: bool = False) -> str:
    """Compute and store `target_status` and `target_status_counts` as one run of the step
    `targets`; returns the run_id."""
    config = dict(CONFIG, default_tolerance_rel=float(default_rel))
    with transaction(con):
        if not relation_exists(con, "targets"):
            # a warehouse from before targets existed: no targets yet, an empty mart
            con.execute(EMPTY_TARGETS)
        run = start_run(con, "targets", config, shipped=CONFIG, make_default=make_default)
        store_query(con, "target_status", read_sql("target_status.sql"),
                    {"default_rel": float(default_rel)}, run)
        ensure_effective(con)   # demo_twin_years: which KPI of a demo/real pair the scorecard shows
        counts = read_sql("target_status_counts.sql")
        if not relation_exists(con, "scorecard"):
            counts = counts.replace("FROM scorecard s", f"FROM {NO_SCORECARD} s")
        store_query(con, "target_status_counts", counts, {"run_id": run.run_id}, run)
        store_query(con, "scorecard_page", _page_sql(con), {"run_id": run.run_id}, run)
    return run.run_id


def _page_sql(con) -> str:
    """pipelines/sql/scorecard_page.sql with the public views it joins, or empty relations of
    their declared columns when a step has not run yet (the page then has no rows, or no
    positions or similar columns, as when it joined them per request)."""
    sql = read_sql("scorecard_page.sql")
    for view, placeholder in (("scorecard", "{scorecard}"), ("kpi_positions", "{positions}"),
                              ("similar_reference", "{similar}")):
        sql = sql.replace(placeholder, view if relation_exists(con, view) else _empty(view))
    return sql


def _empty(mart: str) -> str:
    """An empty relation with the declared columns of `mart` (a step that has not run)."""
    cols = ", ".join(f"NULL::{c.type} AS {c.name}" for c in declaration(mart).columns)
    return f"(SELECT {cols} WHERE false)"


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (only the default tolerance share is adjustable)."""
    fixed = {k: v for k, v in CONFIG.items() if k != "default_tolerance_rel"}
    if {k: v for k, v in config.items() if k != "default_tolerance_rel"} != fixed:
        raise ValueError("the recorded targets configuration differs from this version's rule")
    return run_target_status(con, float(config["default_tolerance_rel"]), make_default=make_default)
