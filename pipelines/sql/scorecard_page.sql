-- Scorecard page mart (/kommun/<code>): the default scorecard rows with the columns of the marts
-- the page shows beside each value, joined once here instead of on every request:
--   kpi_positions      place and quarter among all municipalities and in the size group ({positions})
--   similar_reference  the 'liknande kommuner' mean and n, and the structure year used ({similar})
--   target_status      this run's target of the municipality as a whole (unit_id NULL) for the year
-- Nothing is computed: every figure is its own mart's. {scorecard}, {positions} and {similar} are the public
-- views (the default runs), or empty relations when a step has not run (pipelines/targets.py);
-- $run_id is the targets run.
SELECT s.kpi_id, s.municipality_code, s.year, s.is_latest, s.value, s.size_group, s.group_mean,
       s.national_mean, s.is_demo, s.source,
       p.group_rank, p.group_n, p.status, p.national_rank, p.national_n, p.national_tied,
       p.national_band, p.group_tied, p.group_band,
       r.similar_mean, r.similar_n, r.similar_year,
       g.target, g.tolerance_used AS target_tolerance, g.tolerance_is_default AS target_tolerance_default,
       g.status AS target_status, g.gap AS target_gap, g.decided_by AS target_decided_by, g.target_is_demo
FROM {scorecard} s
LEFT JOIN {positions} p
       ON p.municipality_code = s.municipality_code AND p.kpi_id = s.kpi_id AND p.year = s.year
LEFT JOIN {similar} r
       ON r.municipality_code = s.municipality_code AND r.kpi_id = s.kpi_id AND r.year = s.year
LEFT JOIN (SELECT * FROM mart_target_status WHERE run_id = $run_id AND unit_id IS NULL) g
       ON g.municipality_code = s.municipality_code AND g.kpi_id = s.kpi_id AND g.year = s.year
WHERE s.value IS NOT NULL
