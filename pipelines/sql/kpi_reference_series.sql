-- kpi_reference_series: per KPI (gender 'T'), year and size group the reference lines every page
-- and the PDF draw: the size group's unweighted mean and n, the national unweighted mean over the
-- municipalities with a value that year, its n and coverage (n / the municipalities of that year
-- in municipality_years; the warehouse's municipalities where a year has none) and low_coverage
-- (coverage under 90 %: /trender marks such a year of the "Riket" line, its mean is over a part).
-- {size_groups} is the step's municipality_size_groups relation (pipelines/sql/size_groups.sql).
-- Values: effective_kpi_values (pipelines/effective.py): a demo indicator has no reference line
-- in a year its real Kolada twin has values; the real KPI has.
WITH base AS (
    SELECT v.kpi_id, v.municipality_code, v.year, v.value, v.is_demo, v.source, s.size_group
    FROM effective_kpi_values v
    LEFT JOIN {size_groups} s ON s.municipality_code = v.municipality_code AND s.year = v.year
    WHERE v.gender = 'T' AND v.value IS NOT NULL
),
national AS (
    SELECT kpi_id, year, avg(value) AS national_mean, count(*) AS national_n,
           bool_or(coalesce(is_demo, false)) AS is_demo, mode(source) AS source
    FROM base GROUP BY kpi_id, year
),
grp AS (
    SELECT kpi_id, year, size_group, avg(value) AS group_mean, count(*) AS group_n
    FROM base WHERE size_group IS NOT NULL GROUP BY kpi_id, year, size_group
),
n_all AS (SELECT count(*) AS n_municipalities FROM municipalities),
n_year AS (SELECT year, count(DISTINCT municipality_code) AS n_municipalities FROM municipality_years GROUP BY year),
counted AS (
    SELECT n.*, CAST(greatest(coalesce(y.n_municipalities, a.n_municipalities), n.national_n) AS INTEGER)
                AS n_municipalities
    FROM national n CROSS JOIN n_all a LEFT JOIN n_year y USING (year)
)
SELECT g.kpi_id, g.year, g.size_group, g.group_mean, CAST(g.group_n AS INTEGER) AS group_n,
       n.national_mean, CAST(n.national_n AS INTEGER) AS national_n,
       n.n_municipalities,
       n.national_n / n.n_municipalities AS coverage,
       n.national_n / n.n_municipalities < {min_coverage} AS low_coverage,
       n.is_demo, n.source, k.unit
FROM grp g
JOIN counted n USING (kpi_id, year)
LEFT JOIN kpis k USING (kpi_id)
