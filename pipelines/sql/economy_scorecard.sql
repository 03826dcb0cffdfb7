-- Scorecard mart (Balansen page): one row per KPI with a Balansen perspective, municipality
-- and year (gender 'T'), with the references the page shows beside each value.
--   size_group      from municipality_years of that year; if that year has no population
--                   figure, the nearest year's (size_group_year says which year was used)
--   group_mean      unweighted mean over municipalities of the size group with a value that year
--   national_mean   unweighted mean over all municipalities with a value that year
--   group_rank      1 = best in the group given the KPI's direction, ties by municipality code;
--                   NULL for a KPI without direction
--   status          'better' / 'worse' than the group mean in the KPI's direction; 'same' when
--                   |value − group_mean| <= max(same_rel · |group_mean|, same_sd · group sd)
--                   (defaults 2 % and 0.1 sd); 'no_direction' for a KPI without direction
--   is_latest       true on the municipality's latest year with a value of the KPI: the row
--                   the scorecard shows by default ("senaste"), with the references of that year
-- Parameters: $same_rel, $same_sd.
WITH base AS (
    SELECT v.kpi_id, v.municipality_code, v.year, v.value, v.is_demo, v.source,
           k.perspective, k.higher_is_better, k.unit
    FROM kpi_values v
    JOIN kpis k USING (kpi_id)
    WHERE v.gender = 'T' AND k.perspective IS NOT NULL AND v.value IS NOT NULL
),
size AS (
    SELECT d.municipality_code, d.year, my.size_group, my.year AS size_group_year
    FROM (SELECT DISTINCT municipality_code, year FROM base) d
    JOIN municipality_years my USING (municipality_code)
    QUALIFY row_number() OVER (PARTITION BY d.municipality_code, d.year
                               ORDER BY abs(my.year - d.year), my.year DESC) = 1
),
joined AS (
    SELECT b.*, s.size_group, s.size_group_year
    FROM base b LEFT JOIN size s USING (municipality_code, year)
),
stats AS (
    SELECT *,
        avg(value)         OVER (PARTITION BY kpi_id, year, size_group) AS group_mean,
        stddev_samp(value) OVER (PARTITION BY kpi_id, year, size_group) AS group_sd,
        count(*)           OVER (PARTITION BY kpi_id, year, size_group) AS group_n,
        avg(value)         OVER (PARTITION BY kpi_id, year)             AS national_mean,
        count(*)           OVER (PARTITION BY kpi_id, year)             AS national_n,
        year = max(year)   OVER (PARTITION BY kpi_id, municipality_code) AS is_latest,
        CASE WHEN higher_is_better IS NULL THEN NULL
             ELSE row_number() OVER (
                PARTITION BY kpi_id, year, size_group
                ORDER BY CASE WHEN higher_is_better THEN -value ELSE value END, municipality_code)
        END AS group_rank,
        CASE WHEN higher_is_better IS NULL THEN NULL
             ELSE row_number() OVER (
                PARTITION BY kpi_id, year
                ORDER BY CASE WHEN higher_is_better THEN -value ELSE value END, municipality_code)
        END AS national_rank
    FROM joined
)
SELECT kpi_id, municipality_code, year, value, size_group, group_mean, national_mean,
       CAST(group_rank AS INTEGER) AS group_rank, CAST(group_n AS INTEGER) AS group_n,
       CASE
           WHEN higher_is_better IS NULL THEN 'no_direction'
           WHEN size_group IS NULL THEN NULL
           WHEN abs(value - group_mean) <= greatest($same_rel * abs(group_mean),
                                                    $same_sd * coalesce(group_sd, 0)) THEN 'same'
           WHEN (value > group_mean) = higher_is_better THEN 'better'
           ELSE 'worse'
       END AS status,
       is_demo, source, perspective, higher_is_better, unit, group_sd,
       CAST(national_rank AS INTEGER) AS national_rank, CAST(national_n AS INTEGER) AS national_n,
       size_group_year, is_latest
FROM stats
