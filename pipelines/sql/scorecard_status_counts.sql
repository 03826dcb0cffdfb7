-- Scorecard status counts (the /kommun panels and the nämndrapport): per municipality, Balansen
-- perspective and year, how many of the perspective's KPIs are in the best / middle / worst 25 %
-- (kpi_positions.status), without direction ("information"), too few municipalities to place, or
-- without a value ("uppgift saknas"). year NULL = each KPI's latest value (the scorecard's default
-- "senaste" view). The KPIs of a perspective are those of the positions run (every KPI with a
-- perspective and a value somewhere), one per demo/real pair: in each year (and in the 'senaste'
-- view) the one of a pair that demo_twin_years does not show (hidden_kpi_id) is not counted, so
-- n_kpis is what the page lists (pipelines/effective.py). $run_id: the positions run counted.
WITH pos AS (
    SELECT p.municipality_code, p.kpi_id, k.perspective, p.year, p.status,
           p.year = max(p.year) OVER (PARTITION BY p.kpi_id, p.municipality_code) AS is_latest
    FROM mart_kpi_positions p JOIN kpis k USING (kpi_id)
    WHERE p.run_id = $run_id
),
kp AS (SELECT DISTINCT perspective, kpi_id FROM pos),
views AS (
    SELECT DISTINCT municipality_code, year FROM pos
    UNION ALL
    SELECT DISTINCT municipality_code, NULL::INTEGER AS year FROM pos
),
hidden AS (SELECT hidden_kpi_id AS kpi_id, year FROM demo_twin_years),
cells AS (
    SELECT v.municipality_code, v.year, kp.perspective, kp.kpi_id
    FROM views v CROSS JOIN kp
    ANTI JOIN hidden h ON h.kpi_id = kp.kpi_id AND h.year IS NOT DISTINCT FROM v.year
),
counted AS (
    SELECT c.municipality_code, c.perspective, c.year, count(*) AS n_kpis,
           count(s.kpi_id) AS n_with_value,
           count(s.kpi_id) FILTER (WHERE s.status = 'best25') AS n_best,
           count(s.kpi_id) FILTER (WHERE s.status = 'middle50') AS n_middle,
           count(s.kpi_id) FILTER (WHERE s.status = 'worst25') AS n_worst,
           count(s.kpi_id) FILTER (WHERE s.status = 'no_direction') AS n_no_direction,
           count(s.kpi_id) FILTER (WHERE s.status = 'too_few') AS n_too_few
    FROM cells c
    LEFT JOIN pos s ON s.municipality_code = c.municipality_code AND s.kpi_id = c.kpi_id
         AND ((c.year IS NULL AND s.is_latest) OR s.year = c.year)
    GROUP BY c.municipality_code, c.perspective, c.year
)
SELECT municipality_code, perspective, year,
       CAST(n_kpis AS INTEGER) AS n_kpis, CAST(n_with_value AS INTEGER) AS n_with_value,
       CAST(n_best AS INTEGER) AS n_best, CAST(n_middle AS INTEGER) AS n_middle,
       CAST(n_worst AS INTEGER) AS n_worst, CAST(n_no_direction AS INTEGER) AS n_no_direction,
       CAST(n_too_few AS INTEGER) AS n_too_few, CAST(n_kpis - n_with_value AS INTEGER) AS n_missing
FROM counted
