-- Scorecard status counts (the /kommun panels and the nämndrapport): per municipality, Balansen
-- perspective and year, how many of the perspective's KPIs are better / same / worse than the size
-- group, without direction, or without a value ("uppgift saknas"). year NULL = each KPI's latest
-- value (the scorecard's default "senaste" view, rows with is_latest). The KPIs of a perspective
-- are those of the scorecard run (every KPI with a perspective and a value somewhere).
-- $run_id: the scorecard run whose rows are counted.
WITH sc AS (
    SELECT municipality_code, kpi_id, perspective, year, status, is_latest
    FROM mart_scorecard WHERE run_id = $run_id
),
persp AS (SELECT perspective, count(DISTINCT kpi_id) AS n_kpis FROM sc GROUP BY perspective),
views AS (
    SELECT DISTINCT municipality_code, year FROM sc
    UNION ALL
    SELECT DISTINCT municipality_code, NULL::INTEGER AS year FROM sc
),
cells AS (SELECT v.municipality_code, v.year, p.perspective, p.n_kpis FROM views v CROSS JOIN persp p),
counted AS (
    SELECT c.municipality_code, c.perspective, c.year, c.n_kpis,
           count(s.kpi_id) AS n_with_value,
           count(s.kpi_id) FILTER (WHERE s.status = 'better') AS n_better,
           count(s.kpi_id) FILTER (WHERE s.status = 'same') AS n_same,
           count(s.kpi_id) FILTER (WHERE s.status = 'worse') AS n_worse,
           count(s.kpi_id) FILTER (WHERE s.status = 'no_direction') AS n_no_direction
    FROM cells c
    LEFT JOIN sc s ON s.municipality_code = c.municipality_code AND s.perspective = c.perspective
         AND ((c.year IS NULL AND s.is_latest) OR s.year = c.year)
    GROUP BY c.municipality_code, c.perspective, c.year, c.n_kpis
)
SELECT municipality_code, perspective, year,
       CAST(n_kpis AS INTEGER) AS n_kpis, CAST(n_with_value AS INTEGER) AS n_with_value,
       CAST(n_better AS INTEGER) AS n_better, CAST(n_same AS INTEGER) AS n_same,
       CAST(n_worse AS INTEGER) AS n_worse, CAST(n_no_direction AS INTEGER) AS n_no_direction,
       CAST(n_kpis - n_with_value AS INTEGER) AS n_missing
FROM counted
