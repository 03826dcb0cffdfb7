-- municipality_size_groups: THE size-group rule for every reference (scorecard, kpi_reference_series,
-- grant uptake by size group). For each municipality and each year with a KPI value (gender 'T')
-- or a population figure: the size group of that year (view municipality_years: SKL 2010's small /
-- medium / large by population at 31 Dec, Glesbygdskommuner small); if that year has no population
-- figure, the nearest year's, the later one on a tie. size_group_year says which year was used.
-- The composite index's size groups and group ranks use the same file (for the index year).
-- {years} is a relation with a column `year` (pipelines.core.size_groups_sql fills it in).
WITH years AS ({years})
SELECT m.municipality_code, y.year, my.size_group, my.year AS size_group_year
FROM municipalities m
CROSS JOIN years y
JOIN municipality_years my ON my.municipality_code = m.municipality_code
QUALIFY row_number() OVER (PARTITION BY m.municipality_code, y.year
                           ORDER BY abs(my.year - y.year), my.year DESC) = 1
