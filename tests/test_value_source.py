"""value_source: each kpi_value row's source text and demo flag, stored once per batch. The view
kpi_values shows them as before; a warehouse of schema 1 (both on every row) is upgraded by
apply_schema and by every writer."""
from pathlib import Path

import duckdb
import pytest

from warehouse.db import SCHEMA_VERSION, apply_schema, writing
from warehouse.value_source import has_old_layout, insert_kpi_values, source_id

REPO = Path(__file__).resolve().parent.parent
EXPORT = REPO / "warehouse" / "sources" / "kolada_export_aldreomsorg_2008_2011.csv"

# kpi_value and its view as schema 1 wrote them (warehouse/schema at a621e98).
SCHEMA_1 = """
CREATE TABLE kpi_value (
    kpi_id            VARCHAR NOT NULL,
    municipality_code VARCHAR NOT NULL,
    year              INTEGER NOT NULL,
    gender            VARCHAR NOT NULL DEFAULT 'T',
    value             DOUBLE  NOT NULL,
    source            VARCHAR NOT NULL,
    is_demo           BOOLEAN NOT NULL DEFAULT false,
    CHECK (gender IN ('T','K','M'))
);
CREATE VIEW kpi_values AS
SELECT kpi_id, municipality_code, year, gender, value, source, is_demo FROM kpi_value;
CREATE TABLE warehouse_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
INSERT INTO warehouse_meta VALUES ('schema_version', '1');
INSERT INTO kpi_value VALUES
    ('N20014', '0180', 2010, 'T', 10000.5, 'Kolada (RKA), 2010', false),
    ('N20014', '0180', 2011, 'T', 10400.0, 'Kolada (RKA), 2011', false),
    ('DEMO_X', '0180', 2010, 'K', 71.0, 'DEMO', true),
    ('DEMO_X', '1480', 2010, 'M', 64.0, 'DEMO', true),
    ('ODD',    '1480', 2010, 'T', 1.0, 'DEMO', false);
"""
ROWS_1 = sorted([
    ("N20014", "0180", 2010, "T", 10000.5, "Kolada (RKA), 2010", False),
    ("N20014", "0180", 2011, "T", 10400.0, "Kolada (RKA), 2011", False),
    ("DEMO_X", "0180", 2010, "K", 71.0, "DEMO", True),
    ("DEMO_X", "1480", 2010, "M", 64.0, "DEMO", True),
    ("ODD", "1480", 2010, "T", 1.0, "DEMO", False),
])


def _view_rows(con):
    return sorted(con.execute("SELECT kpi_id, municipality_code, year, gender, value, source, is_demo "
                              "FROM kpi_values").fetchall())


def _columns(con, table):
    return [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                      "ORDER BY column_index", [table]).fetchall()]


def test_source_id_is_found_or_added_once_per_source_and_flag():
    con = duckdb.connect()
    apply_schema(con)
    a = source_id(con, "Kolada (fil: a.csv)")
    assert source_id(con, "Kolada (fil: a.csv)") == a
    demo = source_id(con, "Kolada (fil: a.csv)", is_demo=True)
    b = source_id(con, "Kolada (fil: b.csv)")
    assert len({a, demo, b}) == 3
    assert con.execute("SELECT source, is_demo FROM value_source ORDER BY source_id").fetchall() == [
        ("Kolada (fil: a.csv)", False), ("Kolada (fil: a.csv)", True), ("Kolada (fil: b.csv)", False)]


def test_insert_kpi_values_shows_source_and_flag_in_the_view():
    con = duckdb.connect()
    apply_schema(con)
    insert_kpi_values(con, [("A", "0180", 2010, "T", 1.5, "src 'quoted'", True),
                            ("A", "1480", 2010, "K", 2.0, "other", False)])
    assert _view_rows(con) == [("A", "0180", 2010, "T", 1.5, "src 'quoted'", True),
                               ("A", "1480", 2010, "K", 2.0, "other", False)]
    assert con.execute("SELECT count(*) FROM value_source").fetchall() == [(2,)]
    assert "source" not in _columns(con, "kpi_value") and "is_demo" not in _columns(con, "kpi_value")


