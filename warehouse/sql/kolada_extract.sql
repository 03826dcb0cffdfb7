-- The Kolada extract 1998–2011 (long: Variabelkod, Kommun, År, Värde) into kpi_value.
-- Needs temp tables stg_kolada_extract (the file as read, with each row's source text) and
-- extract_names(name, municipality_code), and the sources in value_source (loaders.py adds them).
-- Counts of inhabitants equal to 0 (N01918, N01938) are Kolada's placeholders for Knivsta
-- before it was formed (2003); no municipality has zero inhabitants, so they are left out.
INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source_id)
SELECT e.kpi_id, n.municipality_code, e.year, 'T', e.value, s.source_id
FROM stg_kolada_extract e
JOIN extract_names n ON n.name = e.name
JOIN value_source s ON s.source = e.source AND NOT s.is_demo
WHERE NOT (e.kpi_id IN ('N01918', 'N01938') AND e.value = 0)
ORDER BY 1, 2, 3;
