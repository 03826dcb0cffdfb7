"""kpi_value has no PRIMARY KEY (see 01_tables.sql); the key must still be unique."""
import duckdb


def test_kpi_values_key_is_unique_in_the_built_warehouse(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    dupes = con.execute(
        """SELECT kpi_id, municipality_code, year, gender, count(*) AS n
           FROM kpi_values GROUP BY ALL HAVING count(*) > 1 LIMIT 5"""
    ).fetchall()
    total = con.execute("SELECT count(*) FROM kpi_values").fetchall()[0][0]
    con.close()
    assert total > 100_000  # the real extract plus demo indicators
    assert dupes == []


def test_reimporting_a_file_keeps_the_key_unique(db_copy):
    from pathlib import Path

    from warehouse.importers.kolada import import_kolada

    src = Path(__file__).resolve().parent.parent / "warehouse" / "sources" / "kolada_export_aldreomsorg_2008_2011.csv"
    con = duckdb.connect(str(db_copy))
    for _ in range(2):
        con.execute("BEGIN")
        import_kolada(con, [src])
        con.execute("COMMIT")
    dupes = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM kpi_value GROUP BY kpi_id, municipality_code, year, gender HAVING count(*) > 1)"
    ).fetchall()[0][0]
    con.close()
    assert dupes == 0
