-- Stored tables: what the warehouse holds. Loaders and importers write here; nobody else does.
-- The public contract is the set of views in 02_views.sql, not these tables.

CREATE TABLE IF NOT EXISTS municipality (
    municipality_code VARCHAR PRIMARY KEY,      -- 4-digit text with leading zero, "0180"
    name              VARCHAR NOT NULL,          -- as SCB writes it ("Upplands Väsby")
    county_code       VARCHAR NOT NULL,          -- 2-digit text, "01"
    county_name       VARCHAR NOT NULL,
    skl_group_2005    VARCHAR                    -- SKL 2005 municipality type
);

-- Alternative spellings used by Kolada and others ("Malung-Sälen", "Region Gotland" ...)
CREATE TABLE IF NOT EXISTS municipality_alias (
    alias             VARCHAR PRIMARY KEY,
    municipality_code VARCHAR NOT NULL
);

-- SCB panel rows as published (panel year t holds population at 31 Dec t-1).
-- Shares are fractions 0–1 as the panel has them (0.0467 = 4.67 %), not percent like Kolada.
CREATE TABLE IF NOT EXISTS scb_panel (
    municipality_code VARCHAR NOT NULL,
    panel_year        INTEGER NOT NULL,
    population        BIGINT,
    share_0_19        DOUBLE,
    share_75_plus     DOUBLE,
    share_tertiary_education DOUBLE,
    tax_rate          DOUBLE,
    tax_base          DOUBLE,
    expenditure_per_inhabitant DOUBLE,
    PRIMARY KEY (municipality_code, panel_year)
);

-- Population at 31 December of `year`, one row per municipality and year.
CREATE TABLE IF NOT EXISTS population (
    municipality_code VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    population        BIGINT  NOT NULL,
    population_source VARCHAR NOT NULL,   -- e.g. 'SCB panel 2011 (31 dec 2010)', 'Kolada N01938/N01960', 'interpolated ...'
    PRIMARY KEY (municipality_code, year)
);

CREATE TABLE IF NOT EXISTS kpi (
    kpi_id           VARCHAR PRIMARY KEY,
    title            VARCHAR NOT NULL,
    description      VARCHAR,
    unit             VARCHAR,
    higher_is_better BOOLEAN,                 -- NULL = no direction (background figure)
    perspective      VARCHAR,                 -- 'omsorgstagare','ekonomi','medarbetare','verksamhet' or NULL
    area             VARCHAR,                 -- index area, e.g. 'Brukarbedömning'
    source           VARCHAR NOT NULL,
    is_demo          BOOLEAN NOT NULL DEFAULT false,
    CHECK (perspective IS NULL OR perspective IN ('omsorgstagare','ekonomi','medarbetare','verksamhet'))
);

-- Kolada's catalogue (deduplicated), used to map KPI titles to ids on import.
CREATE TABLE IF NOT EXISTS kpi_catalogue (
    kpi_id      VARCHAR PRIMARY KEY,
    title       VARCHAR NOT NULL,
    description VARCHAR
);

-- The real Kolada KPIs of styrkort's presets (warehouse/presets/*.toml), loaded by the build.
-- Kolada values of these ids, imported by any route, take perspective, direction, area and unit
-- from here in the view `kpis` where their own kpi row has none.
CREATE TABLE IF NOT EXISTS kpi_preset (
    kpi_id           VARCHAR PRIMARY KEY,
    preset           VARCHAR NOT NULL,          -- 'oj-aldreomsorg'
    preset_version   INTEGER NOT NULL,
    title            VARCHAR NOT NULL,          -- as in Kolada's catalogue
    unit             VARCHAR,
    higher_is_better BOOLEAN,                   -- NULL = no direction
    perspective      VARCHAR,
    area             VARCHAR,                   -- index area (SKL 2010) or NULL
    first_year       INTEGER NOT NULL,          -- years Kolada is known to publish it
    last_year        INTEGER NOT NULL,
    producer         VARCHAR
);

-- Each demo indicator names the real Kolada KPI it stands in for (warehouse/demo_kpis.csv,
-- column stands_for). Where that KPI has values for a year, the pipelines use it instead.
CREATE TABLE IF NOT EXISTS demo_kpi_twin (
    demo_kpi_id VARCHAR PRIMARY KEY,
    real_kpi_id VARCHAR NOT NULL UNIQUE
);

