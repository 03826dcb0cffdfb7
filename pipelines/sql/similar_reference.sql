-- "Liknande kommuner" reference: per KPI with a Balansen perspective, municipality and year
-- (gender 'T'), the unweighted mean of the values of the municipality's 7 similar
-- municipalities in that year (those with a value: similar_n of 7).
--   similar_year  the structure year whose similar set is used: the KPI's year when it has a
--                 set, else the nearest year with one (the earlier on a tie) — e.g. demo KPIs
--                 of 2013 use the set of 2011, the last year with a standard cost
-- Reads the rows of the same run of mart_similar_municipalities ($run_id, written just before)
-- and the public views effective_kpi_values and kpis (pipelines/effective.py: a demo indicator has no
-- reference in a year its real Kolada twin has values; the real KPI has).
WITH vals AS (
    SELECT v.kpi_id, v.municipality_code, v.year, v.value
    FROM effective_kpi_values v JOIN kpis k USING (kpi_id)
    WHERE v.gender = 'T' AND k.perspective IS NOT NULL AND v.value IS NOT NULL AND isfinite(v.value)
),
sims AS (SELECT * FROM mart_similar_municipalities WHERE run_id = $run_id),
set_years AS (SELECT DISTINCT municipality_code, year FROM sims),
pick AS (
    SELECT d.municipality_code, d.year, s.year AS similar_year
    FROM (SELECT DISTINCT municipality_code, year FROM vals) d
    JOIN set_years s USING (municipality_code)
    QUALIFY row_number() OVER (PARTITION BY d.municipality_code, d.year
                               ORDER BY abs(s.year - d.year), s.year) = 1
)
-- ORDER BY in avg: a fixed summation order, so two runs give the same bits (a parallel hash
-- aggregate adds in any order; `styrkort rerun` and the kill test compare exactly)
SELECT v.kpi_id, p.municipality_code, p.year, p.similar_year,
       avg(o.value ORDER BY m.similar_code) AS similar_mean, CAST(count(o.value) AS INTEGER) AS similar_n
FROM pick p
JOIN sims m
  ON m.municipality_code = p.municipality_code AND m.year = p.similar_year
JOIN (SELECT DISTINCT kpi_id, municipality_code, year FROM vals) v
  ON v.municipality_code = p.municipality_code AND v.year = p.year
LEFT JOIN vals o
  ON o.kpi_id = v.kpi_id AND o.municipality_code = m.similar_code AND o.year = p.year
GROUP BY v.kpi_id, p.municipality_code, p.year, p.similar_year
