"""Where kpi_value's rows came from: `value_source` holds each (source text, demo flag) once and
kpi_value.source_id points at it; the view `kpi_values` shows both columns as before.

Every writer of kpi_value goes through here for the id:

    sid = source_id(con, "Kolada (fil: x.csv)")                 # found or added
    insert_kpi_values(con, frame)                               # rows with source + is_demo columns

`upgrade_kpi_value(con)` turns a warehouse of schema 1 (source and is_demo on every row) into
the current layout in the caller's transaction; `warehouse.db.apply_schema` runs it.
"""
from __future__ import annotations

import pandas as pd

KPI_VALUE_COLUMNS = ("kpi_id", "municipality_code", "year", "gender", "value", "source", "is_demo")


def source_id(con, source: str, is_demo: bool = False) -> int:
    """The id of (source, is_demo) in value_source, added if it is new."""
    ids = source_ids(con, [(source, is_demo)])
    return ids[(source, bool(is_demo))]


def source_ids(con, pairs) -> dict[tuple[str, bool], int]:
    """{(source, is_demo): source_id} for the given pairs; new pairs are added with the next ids."""
    pairs = sorted({(str(s), bool(d)) for s, d in pairs})
    if not pairs:
        return {}
    frame = pd.DataFrame(pairs, columns=["source", "is_demo"])
    name = "_value_source_pairs"
    con.register(name, frame)
    try:
        con.execute(f"""
            INSERT INTO value_source (source_id, source, is_demo)
            SELECT (SELECT coalesce(max(source_id), 0) FROM value_source)
                   + row_number() OVER (ORDER BY p.source, p.is_demo), p.source, p.is_demo
            FROM {name} p
            WHERE NOT EXISTS (SELECT 1 FROM value_source s WHERE s.source = p.source AND s.is_demo = p.is_demo)""")
        rows = con.execute(f"""SELECT s.source, s.is_demo, s.source_id FROM value_source s
                               JOIN {name} p ON s.source = p.source AND s.is_demo = p.is_demo""").fetchall()
    finally:
        con.unregister(name)
    return {(s, bool(d)): i for s, d, i in rows}


def insert_kpi_values(con, rows) -> int:
    """Insert kpi_value rows given as a DataFrame (or sequence of tuples) with the columns
    KPI_VALUE_COLUMNS: the (source, is_demo) pairs become value_source rows. Returns the count.
    For small and medium writers (the demo, the extract, tests); the bulk importer writes its
    one source id directly (warehouse/importers/values.py)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(KPI_VALUE_COLUMNS))
    if frame.empty:
        return 0
    ids = source_ids(con, zip(frame["source"], frame["is_demo"]))
    ids_frame = pd.DataFrame([(s, d, i) for (s, d), i in ids.items()], columns=["source", "is_demo", "source_id"])
    con.register("_kpi_value_rows", frame)
    con.register("_kpi_value_ids", ids_frame)
    try:
        con.execute("""
            INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source_id)
            SELECT r.kpi_id, r.municipality_code, r.year, r.gender, r.value, i.source_id
            FROM _kpi_value_rows r
            JOIN _kpi_value_ids i ON i.source = r.source AND i.is_demo = CAST(r.is_demo AS BOOLEAN)
            ORDER BY r.kpi_id, r.municipality_code, r.year, r.gender""")
    finally:
        con.unregister("_kpi_value_rows")
        con.unregister("_kpi_value_ids")
    return len(frame)


def has_old_layout(con) -> bool:
    """kpi_value of schema 1: `source` and `is_demo` on every row."""
    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'kpi_value' AND schema_name = 'main' "
        "AND database_name = current_database()").fetchall()}
    return "source" in cols and "source_id" not in cols


def upgrade_kpi_value(con, create_kpi_value_sql: str) -> bool:
    """Move a schema-1 kpi_value to the current layout (same rows, same sources and flags).
    create_kpi_value_sql: the current CREATE TABLE kpi_value statement. Returns whether it ran."""
    if not has_old_layout(con):
        return False
    con.execute("""
        INSERT INTO value_source (source_id, source, is_demo)
        SELECT (SELECT coalesce(max(source_id), 0) FROM value_source)
               + row_number() OVER (ORDER BY source, is_demo), source, is_demo
        FROM (SELECT DISTINCT v.source, v.is_demo FROM kpi_value v
              WHERE NOT EXISTS (SELECT 1 FROM value_source s WHERE s.source = v.source AND s.is_demo = v.is_demo))""")
    con.execute("ALTER TABLE kpi_value RENAME TO kpi_value_schema1")
    con.execute(create_kpi_value_sql)
    con.execute("""
        INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source_id)
        SELECT v.kpi_id, v.municipality_code, v.year, v.gender, v.value, s.source_id
        FROM kpi_value_schema1 v JOIN value_source s ON s.source = v.source AND s.is_demo = v.is_demo""")
    con.execute("DROP TABLE kpi_value_schema1")
    return True
