-- Demo twins and their real KPIs per year (mart demo_twin_years, pipelines/effective.py).
-- One row per demo indicator with a real twin (kpis.stands_for) and year of {years} (every year
-- with a KPI value or a population figure), plus one row with year NULL for the 'senaste' view:
--   demo_n_values / real_n_values  municipalities of the warehouse with a value (gender 'T')
--   superseded      the real KPI has a value that year (NULL row: in some year): the demo twin
--                   gives way — its rows of that year are not in effective_kpi_values
--   real_complete   every municipality has a real value (the SKL 2010 completeness rule): the
--                   index uses the real KPI in the demo twin's place that year
--   shown_kpi_id    which of the pair the pages show (one row per pair, never both): the real
--                   KPI where it has a value, else the demo where it has one, else the real KPI
--                   if it has values in some year, else the demo; hidden_kpi_id the other one
WITH twins AS (
    SELECT kpi_id AS demo_kpi_id, stands_for AS real_kpi_id FROM kpis WHERE stands_for IS NOT NULL
),
munis AS (SELECT municipality_code FROM municipalities),
n AS (SELECT count(*) AS n_municipalities FROM munis),
vals AS (
    SELECT DISTINCT v.kpi_id, v.year, v.municipality_code
    FROM kpi_values v
    WHERE v.gender = 'T' AND v.value IS NOT NULL AND isfinite(v.value)
      AND v.municipality_code IN (SELECT municipality_code FROM munis)
      AND v.kpi_id IN (SELECT demo_kpi_id FROM twins UNION ALL SELECT real_kpi_id FROM twins)
),
counts AS (SELECT kpi_id, year, count(*) AS n_values FROM vals GROUP BY kpi_id, year),
ever AS (SELECT kpi_id, count(DISTINCT municipality_code) AS n_values FROM vals GROUP BY kpi_id),
years AS (SELECT DISTINCT year FROM ({years}) y WHERE year IS NOT NULL),
per_year AS (
    SELECT t.demo_kpi_id, t.real_kpi_id, y.year,
           coalesce(d.n_values, 0) AS demo_n, coalesce(r.n_values, 0) AS real_n,
           coalesce(re.n_values, 0) > 0 AS real_ever
    FROM twins t CROSS JOIN years y
    LEFT JOIN counts d ON d.kpi_id = t.demo_kpi_id AND d.year = y.year
    LEFT JOIN counts r ON r.kpi_id = t.real_kpi_id AND r.year = y.year
    LEFT JOIN ever re ON re.kpi_id = t.real_kpi_id
    UNION ALL
    SELECT t.demo_kpi_id, t.real_kpi_id, NULL::INTEGER AS year,
           coalesce(d.n_values, 0), coalesce(r.n_values, 0), coalesce(r.n_values, 0) > 0
    FROM twins t
    LEFT JOIN ever d ON d.kpi_id = t.demo_kpi_id
    LEFT JOIN ever r ON r.kpi_id = t.real_kpi_id
),
decided AS (
    SELECT p.*, n.n_municipalities,
           CASE WHEN p.real_n > 0 THEN p.real_kpi_id
                WHEN p.demo_n > 0 THEN p.demo_kpi_id
                WHEN p.real_ever THEN p.real_kpi_id
                ELSE p.demo_kpi_id END AS shown_kpi_id
    FROM per_year p CROSS JOIN n
)
SELECT demo_kpi_id, real_kpi_id, year,
       CAST(demo_n AS INTEGER) AS demo_n_values, CAST(real_n AS INTEGER) AS real_n_values,
       CAST(n_municipalities AS INTEGER) AS n_municipalities,
       real_n > 0 AS superseded,
       CASE WHEN year IS NULL THEN NULL ELSE real_n > 0 AND real_n = n_municipalities END AS real_complete,
       shown_kpi_id,
       CASE WHEN shown_kpi_id = demo_kpi_id THEN real_kpi_id ELSE demo_kpi_id END AS hidden_kpi_id
FROM decided