-- Where a batch of values came from, and whether it is demo data: one row per import batch
-- (source text, demo flag), not a copy on each of up to 25 M values. Each VARCHAR or BOOLEAN
-- column of kpi_value costs DuckDB ~0.2-0.4 s per 25 M rows to write, even a constant one
-- (benchmarks/import_kolada_scale.py). Readers see both columns in the view kpi_values.
CREATE TABLE IF NOT EXISTS value_source (
    source_id INTEGER PRIMARY KEY,
    source    VARCHAR NOT NULL,
    is_demo   BOOLEAN NOT NULL,
    UNIQUE (source, is_demo)
);

CREATE TABLE IF NOT EXISTS kpi_value (
    kpi_id            VARCHAR NOT NULL,
    municipality_code VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    gender            VARCHAR NOT NULL DEFAULT 'T',
    value             DOUBLE  NOT NULL,
    source_id         INTEGER NOT NULL,   -- value_source (source text and demo flag)
    -- Unique on (kpi_id, municipality_code, year, gender), enforced by the writers (the
    -- importers reject duplicate keys and update/insert; tests check it on every build).
    -- Not a PRIMARY KEY: DuckDB keeps a PK as an ART index, which at Kolada scale (25 M
    -- values) made the file 17x larger and the import 3.5x slower (benchmarks/import_kolada_scale.py).
    -- Not a FOREIGN KEY to value_source either (an index again); warehouse/value_source.py
    -- writes the source row first, and tests check every source_id has one.
    CHECK (gender IN ('T','K','M'))
);

CREATE TABLE IF NOT EXISTS benchmark_value (
    kpi_id    VARCHAR NOT NULL,
    benchmark VARCHAR NOT NULL,              -- "Alla kommuner (ovägt medel)" ...
    year      INTEGER NOT NULL,
    value     DOUBLE  NOT NULL,
    source    VARCHAR NOT NULL,
    PRIMARY KEY (kpi_id, benchmark, year)
);

-- The unit register (Balansen: one scorecard per home-care group or care home): demo units and
-- `styrkort import units`. Columns after is_demo were added later: warehouse/units.py adds them
-- to an older warehouse (ensure_unit_schema).
CREATE TABLE IF NOT EXISTS org_unit (
    unit_id           VARCHAR PRIMARY KEY,
    municipality_code VARCHAR NOT NULL,
    name              VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL,      -- 'hemtjanst' | 'sarskilt_boende' | 'korttidsboende' | 'dagverksamhet'
    is_demo           BOOLEAN NOT NULL DEFAULT false,
    district          VARCHAR,               -- e.g. the stadsdel
    provider          VARCHAR,               -- 'egen_regi' | 'enskild_regi' | NULL (not stated)
    valid_from        DATE,                  -- first month the unit exists (NULL: not stated)
    valid_to          DATE,                  -- last month (NULL: still open)
    source            VARCHAR,
    CHECK (kind IN ('hemtjanst', 'sarskilt_boende', 'korttidsboende', 'dagverksamhet')),
    CHECK (provider IS NULL OR provider IN ('egen_regi', 'enskild_regi'))
);

-- Which KPIs are unit KPIs, measured per unit and month (title, unit, direction and perspective
-- are in kpi): Balansen's key figures shipped in warehouse/unit_kpis.csv, the demo's, and users'
-- own (`styrkort import unit-values --kpis META.csv`).
CREATE TABLE IF NOT EXISTS unit_kpi (
    kpi_id     VARCHAR PRIMARY KEY,
    frequency  VARCHAR,                      -- 'month' | 'year': how often it is measured
    provenance VARCHAR                       -- where the definition comes from
);

CREATE TABLE IF NOT EXISTS unit_value (
    kpi_id  VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    period  DATE    NOT NULL,                -- first day of the month
    value   DOUBLE  NOT NULL,
    source  VARCHAR NOT NULL,
    is_demo BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (kpi_id, unit_id, period)
);

CREATE TABLE IF NOT EXISTS grant_round (
    round                  VARCHAR NOT NULL, -- '2011:1','2011:2','2012','2013:1','2013:2'
    pot                    INTEGER NOT NULL,
    performance_required   VARCHAR,
    announced_sek          BIGINT,
    paid_sek               BIGINT,
    paid_share_pct         DOUBLE,
    municipalities_granted INTEGER,
    allocation_basis       VARCHAR,
    source                 VARCHAR NOT NULL,
    PRIMARY KEY (round, pot)
);

