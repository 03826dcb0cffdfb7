-- Marts written by pipelines/ranking/pipeline.py, and their public views (ARCHITECTURE.md).
-- All runs are kept, one set of rows per (year, config_hash); a re-run with the same config
-- replaces its rows. `is_default` marks the rows of the shipped default config
-- (pipelines/configs/oj_default.toml): that is what the dashboard reads (WHERE is_default).
-- `run_id` links each row to pipeline_runs (the step's full configuration).

CREATE TABLE IF NOT EXISTS mart_composite_index (
    year              INTEGER NOT NULL,
    municipality_code VARCHAR NOT NULL,
    composite         DOUBLE  NOT NULL,
    rank              INTEGER NOT NULL,      -- 1 = highest over all municipalities
    size_group        VARCHAR,               -- from municipality_years for the year
    group_rank        INTEGER,               -- 1 = highest within the size group
    config_hash       VARCHAR NOT NULL,
    normalisation     VARCHAR NOT NULL,
    is_default        BOOLEAN NOT NULL,
    is_demo           BOOLEAN NOT NULL,      -- true if any KPI used is demo data
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (year, config_hash, municipality_code)
);

CREATE TABLE IF NOT EXISTS mart_area_scores (
    year              INTEGER NOT NULL,
    municipality_code VARCHAR NOT NULL,
    area              VARCHAR NOT NULL,
    score             DOUBLE  NOT NULL,      -- mean of the area's used KPIs' normalised values
    weight            DOUBLE  NOT NULL,      -- configured weight
    weight_share      DOUBLE  NOT NULL,      -- weight / Σ weights of the areas used this year
    config_hash       VARCHAR NOT NULL,
    is_default        BOOLEAN NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (year, config_hash, municipality_code, area)
);

CREATE TABLE IF NOT EXISTS mart_index_kpi_usage (
    year              INTEGER NOT NULL,
    kpi_id            VARCHAR NOT NULL,
    area              VARCHAR NOT NULL,
    used              BOOLEAN NOT NULL,
    reason_code       VARCHAR NOT NULL,      -- used | incomplete | no_values | not_in_warehouse | no_direction | no_variation
    reason            VARCHAR NOT NULL,      -- Swedish text for display
    n_values          INTEGER NOT NULL,      -- municipalities with a value (gender 'T')
    n_municipalities  INTEGER NOT NULL,
    config_hash       VARCHAR NOT NULL,
    is_default        BOOLEAN NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (year, config_hash, kpi_id)
);

CREATE TABLE IF NOT EXISTS mart_selection (
    selection_id      VARCHAR PRIMARY KEY,   -- = run_id of the 'select' run
    year              INTEGER NOT NULL,
    config_hash       VARCHAR NOT NULL,      -- the index config (joins composite_index)
    options_json      VARCHAR NOT NULL,      -- quotas, max_per_county, swaps
    created_at        TIMESTAMP NOT NULL,
    is_default        BOOLEAN NOT NULL       -- made by `styrkort build` (default config, no options)
);

CREATE TABLE IF NOT EXISTS mart_selection_item (
    selection_id      VARCHAR NOT NULL,
    municipality_code VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    size_group        VARCHAR NOT NULL,
    result            VARCHAR NOT NULL CHECK (result IN ('high', 'low')),
    rank              INTEGER NOT NULL,
    group_rank        INTEGER NOT NULL,
    composite         DOUBLE  NOT NULL,
    county_code       VARCHAR NOT NULL,
    county_name       VARCHAR,
    adjusted          BOOLEAN NOT NULL,      -- not what the plain ranking would pick
    reason            VARCHAR NOT NULL,
    replaces          VARCHAR,               -- code of the municipality it took the place of
    PRIMARY KEY (selection_id, municipality_code)
);

CREATE TABLE IF NOT EXISTS mart_rank_uncertainty (
    year              INTEGER NOT NULL,
    municipality_code VARCHAR NOT NULL,
    rank_median       DOUBLE  NOT NULL,
    rank_p05          DOUBLE  NOT NULL,
    rank_p95          DOUBLE  NOT NULL,
    p_top             DOUBLE  NOT NULL,      -- share of draws in its group's top 6 (large: 3)
    p_bottom          DOUBLE  NOT NULL,      -- share of draws in its group's bottom 6 (large: 3)
    draws             INTEGER NOT NULL,
    seed              BIGINT  NOT NULL,
    concentration     DOUBLE  NOT NULL,      -- Dirichlet concentration around the weights
    config_hash       VARCHAR NOT NULL,
    is_default        BOOLEAN NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (year, config_hash, municipality_code)
);

CREATE OR REPLACE VIEW composite_index AS
SELECT year, municipality_code, composite, rank, size_group, group_rank, config_hash,
       is_default, normalisation, is_demo, run_id
FROM mart_composite_index;

CREATE OR REPLACE VIEW area_scores AS
SELECT year, municipality_code, area, score, weight, config_hash, weight_share, is_default, run_id
FROM mart_area_scores;

CREATE OR REPLACE VIEW index_kpi_usage AS
SELECT year, kpi_id, area, used, reason, config_hash, reason_code, n_values, n_municipalities,
       is_default, run_id
FROM mart_index_kpi_usage;

CREATE OR REPLACE VIEW selections AS
SELECT selection_id, year, config_hash, options_json, created_at, is_default
FROM mart_selection;

CREATE OR REPLACE VIEW selection_items AS
SELECT selection_id, municipality_code, name, size_group, result, rank, group_rank, composite,
       county_code, adjusted, reason, county_name, replaces
FROM mart_selection_item;

CREATE OR REPLACE VIEW rank_uncertainty AS
SELECT year, municipality_code, rank_median, rank_p05, rank_p95, p_top, p_bottom, draws,
       seed, concentration, config_hash, is_default, run_id
FROM mart_rank_uncertainty;
