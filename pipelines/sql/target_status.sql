-- Target fulfilment: one row per target of the `targets` view, judged against the value of its
-- year, in the KPI's direction.
--   value          municipality target: the KPI's value (gender 'T') that year; unit target:
--                  the mean of the unit's monthly values that year (n_months says how many)
--   tolerance_used the target's own tolerance, else the default $default_rel · |target|
--                  (tolerance_is_default says which)
--   status         'achieved'      value at or beyond the target in the good direction
--                  'near'          not achieved, but within tolerance_used of it
--                  'not_achieved'  further away
--                  'no_value'      no value for the target's year (yet)
--                  'no_direction'  the KPI has no direction: only the gap is shown
--                  (boundaries inclusive, with 1e-9 relative slack for float noise)
--   gap            value − target (signed, KPI unit)
-- Parameters: $default_rel. Reads the public views targets, kpi_values, unit_values, kpis.
WITH muni AS (
    SELECT t.*, v.value, v.is_demo AS value_is_demo, CAST(NULL AS INTEGER) AS n_months
    FROM targets t
    LEFT JOIN kpi_values v
      ON v.kpi_id = t.kpi_id AND v.municipality_code = t.municipality_code AND v.year = t.year
     AND v.gender = 'T'
    WHERE t.unit_id IS NULL
),
unit AS (
    SELECT t.municipality_code, t.kpi_id, t.year, t.unit_id, t.target, t.tolerance, t.decided_by,
           t.comment, t.source, t.is_demo,
           avg(u.value) AS value, bool_or(u.is_demo) AS value_is_demo,
           CAST(count(u.value) AS INTEGER) AS n_months
    FROM targets t
    LEFT JOIN unit_values u
      ON u.unit_id = t.unit_id AND u.kpi_id = t.kpi_id AND year(u.period) = t.year
    WHERE t.unit_id IS NOT NULL
    GROUP BY ALL
),
judged AS (
    SELECT b.*, k.higher_is_better, k.unit,
           coalesce(b.tolerance, $default_rel * abs(b.target)) AS tolerance_used,
           b.tolerance IS NULL AS tolerance_is_default,
           1e-9 * greatest(1, abs(b.target)) AS eps
    FROM (SELECT * FROM muni UNION ALL BY NAME SELECT * FROM unit) b
    JOIN kpis k USING (kpi_id)
)
SELECT municipality_code, kpi_id, year, unit_id, coalesce(unit_id, '') AS unit_key, target, tolerance, tolerance_used,
       tolerance_is_default, value, value - target AS gap, n_months,
       CASE WHEN value IS NULL THEN 'no_value'
            WHEN higher_is_better IS NULL THEN 'no_direction'
            WHEN higher_is_better AND value >= target - eps THEN 'achieved'
            WHEN higher_is_better AND value >= target - tolerance_used - eps THEN 'near'
            WHEN NOT higher_is_better AND value <= target + eps THEN 'achieved'
            WHEN NOT higher_is_better AND value <= target + tolerance_used + eps THEN 'near'
            ELSE 'not_achieved' END AS status,
       higher_is_better, unit, decided_by, comment, source,
       is_demo OR coalesce(value_is_demo, false) AS is_demo, is_demo AS target_is_demo
FROM judged
