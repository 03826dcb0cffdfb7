-- Scorecard series mart (the /kommun page): one row per municipality and KPI of the scorecard
-- mart, with the KPI's years and values (the sparkline) and its trend verdict, so the page
-- reads ~one row per KPI instead of one per KPI and year and needs no join at request time.
--   spark_years / spark_values  years with a value, ascending, and the values of those years
--   trend                       verdict of the `trends` mart for the KPI and municipality
--                               (NULL without a trends mart)
--   trends_run_id               pipeline_run.run_id of the trends run the verdicts come from:
--                               the page uses `trend` only while that is still the latest
--                               trends run (a later `styrkort trends --years N` makes it stale)
-- {trends} is a relation (kpi_id, municipality_code, verdict) filled in by pipelines/scorecard.py;
-- $trends_run_id its run id.
SELECT s.municipality_code, s.kpi_id,
       list(s.year ORDER BY s.year)  AS spark_years,
       list(s.value ORDER BY s.year) AS spark_values,
       any_value(t.verdict)          AS trend,
       CAST($trends_run_id AS VARCHAR) AS trends_run_id
FROM mart_scorecard s
LEFT JOIN (SELECT kpi_id, municipality_code, any_value(verdict) AS verdict
           FROM {trends} GROUP BY kpi_id, municipality_code) t
       ON t.kpi_id = s.kpi_id AND t.municipality_code = s.municipality_code
WHERE s.value IS NOT NULL AND s.year IS NOT NULL
GROUP BY s.municipality_code, s.kpi_id
