-- Per unit and Balansen perspective, plus one row 'all' per unit (pipelines/units.py, mart
-- unit_status_counts): how many of the unit's KPIs are better / same / worse than the median of
-- the other units of its kind, have no peers or no direction, or are missing in the current
-- month, and how many of its targets are met / near / not met. The counts /enhet/<unit_id>
-- prints under each perspective and /enheter prints per unit, counted once here.
-- Reads {summary} (the unit_kpi_summary rows of this run).
WITH s AS (SELECT * FROM {summary})
SELECT unit_id, municipality_code,
       CASE WHEN grouping(perspective) = 1 THEN 'all' ELSE perspective END AS perspective,
       max(current_period) AS current_period,
       CAST(count(*) AS INTEGER) AS n_kpis,
       CAST(count(*) FILTER (WHERE status = 'better') AS INTEGER) AS n_better,
       CAST(count(*) FILTER (WHERE status = 'same') AS INTEGER) AS n_same,
       CAST(count(*) FILTER (WHERE status = 'worse') AS INTEGER) AS n_worse,
       CAST(count(*) FILTER (WHERE status = 'missing' OR value IS NULL) AS INTEGER) AS n_missing,
       CAST(count(*) FILTER (WHERE value IS NOT NULL AND status IN ('no_direction', 'no_peers'))
            AS INTEGER) AS n_not_compared,
       CAST(count(target) AS INTEGER) AS n_targets,
       CAST(count(*) FILTER (WHERE target_status = 'met') AS INTEGER) AS n_target_met,
       CAST(count(*) FILTER (WHERE target_status = 'near') AS INTEGER) AS n_target_near,
       CAST(count(*) FILTER (WHERE target_status = 'not_met') AS INTEGER) AS n_target_not_met,
       bool_or(is_demo) AS is_demo
FROM s
WHERE perspective IS NOT NULL
GROUP BY GROUPING SETS ((unit_id, municipality_code, perspective), (unit_id, municipality_code))
