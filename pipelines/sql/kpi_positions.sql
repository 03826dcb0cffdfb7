-- Quartile positions (the scorecard's status): one row per KPI with a Balansen perspective,
-- municipality and year (gender 'T', a value), with the municipality's place among all
-- municipalities with a value that year and within its size group.
--
-- The rule (stated on /kommun "Så läser du styrkortet" and on /om):
--   * municipalities are ordered best first in the KPI's direction (highest first for a KPI
--     without direction); only municipalities with a value count: n = how many have one;
--   * rank = 1 + the number strictly better; `tied` = how many share the value (itself
--     included), so a tie holds places rank … rank + tied − 1 and its position is the middle
--     of them, p = rank + (tied − 1) / 2: equal values always fall in the same band;
--   * band: 'best25' when p <= n/4, 'worst25' when n + 1 − p <= n/4 (p counted from the worst
--     end), otherwise 'middle50'; with 290 values that is places 1–72, 73–218 and 219–290;
--     a KPI without direction gets 'high25' / 'middle50' / 'low25' as information;
--     n < 4: no band (NULL);
--   * values are compared rounded to 9 decimals, so float noise never splits a tie;
--   * status = the national band for a KPI with direction, 'no_direction' without one,
--     'too_few' when fewer than 4 municipalities have a value.
-- size_group: the one size-group rule (pipelines/sql/size_groups.sql, filled in below), as the scorecard.
-- Values: effective_kpi_values, like the scorecard mart (pipelines/effective.py: a demo
-- indicator's years replaced by its real Kolada twin are not here, the real KPI is).
WITH base AS (
    SELECT v.kpi_id, v.municipality_code, v.year, v.value, k.higher_is_better
    FROM effective_kpi_values v
    JOIN kpis k USING (kpi_id)
    WHERE v.gender = 'T' AND k.perspective IS NOT NULL AND v.value IS NOT NULL AND isfinite(v.value)
),
directed AS (
    SELECT b.*, s.size_group,
           round(CASE WHEN b.higher_is_better = false THEN -b.value ELSE b.value END, 9) AS d
    FROM base b LEFT JOIN {size_groups} s USING (municipality_code, year)
),
ranked AS (
    SELECT *,
        rank()   OVER (PARTITION BY kpi_id, year ORDER BY d DESC)                 AS national_rank,
        count(*) OVER (PARTITION BY kpi_id, year)                                 AS national_n,
        count(*) OVER (PARTITION BY kpi_id, year, d)                              AS national_tied,
        rank()   OVER (PARTITION BY kpi_id, year, size_group ORDER BY d DESC)     AS group_rank,
        count(*) OVER (PARTITION BY kpi_id, year, size_group)                     AS group_n,
        count(*) OVER (PARTITION BY kpi_id, year, size_group, d)                  AS group_tied
    FROM directed
),
banded AS (
    SELECT *,
        CASE WHEN national_n < 4 THEN NULL
             WHEN 4 * (national_rank + (national_tied - 1) / 2) <= national_n THEN
                  CASE WHEN higher_is_better IS NULL THEN 'high25' ELSE 'best25' END
             WHEN 4 * (national_n + 1 - (national_rank + (national_tied - 1) / 2)) <= national_n THEN
                  CASE WHEN higher_is_better IS NULL THEN 'low25' ELSE 'worst25' END
             ELSE 'middle50' END AS national_band,
        CASE WHEN size_group IS NULL OR group_n < 4 THEN NULL
             WHEN 4 * (group_rank + (group_tied - 1) / 2) <= group_n THEN
                  CASE WHEN higher_is_better IS NULL THEN 'high25' ELSE 'best25' END
             WHEN 4 * (group_n + 1 - (group_rank + (group_tied - 1) / 2)) <= group_n THEN
                  CASE WHEN higher_is_better IS NULL THEN 'low25' ELSE 'worst25' END
             ELSE 'middle50' END AS group_band
    FROM ranked
)
SELECT kpi_id, municipality_code, year, value, size_group,
       CAST(national_rank AS INTEGER) AS national_rank, CAST(national_n AS INTEGER) AS national_n,
       CAST(national_tied AS INTEGER) AS national_tied, national_band,
       CAST(CASE WHEN size_group IS NULL THEN NULL ELSE group_rank END AS INTEGER) AS group_rank,
       CAST(CASE WHEN size_group IS NULL THEN NULL ELSE group_n END AS INTEGER) AS group_n,
       CAST(CASE WHEN size_group IS NULL THEN NULL ELSE group_tied END AS INTEGER) AS group_tied,
       group_band,
       CASE WHEN higher_is_better IS NULL THEN 'no_direction'
            WHEN national_n < 4 THEN 'too_few'
            ELSE national_band END AS status,
       higher_is_better
FROM banded