def test_a_schema_1_warehouse_is_upgraded_with_every_row_source_and_flag_kept():
    con = duckdb.connect()
    con.execute(SCHEMA_1)
    assert has_old_layout(con)
    apply_schema(con)
    assert not has_old_layout(con)
    assert _view_rows(con) == ROWS_1
    assert _columns(con, "kpi_value") == ["kpi_id", "municipality_code", "year", "gender", "value", "source_id"]
    # three (source, flag) pairs: "DEMO" appears both as demo and as not demo
    assert con.execute("SELECT count(*) FROM value_source").fetchall() == [(4,)]
    assert con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchall() == [(SCHEMA_VERSION,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'kpi_value_schema1'").fetchall() == [(0,)]
    # the gender rule survived the move
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO kpi_value VALUES ('A', '0180', 2010, 'X', 1, 1)")
    apply_schema(con)   # idempotent
    assert _view_rows(con) == ROWS_1


def test_every_writer_upgrades_a_schema_1_file_first(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(SCHEMA_1)
    con.close()
    with writing(db) as con:
        assert not has_old_layout(con)
        insert_kpi_values(con, [("NEW", "0180", 2012, "T", 3.0, "Kolada (fil: ny.csv)", False)])
    con = duckdb.connect(str(db), read_only=True)
    assert _view_rows(con) == sorted(ROWS_1 + [("NEW", "0180", 2012, "T", 3.0, "Kolada (fil: ny.csv)", False)])
    con.close()


def test_a_failed_write_leaves_a_schema_1_file_as_it_was(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(SCHEMA_1)
    con.close()
    with pytest.raises(RuntimeError):
        with writing(db) as con:
            raise RuntimeError("the caller's change fails")
    con = duckdb.connect(str(db), read_only=True)
    assert has_old_layout(con)
    assert _view_rows(con) == ROWS_1
    con.close()


def test_an_import_stores_its_source_once_and_a_reimport_adds_nothing(db_copy):
    from warehouse.importers.kolada import import_kolada

    con = duckdb.connect(str(db_copy))
    con.execute("DELETE FROM kpi_value WHERE source_id IN (SELECT source_id FROM value_source "
                "WHERE source LIKE '%export äldreomsorg%')")
    before = con.execute("SELECT count(*) FROM value_source").fetchall()[0][0]
    for _ in range(2):
        con.execute("BEGIN")
        summary = import_kolada(con, [EXPORT], source="Kolada (fil: test)")
        con.execute("COMMIT")
    assert summary.inserted == 0 and summary.updated == 0 and summary.unchanged > 0
    assert con.execute("SELECT count(*) FROM value_source").fetchall()[0][0] == before + 1
    assert con.execute("SELECT DISTINCT source, is_demo FROM kpi_values WHERE source LIKE 'Kolada (fil:%'").fetchall() == [
        ("Kolada (fil: test)", False)]
    con.close()


def test_a_real_value_replacing_a_demo_value_takes_the_imports_source(tmp_path):
    from warehouse.importers.kolada import import_kolada
    from warehouse.loaders import load_aliases, load_municipalities

    con = duckdb.connect()
    apply_schema(con)
    load_municipalities(con)
    load_aliases(con)
    con.execute("INSERT INTO kpi (kpi_id, title, source, is_demo) VALUES ('N20014', 'Nettokostnad', 't', false)")
    insert_kpi_values(con, [("N20014", "0180", 2010, "T", 1.0, "DEMO", True),
                            ("N20014", "1480", 2010, "T", 2.0, "DEMO", True)])
    f = tmp_path / "real.csv"
    f.write_text("Variabelkod,Kommun,År,Värde\nN20014,Stockholm,2010,5\nN20014,Göteborg,2010,2\n", encoding="utf-8")
    con.execute("BEGIN")
    s = import_kolada(con, [f], source="Kolada (fil: real.csv)")
    con.execute("COMMIT")
    assert (s.inserted, s.updated, s.unchanged) == (0, 1, 1)
    # the changed value is real now; the unchanged one keeps its row (and flag) as it was
    assert _view_rows(con) == [("N20014", "0180", 2010, "T", 5.0, "Kolada (fil: real.csv)", False),
                               ("N20014", "1480", 2010, "T", 2.0, "DEMO", True)]


def test_every_value_in_the_built_warehouse_has_its_source_row(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    orphans = con.execute("SELECT count(*) FROM kpi_value v ANTI JOIN value_source s USING (source_id)").fetchall()
    flags = dict(con.execute("SELECT is_demo, count(*) FROM kpi_values GROUP BY ALL").fetchall())
    version = con.execute("SELECT value FROM warehouse_meta WHERE key = 'schema_version'").fetchall()
    con.close()
    assert orphans == [(0,)]
    assert flags[True] > 0 and flags[False] > 0     # demo indicators and the real extract
    assert version == [(SCHEMA_VERSION,)]
