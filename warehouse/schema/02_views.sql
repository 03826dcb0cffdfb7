-- PUBLIC CONTRACT. Analysts' notebooks, the pipelines and the dashboard read these views only.
-- Names and listed columns are stable; adding columns is fine, renaming is a breaking change.

CREATE OR REPLACE VIEW municipalities AS
SELECT municipality_code, name, county_code, county_name, skl_group_2005,
       skl_group_2005 = 'Glesbygdskommuner' AS is_glesbygd
FROM municipality;

-- Size groups as in SKL 2010, Öppna jämförelser analys (footnote 4): small = under 12 500 inhabitants or an
-- SKL 2005 Glesbygdskommun; medium = 12 500–50 000; large = over 50 000.
CREATE OR REPLACE VIEW municipality_years AS
SELECT p.municipality_code, p.year, p.population,
       CASE WHEN p.population < 12500 OR m.skl_group_2005 = 'Glesbygdskommuner' THEN 'small'
            WHEN p.population <= 50000 THEN 'medium'
            ELSE 'large' END AS size_group,
       p.population_source
FROM population p JOIN municipality m USING (municipality_code);

-- Metadata a kpi row lacks comes from the preset that lists the KPI (kpi_preset); stands_for
-- is the real Kolada KPI a demo indicator stands in for (NULL for every other KPI).
CREATE OR REPLACE VIEW kpis AS
SELECT k.kpi_id, k.title, k.description,
       coalesce(k.unit, p.unit) AS unit,
       CASE WHEN k.higher_is_better IS NULL THEN p.higher_is_better ELSE k.higher_is_better END AS higher_is_better,
       coalesce(k.perspective, p.perspective) AS perspective,
       coalesce(k.area, p.area) AS area,
       k.source, k.is_demo,
       t.real_kpi_id AS stands_for
FROM kpi k
LEFT JOIN kpi_preset p ON p.kpi_id = k.kpi_id
LEFT JOIN demo_kpi_twin t ON t.demo_kpi_id = k.kpi_id;

CREATE OR REPLACE VIEW kpi_presets AS
SELECT kpi_id, preset, preset_version, title, unit, higher_is_better, perspective, area,
       first_year, last_year, producer
FROM kpi_preset;

CREATE OR REPLACE VIEW kpi_values AS
SELECT v.kpi_id, v.municipality_code, v.year, v.gender, v.value, s.source, s.is_demo
FROM kpi_value v JOIN value_source s USING (source_id);

CREATE OR REPLACE VIEW benchmark_values AS
SELECT kpi_id, benchmark, year, value, source
FROM benchmark_value;

CREATE OR REPLACE VIEW org_units AS
SELECT unit_id, municipality_code, name, kind, is_demo, district, provider, valid_from, valid_to, source
FROM org_unit;

CREATE OR REPLACE VIEW unit_kpis AS
SELECT k.kpi_id, k.title, k.description, k.unit, k.higher_is_better, k.perspective, k.source,
       k.is_demo, u.frequency, u.provenance
FROM unit_kpi u JOIN kpi k USING (kpi_id);

CREATE OR REPLACE VIEW unit_values AS
SELECT kpi_id, unit_id, period, value, source, is_demo
FROM unit_value;

CREATE OR REPLACE VIEW grant_rounds AS
SELECT round, pot, announced_sek, paid_sek, municipalities_granted, allocation_basis,
       performance_required, paid_share_pct, source
FROM grant_round;

CREATE OR REPLACE VIEW grant_awards AS
SELECT municipality_code, round, pot, applied, granted_sek, paid_sek, returned_sek, source
FROM grant_award;

CREATE OR REPLACE VIEW stimulus_grant_returns AS
SELECT * FROM stimulus_grant_return;

CREATE OR REPLACE VIEW datasets AS
SELECT * FROM dataset;

-- Read by pipelines/grants.py (frames from inhabitants 75+, the reconciliation's printed figures).
-- SCB panel rows as published: panel year t holds 31 Dec t−1; shares are fractions 0–1.
CREATE OR REPLACE VIEW municipality_panel AS
SELECT municipality_code, panel_year, population, share_0_19, share_75_plus,
       share_tertiary_education, tax_rate, tax_base, expenditure_per_inhabitant
FROM scb_panel;

CREATE OR REPLACE VIEW grant_award_printed_totals AS
SELECT municipality_code, year, total_granted_sek, source
FROM grant_award_printed_total;

CREATE OR REPLACE VIEW grant_facts AS
SELECT fact, value, source
FROM grant_fact;

CREATE OR REPLACE VIEW targets AS
SELECT municipality_code, kpi_id, year, unit_id, target, tolerance, decided_by, comment, source, is_demo
FROM target;

CREATE OR REPLACE VIEW kpi_series_breaks AS
SELECT kpi_id, year, note, source
FROM kpi_series_break;
