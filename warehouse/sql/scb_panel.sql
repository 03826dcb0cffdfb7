-- SCB panel rows as published. Panel year t holds the population at 31 Dec t-1.
-- Shares are fractions 0–1, as the panel publishes them (not percent).
-- Parameter: $panel (scb_municipality_panel.csv).
INSERT INTO scb_panel (municipality_code, panel_year, population, share_0_19, share_75_plus,
                       share_tertiary_education, tax_rate, tax_base, expenditure_per_inhabitant)
SELECT municip_code, CAST(year AS INTEGER), CAST(pop AS BIGINT),
       CAST(share0_19 AS DOUBLE), CAST(share75_ AS DOUBLE), CAST(share_tertiary_school AS DOUBLE),
       CAST(tax_rate AS DOUBLE), CAST(tax_base AS DOUBLE), CAST(expenditures AS DOUBLE)
FROM read_csv($panel, header = true, all_varchar = true)
ORDER BY 1, 2;
