-- One row per unit and KPI (pipelines/units.py, mart unit_kpi_summary): what /enhet/<unit_id>
-- shows. The unit's current month is its latest month with any value; a monthly KPI shows that
-- month (missing if not reported), a yearly one (survey) its latest value in the 12 months up to
-- it. 12-month means (this year and the one before, robust to the summer/winter swing) give the
-- trend; the last 24 months are the sparkline, NULL where a month is missing.
-- Reads {rows} (the unit_scorecard rows of this run) and the public view unit_kpis.
WITH r AS (SELECT * FROM {rows}),
k AS (SELECT kpi_id, perspective, frequency, higher_is_better FROM unit_kpis),
cur AS (
    SELECT unit_id, max(period) FILTER (WHERE value IS NOT NULL) AS current_period FROM r GROUP BY unit_id
),
pick AS (
    SELECT r.*, cur.current_period,
           row_number() OVER (PARTITION BY r.unit_id, r.kpi_id
                              ORDER BY (r.value IS NOT NULL) DESC, r.period DESC) AS rn
    FROM r JOIN cur USING (unit_id) JOIN k USING (kpi_id)
    WHERE r.period = cur.current_period
       OR (k.frequency = 'year' AND r.period > cur.current_period - INTERVAL 12 MONTH
           AND r.period <= cur.current_period)
),
win AS (
    SELECT r.unit_id, r.kpi_id,
           avg(r.value) FILTER (WHERE r.period > c.current_period - INTERVAL 12 MONTH) AS mean_12m,
           avg(r.value) FILTER (WHERE r.period <= c.current_period - INTERVAL 12 MONTH
                                  AND r.period > c.current_period - INTERVAL 24 MONTH) AS mean_prev_12m,
           count(r.value) FILTER (WHERE r.period > c.current_period - INTERVAL 12 MONTH) AS months_12,
           count(r.value) FILTER (WHERE r.period <= c.current_period - INTERVAL 12 MONTH
                                    AND r.period > c.current_period - INTERVAL 24 MONTH) AS months_prev_12,
           list(strftime(r.period, '%Y-%m') ORDER BY r.period)
               FILTER (WHERE r.period > c.current_period - INTERVAL 24 MONTH) AS spark_periods,
           list(r.value ORDER BY r.period)
               FILTER (WHERE r.period > c.current_period - INTERVAL 24 MONTH) AS spark_values,
           list(r.peer_median ORDER BY r.period)
               FILTER (WHERE r.period > c.current_period - INTERVAL 24 MONTH) AS spark_peer_median
    FROM r JOIN cur c USING (unit_id)
    WHERE r.period <= c.current_period
    GROUP BY r.unit_id, r.kpi_id
)
SELECT p.unit_id, p.municipality_code, p.kind, p.kpi_id, k.perspective, k.frequency,
       p.current_period, p.period AS value_period, p.value, p.peer_n, p.peer_median, p.peer_min, p.peer_max,
       p.status, p.target, p.target_status,
       w.mean_12m, w.mean_prev_12m,
       CAST(w.months_12 AS INTEGER) AS months_12, CAST(w.months_prev_12 AS INTEGER) AS months_prev_12,
       CASE WHEN k.higher_is_better IS NULL THEN 'no_direction'
            WHEN w.months_12 < (CASE WHEN k.frequency = 'year' THEN 1 ELSE $min_months END)
              OR w.months_prev_12 < (CASE WHEN k.frequency = 'year' THEN 1 ELSE $min_months END)
              OR w.mean_prev_12m IS NULL THEN 'too_few'
            WHEN abs(w.mean_12m - w.mean_prev_12m) <= $trend_rel * abs(w.mean_prev_12m) THEN 'no_change'
            WHEN (w.mean_12m > w.mean_prev_12m) = k.higher_is_better THEN 'improving'
            ELSE 'worsening' END AS trend,
       w.spark_periods, w.spark_values, w.spark_peer_median,
       p.is_demo, p.source
FROM pick p JOIN k USING (kpi_id) JOIN win w USING (unit_id, kpi_id)
WHERE p.rn = 1
