"""Cost deviation, quality associations, trends, scorecard references and grant uptake.

`run_default(con)` is called by `pipelines.run_all` during `styrkort build`, after the
composite index. Each step lives in its own module and writes its marts (tables `mart_*`
with a public view over each, see ARCHITECTURE.md) and a run record:

| step            | module                          | views                                   |
|-----------------|---------------------------------|-----------------------------------------|
| cost            | pipelines/cost.py               | cost_deviation, cost_model              |
| associations    | pipelines/economy_associations.py | quality_associations                  |
| trends          | pipelines/trends.py             | trends                                  |
| scorecard       | pipelines/scorecard.py (+ sql/*.sql) | municipality_size_groups, kpi_reference_series, scorecard, scorecard_series |
| positions       | pipelines/positions.py (+ sql/kpi_positions.sql) | kpi_positions, scorecard_status_counts |
| similar         | pipelines/similar.py (+ sql/similar_reference.sql) | similar_municipalities, similar_reference |
| targets         | pipelines/targets.py (+ sql/target_status.sql, sql/target_status_counts.sql) | target_status, target_status_counts |
| whatif          | pipelines/whatif.py             | index_whatif, index_contributions       |
| grants          | pipelines/grants.py             | grant_uptake, grant_uptake_by_year, grant_uptake_by_size_group, grant_round_summary, grant_reconciliation, grant_not_applied_2013, stimulus_returns |

The shared helpers and the mart contract (store_rows, transaction, read_sql, relation_exists)
live in pipelines/core.py; the marts are declared in pipelines/marts/*.toml.
"""
from __future__ import annotations


def run_default(con) -> None:
    """Every economy step with its shipped configuration, all years, made the default."""
    from pipelines.cost import run_cost
    from pipelines.economy_associations import run_associations
    from pipelines.grants import run_grants
    from pipelines.positions import run_positions
    from pipelines.scorecard import run_scorecard
    from pipelines.similar import run_similar
    from pipelines.targets import run_target_status
    from pipelines.whatif import run_whatif
    from pipelines.trends import run_trends

    run_cost(con, make_default=True)
    run_associations(con, make_default=True)
    run_trends(con, make_default=True)
    run_scorecard(con, make_default=True)
    run_positions(con, make_default=True)
    run_similar(con, make_default=True)      # after cost: reads the standard cost
    run_target_status(con, make_default=True)
    run_whatif(con, make_default=True)       # after the index: every year's default index run
    run_grants(con, make_default=True)
