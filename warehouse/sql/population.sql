-- Population at 31 December of `year`, one row per municipality and year from 1998 to the
-- last SCB year. Preference: SCB panel (panel year t holds 31 Dec t-1), else Kolada
-- N01938 (inhabitants 65+) / N01960 (share 65+, %) × 100, else linear interpolation between
-- the nearest known years, else (before a municipality existed) the nearest known year.
-- population_source says which.
INSERT INTO population (municipality_code, year, population, population_source)
WITH scb AS (
    SELECT municipality_code, panel_year - 1 AS year, population,
           format('SCB 31 dec {} (panel {})', panel_year - 1, panel_year) AS population_source
    FROM scb_panel
    WHERE population IS NOT NULL
),
kolada AS (
    SELECT a.municipality_code, a.year,
           CAST(round(a.value / b.value * 100) AS BIGINT) AS population,
           format('Kolada N01938/N01960, 31 dec {}', a.year) AS population_source
    FROM kpi_values a
    JOIN kpi_values b ON b.municipality_code = a.municipality_code AND b.year = a.year
                    AND b.gender = 'T' AND b.kpi_id = 'N01960' AND NOT b.is_demo
    WHERE a.kpi_id = 'N01938' AND a.gender = 'T' AND NOT a.is_demo
      AND a.value > 0 AND b.value > 0
),
known AS (
    SELECT * FROM scb
    UNION ALL
    SELECT k.* FROM kolada k ANTI JOIN scb s USING (municipality_code, year)
),
grid AS (
    SELECT m.municipality_code, unnest(range(1998, (SELECT max(year) FROM scb) + 1)) AS year
    FROM municipality m
),
filled AS (
    SELECT g.municipality_code, g.year, k.population, k.population_source,
           last_value(CASE WHEN k.population IS NOT NULL THEN g.year END IGNORE NULLS) OVER before_ AS y_prev,
           last_value(k.population IGNORE NULLS) OVER before_ AS p_prev,
           first_value(CASE WHEN k.population IS NOT NULL THEN g.year END IGNORE NULLS) OVER after_ AS y_next,
           first_value(k.population IGNORE NULLS) OVER after_ AS p_next
    FROM grid g
    LEFT JOIN known k USING (municipality_code, year)
    WINDOW before_ AS (PARTITION BY g.municipality_code ORDER BY g.year
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
           after_  AS (PARTITION BY g.municipality_code ORDER BY g.year
                       ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
)
SELECT municipality_code, year,
       CASE WHEN population IS NOT NULL THEN population
            WHEN y_prev IS NOT NULL AND y_next IS NOT NULL
                 THEN CAST(round(p_prev + (p_next - p_prev) * (year - y_prev) / (y_next - y_prev)) AS BIGINT)
            ELSE coalesce(p_next, p_prev) END AS population,
       CASE WHEN population IS NOT NULL THEN population_source
            WHEN y_prev IS NOT NULL AND y_next IS NOT NULL
                 THEN format('interpolerad {}–{}', y_prev, y_next)
            ELSE format('extrapolerad: uppgift saknas, värdet för {}', coalesce(y_next, y_prev)) END
FROM filled
WHERE population IS NOT NULL OR p_prev IS NOT NULL OR p_next IS NOT NULL
ORDER BY 1, 2;