CREATE TABLE IF NOT EXISTS grant_award (
    municipality_code VARCHAR NOT NULL,
    round             VARCHAR NOT NULL,
    pot               INTEGER NOT NULL,
    applied           BOOLEAN NOT NULL,
    granted_sek       BIGINT,
    paid_sek          BIGINT,
    returned_sek      BIGINT,
    source            VARCHAR NOT NULL,
    PRIMARY KEY (municipality_code, round, pot)
);

-- Printed totals as given in a source row, kept beside the per-pot rows so gaps can be reported.
CREATE TABLE IF NOT EXISTS grant_award_printed_total (
    municipality_code VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    total_granted_sek BIGINT,
    source            VARCHAR NOT NULL,
    PRIMARY KEY (municipality_code, year)
);

CREATE TABLE IF NOT EXISTS stimulus_grant_return (
    municipality_code  VARCHAR NOT NULL,
    grant_type         VARCHAR NOT NULL,
    grant_years        VARCHAR NOT NULL,
    received_total_sek BIGINT,
    spent_sek          BIGINT,
    returned_sek       BIGINT,
    returned_date      DATE,
    source             VARCHAR NOT NULL,
    PRIMARY KEY (municipality_code, grant_type, grant_years)
);

CREATE TABLE IF NOT EXISTS grant_fact (
    fact   VARCHAR PRIMARY KEY,
    value  DOUBLE NOT NULL,
    source VARCHAR NOT NULL
);

-- Targets a committee decided for a municipality's (or one of its units') KPI in a year
-- (`styrkort import targets`; the embedded default ships a few demo targets, flagged is_demo).
-- Unique on (municipality_code, kpi_id, year, unit_id or ''), enforced by the importer.
CREATE TABLE IF NOT EXISTS target (
    municipality_code VARCHAR NOT NULL,
    kpi_id            VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    unit_id           VARCHAR,                -- NULL: the whole municipality
    target            DOUBLE  NOT NULL,       -- in the KPI's unit
    tolerance         DOUBLE,                 -- KPI unit; NULL = the default (pipelines/targets.py)
    decided_by        VARCHAR,                -- e.g. "Äldrenämnden 2013-02-12 §14"
    comment           VARCHAR,
    source            VARCHAR NOT NULL,       -- the file it came from
    is_demo           BOOLEAN NOT NULL DEFAULT false,
    CHECK (tolerance IS NULL OR tolerance >= 0)
);

-- Known definition changes in a KPI's series (warehouse/kpi_series_breaks.csv, loaded by the
-- build): from `year` on the values are counted differently, so /trender marks a break there and
-- a trend across it says so.
CREATE TABLE IF NOT EXISTS kpi_series_break (
    kpi_id VARCHAR NOT NULL,
    year   INTEGER NOT NULL,                 -- first year counted the new way
    note   VARCHAR NOT NULL,                 -- what changed (Swedish, as the KPI titles)
    source VARCHAR NOT NULL,                 -- where the knowledge comes from
    PRIMARY KEY (kpi_id, year)
);

-- Datasets in the warehouse and where they came from (shown on /om).
CREATE TABLE IF NOT EXISTS dataset (
    dataset     VARCHAR PRIMARY KEY,
    description VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    file        VARCHAR,
    sha256      VARCHAR,
    loaded_at   TIMESTAMP NOT NULL,
    is_demo     BOOLEAN NOT NULL DEFAULT false
);

-- One row per import command that committed.
CREATE TABLE IF NOT EXISTS import_log (
    import_id  VARCHAR PRIMARY KEY,
    kind       VARCHAR NOT NULL,             -- 'kolada' | 'indicators' | 'grants'
    file       VARCHAR NOT NULL,
    sha256     VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    inserted   INTEGER NOT NULL,
    updated    INTEGER NOT NULL,
    skipped    INTEGER NOT NULL,
    benchmark_rows INTEGER NOT NULL,
    unmapped   VARCHAR                       -- JSON list of names that could not be mapped
);

CREATE TABLE IF NOT EXISTS warehouse_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
