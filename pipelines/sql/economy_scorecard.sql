-- Scorecard mart (Balansen page): one row per KPI with a Balansen perspective, municipality
-- and year (gender 'T'), with the references the page shows beside each value.
--   size_group      the one size-group rule: {size_groups} (pipelines/sql/size_groups.sql: the
--                   year's size group, else the nearest year's; size_group_year says which)
--   group_mean      unweighted mean over municipalities of the size group with a value that year
--   national_mean   unweighted mean over all municipalities with a value that year
--                   (both taken from {references}, the step's kpi_reference_series rows, so the
--                   scorecard and the reference lines are the same numbers)
--   group_rank      1 = best in the group given the KPI's direction, ties by municipality code;
--                   NULL for a KPI without direction
--   status          'better' / 'worse' than the group mean in the KPI's direction; 'same' when
--                   |value − group_mean| <= max(same_rel · |group_mean|, same_sd · group sd)
--                   (defaults 2 % and 0.1 sd); 'no_direction' for a KPI without direction
--   is_latest       true on the municipality's latest year with a value of the KPI: the row
--                   the scorecard shows by default ("senaste"), with the references of that year;
--                   never on a demo indicator whose real twin has values in some year (the real
--                   KPI is the latest figure then: demo_twin_years' 'senaste' row hides it)
-- Values come from effective_kpi_values (pipelines/effective.py): where a demo indicator's real
-- Kolada twin has values for a year, the demo values of that year are not here and the real KPI
-- (with the demo's perspective, from the preset) is — the demo gives way to real, decided there.
-- Parameters: $same_rel, $same_sd; {size_groups} and {references} are filled in by pipelines/scorecard.py.
WITH base AS (
    SELECT v.kpi_id, v.municipality_code, v.year, v.value, v.is_demo, v.source,
           k.perspective, k.higher_is_better, k.unit
    FROM effective_kpi_values v
    JOIN kpis k USING (kpi_id)
    WHERE v.gender = 'T' AND k.perspective IS NOT NULL AND v.value IS NOT NULL
),
joined AS (
    SELECT b.*, s.size_group, s.size_group_year, r.group_mean, r.group_n, nr.national_mean, nr.national_n
    FROM base b
    LEFT JOIN {size_groups} s USING (municipality_code, year)
    LEFT JOIN {references} r ON r.kpi_id = b.kpi_id AND r.year = b.year AND r.size_group = s.size_group
    LEFT JOIN (SELECT DISTINCT kpi_id, year, national_mean, national_n FROM {references}) nr
           ON nr.kpi_id = b.kpi_id AND nr.year = b.year
),
stats AS (
    SELECT *,
        stddev_samp(value) OVER (PARTITION BY kpi_id, year, size_group) AS group_sd,
        year = max(year)   OVER (PARTITION BY kpi_id, municipality_code)
            AND kpi_id NOT IN (SELECT hidden_kpi_id FROM demo_twin_years WHERE year IS NULL) AS is_latest,
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
SELECT kpi_id, municipality_code, year, value, size_group,
       CASE WHEN size_group IS NULL THEN NULL ELSE group_mean END AS group_mean, national_mean,
       CAST(group_rank AS INTEGER) AS group_rank,
       CAST(CASE WHEN size_group IS NULL THEN NULL ELSE group_n END AS INTEGER) AS group_n,
       CASE
           WHEN higher_is_better IS NULL THEN 'no_direction'
           WHEN size_group IS NULL THEN NULL
           -- + 1e-9 relative: a value exactly on the boundary counts as 'same' whatever the
           -- last bits of the float sums (the boundary is inclusive)
           WHEN abs(value - group_mean) <= greatest($same_rel * abs(group_mean),
                                                    $same_sd * coalesce(group_sd, 0))
                                           + 1e-9 * greatest(1, abs(group_mean)) THEN 'same'
           WHEN (value > group_mean) = higher_is_better THEN 'better'
           ELSE 'worse'
       END AS status,
       is_demo, source, perspective, higher_is_better, unit, group_sd,
       CAST(national_rank AS INTEGER) AS national_rank, CAST(national_n AS INTEGER) AS national_n,
       size_group_year, is_latest
FROM stats
