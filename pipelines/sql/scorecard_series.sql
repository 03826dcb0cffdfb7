-- Scorecard series mart (the /kommun page): one row per municipality and KPI of the scorecard
-- run, with the KPI's years and values (the sparkline) and its trend verdict code, so the page
-- reads ~one row per KPI instead of one per KPI and year and needs no join at request time.
--   spark_years / spark_values  years with a value, ascending, and the values of those years
--   trend                       verdict code of the default trends run (public view `trends`)
--                               for the KPI and municipality; NULL without one
--   trends_run_id               run_id of that trends run
-- {trends} is a relation (kpi_id, municipality_code, verdict, run_id) filled in by
-- pipelines/scorecard.py; $run_id is the scorecard run whose rows are summarised.
SELECT s.municipality_code, s.kpi_id,
       list(s.year ORDER BY s.year)  AS spark_years,
       list(s.value ORDER BY s.year) AS spark_values,
       any_value(t.verdict)          AS trend,
       (SELECT any_value(run_id) FROM {trends}) AS trends_run_id
FROM mart_scorecard s
LEFT JOIN (SELECT kpi_id, municipality_code, any_value(verdict) AS verdict
           FROM {trends} GROUP BY kpi_id, municipality_code) t
       ON t.kpi_id = s.kpi_id AND t.municipality_code = s.municipality_code
WHERE s.run_id = $run_id AND s.value IS NOT NULL AND s.year IS NOT NULL
GROUP BY s.municipality_code, s.kpi_id
