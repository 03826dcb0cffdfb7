-- Target counts of the scorecard's panels ("Mål: 4 av 6 uppnådda, 1 nära, 1 ej uppnått."): per
-- municipality, Balansen perspective and year (NULL = the 'senaste' view: each KPI at its latest
-- year), how many of the KPIs the scorecard lists with a value have a municipality target for the
-- year of that value, by status. The rows counted are the scorecard's own: the default scorecard
-- rows (public view scorecard) of that year with a value, or its is_latest rows, leaving out the
-- KPI of a demo/real pair that demo_twin_years hides in that view (as the page does); the target is
-- this run's target_status row for the whole municipality (unit_id NULL) and the value's year.
-- Only views with at least one target have a row (no row = no target: no summary line).
-- $run_id: the targets run counted.
WITH goals AS (
    SELECT municipality_code, kpi_id, year, status, is_demo
    FROM mart_target_status WHERE run_id = $run_id AND unit_id IS NULL
),
shown AS (
    SELECT s.municipality_code, s.kpi_id, s.year AS value_year, s.year AS view_year
    FROM scorecard s SEMI JOIN goals g USING (municipality_code, kpi_id, year)
    WHERE s.value IS NOT NULL
    UNION ALL
    SELECT s.municipality_code, s.kpi_id, s.year AS value_year, NULL::INTEGER AS view_year
    FROM scorecard s SEMI JOIN goals g USING (municipality_code, kpi_id, year)
    WHERE s.value IS NOT NULL AND s.is_latest
),
visible AS (
    SELECT * FROM shown
    ANTI JOIN demo_twin_years h ON h.hidden_kpi_id = shown.kpi_id AND h.year IS NOT DISTINCT FROM shown.view_year
)
SELECT v.municipality_code, k.perspective, v.view_year AS year,
       CAST(count(*) AS INTEGER) AS n_targets,
       CAST(count(*) FILTER (WHERE g.status = 'achieved') AS INTEGER) AS n_achieved,
       CAST(count(*) FILTER (WHERE g.status = 'near') AS INTEGER) AS n_near,
       CAST(count(*) FILTER (WHERE g.status = 'not_achieved') AS INTEGER) AS n_not_achieved,
       CAST(count(*) FILTER (WHERE g.status = 'no_direction') AS INTEGER) AS n_no_direction,
       bool_or(g.is_demo) AS is_demo
FROM visible v
JOIN goals g ON g.municipality_code = v.municipality_code AND g.kpi_id = v.kpi_id AND g.year = v.value_year
JOIN kpis k ON k.kpi_id = v.kpi_id
WHERE k.perspective IS NOT NULL
GROUP BY v.municipality_code, k.perspective, v.view_year
