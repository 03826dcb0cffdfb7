-- One row per unit, unit KPI and month the unit is followed (pipelines/units.py, mart unit_scorecard).
-- A month without a value is a row with value NULL and status 'missing': Balansen shows a missing
-- figure as missing. Peers: the OTHER units of the same municipality, kind and demo flag with a
-- value that month; status compares with their median (±$same_rel of it counts as 'same').
-- Reads the public views org_units, unit_values, unit_kpis.
WITH u AS (
    SELECT unit_id, municipality_code, kind, is_demo, valid_from, valid_to FROM org_units
),
k AS (
    SELECT kpi_id, higher_is_better FROM unit_kpis
),
v AS (
    SELECT x.unit_id, x.kpi_id, x.period, x.value, x.source
    FROM unit_values x JOIN k USING (kpi_id) JOIN u USING (unit_id)
),
-- the last month any unit of the municipality (same demo flag) reported: a unit that stops
-- reporting shows its months up to then as missing
last_month AS (
    SELECT u.municipality_code, u.is_demo, max(v.period) AS last_month
    FROM v JOIN u USING (unit_id) GROUP BY ALL
),
span AS (
    SELECT u.unit_id,
           greatest(min(v.period), coalesce(u.valid_from, min(v.period))) AS first_month,
           least(any_value(l.last_month), coalesce(u.valid_to, any_value(l.last_month))) AS last_month
    FROM u JOIN v USING (unit_id)
    JOIN last_month l ON l.municipality_code = u.municipality_code AND l.is_demo = u.is_demo
    GROUP BY u.unit_id, u.valid_from, u.valid_to
),
months AS (
    SELECT unit_id, CAST(unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS DATE) AS period
    FROM span WHERE first_month <= last_month
),
grid AS (
    SELECT m.unit_id, uk.kpi_id, m.period
    FROM months m JOIN (SELECT DISTINCT unit_id, kpi_id FROM v) uk USING (unit_id)
),
g AS (
    SELECT grid.unit_id, grid.kpi_id, grid.period, u.municipality_code, u.kind, u.is_demo, v.value, v.source
    FROM grid JOIN u USING (unit_id) LEFT JOIN v USING (unit_id, kpi_id, period)
),
peers AS (
    SELECT g.unit_id, g.kpi_id, g.period, count(p.value) AS peer_n, median(p.value) AS peer_median,
           min(p.value) AS peer_min, max(p.value) AS peer_max
    FROM g
    JOIN u pu ON pu.municipality_code = g.municipality_code AND pu.kind = g.kind AND pu.is_demo = g.is_demo
             AND pu.unit_id <> g.unit_id
    JOIN v p ON p.unit_id = pu.unit_id AND p.kpi_id = g.kpi_id AND p.period = g.period
    GROUP BY g.unit_id, g.kpi_id, g.period
)
SELECT g.unit_id, g.municipality_code, g.kind, g.kpi_id, g.period, g.value,
       CAST(coalesce(p.peer_n, 0) AS INTEGER) AS peer_n, p.peer_median, p.peer_min, p.peer_max,
       CASE WHEN g.value IS NULL THEN 'missing'
            WHEN k.higher_is_better IS NULL THEN 'no_direction'
            WHEN coalesce(p.peer_n, 0) = 0 THEN 'no_peers'
            WHEN abs(g.value - p.peer_median) <= $same_rel * abs(p.peer_median) THEN 'same'
            WHEN (g.value > p.peer_median) = k.higher_is_better THEN 'better'
            ELSE 'worse' END AS status,
       g.is_demo, g.source
FROM g JOIN k USING (kpi_id)
LEFT JOIN peers p USING (unit_id, kpi_id, period)
