-- The 290 municipalities: code, name and county as SCB's panel has them in its latest year
-- (Heby moved from Västmanland to Uppsala county in 2007), SKL's 2005 group by code.
-- Parameters: $panel (scb_municipality_panel.csv), $skl (skl_kommungrupper_2005.csv).
-- Needs temp table county_names(county_code, county_name).
INSERT INTO municipality (municipality_code, name, county_code, county_name, skl_group_2005)
WITH panel AS (
    SELECT municip_code AS municipality_code, municip_name AS name, county_code,
           row_number() OVER (PARTITION BY municip_code ORDER BY year DESC) AS latest
    FROM read_csv($panel, header = true, all_varchar = true)
),
skl AS (
    SELECT municipality_code, skl_group_2005
    FROM read_csv($skl, header = true, all_varchar = true)
)
SELECT p.municipality_code, p.name, p.county_code, c.county_name, s.skl_group_2005
FROM panel p
LEFT JOIN county_names c USING (county_code)
LEFT JOIN skl s USING (municipality_code)
WHERE p.latest = 1
ORDER BY p.municipality_code;
