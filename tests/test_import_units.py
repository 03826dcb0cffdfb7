"""`styrkort import units` and `styrkort import unit-values`: the unit register and monthly unit
values from hand-made CSV and Excel files. Every count and value asserted is written in the test's
own file; a bad file names file and line and leaves every table as it was."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from test_import_common import cli, cli_refuses, query, snapshot, tiny_wh, wh, write  # noqa: F401

REGISTER = (
    "unit_id,name,municipality_code,kind,district,provider,valid_from,valid_to\r\n"
    "GBG-HT-1,Hemtjänst Linnéstaden 1,1480,hemtjänst,Centrum,egen regi,2012-01,\r\n"
    "GBG-HT-2,Hemtjänst Bergsjön 2,Göteborg,Hemtjänst,Östra Göteborg,Enskild regi,,\r\n"
    "GBG-SB-1,Vård- och omsorgsboende Guldheden,1480,vård- och omsorgsboende,Centrum,,2012-01,2013-06\r\n"
    "STH-KT-1,Korttidsboende Södermalm,0180,korttidsboende,,kommunal,,\r\n"
)
VALUES = (
    "unit_id;kpi_id;period;value\r\n"
    "GBG-HT-1;BAL_KOSTNAD_VT;2013-01;21450\r\n"
    "GBG-HT-1;BAL_KOSTNAD_VT;2013-02;21 980\r\n"
    "GBG-HT-1;BAL_SJUKFRANVARO;2013-01;7,4\r\n"
    "GBG-HT-2;BAL_SJUKFRANVARO;2013-01;..\r\n"
    "gbg-ht-2;bal_sjukfranvaro;2013/02;6.5\r\n"
    "GBG-SB-1;BAL_SVP;2013-06-01;88\r\n"
)


@pytest.fixture
def registered(wh):
    f = write(wh.parent / "enheter.csv", REGISTER)
    r = cli("import", "units", f, "--db", wh)
    assert r.exit_code == 0, r.output
    return wh


def fails(db, command, files, *, line, words, extra=()):
    return cli_refuses(db, command, files, line=line, words=words, extra=extra)


# -- the register ----------------------------------------------------------------------------------

def test_register_is_stored_with_codes(registered):
    rows = query(registered, "SELECT unit_id, municipality_code, name, kind, district, provider, valid_from, "
                             "valid_to, is_demo FROM org_units ORDER BY unit_id")
    assert rows == [
        ("GBG-HT-1", "1480", "Hemtjänst Linnéstaden 1", "hemtjanst", "Centrum", "egen_regi", dt.date(2012, 1, 1), None, False),
        ("GBG-HT-2", "1480", "Hemtjänst Bergsjön 2", "hemtjanst", "Östra Göteborg", "enskild_regi", None, None, False),
        ("GBG-SB-1", "1480", "Vård- och omsorgsboende Guldheden", "sarskilt_boende", "Centrum", None,
         dt.date(2012, 1, 1), dt.date(2013, 6, 1), False),
        ("STH-KT-1", "0180", "Korttidsboende Södermalm", "korttidsboende", None, "egen_regi", None, None, False),
    ]
    # the shipped unit KPI catalogue came along (four perspectives)
    persp = {p for (p,) in query(registered, "SELECT DISTINCT perspective FROM unit_kpis")}
    assert persp == {"omsorgstagare", "ekonomi", "medarbetare", "verksamhet"}


def test_register_reimport_changes_nothing_and_an_edit_is_an_update(registered):
    f = registered.parent / "enheter.csv"
    before = snapshot(registered)
    r = cli("import", "units", f, "--db", registered)
    assert r.exit_code == 0, r.output
    after = snapshot(registered)
    assert {k: v for k, v in after.items() if k != "import_log"} == {k: v for k, v in before.items() if k != "import_log"}
    assert re.search(r"oförändrade\s*│\s*4\s*│", r.output), r.output
    g = write(registered.parent / "enheter2.csv", REGISTER.replace("Hemtjänst Bergsjön 2", "Hemtjänst Bergsjön II"))
    r = cli("import", "units", g, "--db", registered)
    assert r.exit_code == 0, r.output
    assert query(registered, "SELECT name FROM org_units WHERE unit_id = 'GBG-HT-2'") == [("Hemtjänst Bergsjön II",)]
    assert query(registered, "SELECT count(*) FROM org_units") == [(4,)]


@pytest.mark.parametrize("row,line_words", [
    ("GBG-X,Namn,9999,hemtjänst,,,,", ["unknown municipality", "'9999'"]),
    ("GBG-X,Namn,1480,hemsjukvård,,,,", ["unknown kind", "'hemsjukvård'"]),
    ("GBG-X,Namn,1480,hemtjänst,,kooperativ,,", ["unknown provider", "'kooperativ'"]),
    ("GBG-X,Namn,1480,hemtjänst,,,2013-13,", ["invalid month"]),
    ("GBG-X,Namn,1480,hemtjänst,,,2013-06,2013-01", ["valid_to before valid_from"]),
    ("GBG X,Namn,1480,hemtjänst,,,,", ["invalid unit id"]),
    (",Namn,1480,hemtjänst,,,,", ["missing unit id"]),
    ("GBG-X,,1480,hemtjänst,,,,", ["missing name"]),
    ("GBG-HT-1,Annat namn,1480,hemtjänst,,,,", ["duplicate key with a different value", "rad 2"]),
])
def test_bad_register_rows_name_file_and_line(wh, row, line_words):
    f = write(wh.parent / "bad.csv", REGISTER + row + "\r\n")
    fails(wh, "units", [f], line=6, words=line_words)


def test_register_missing_column_and_demo_ids(wh):
    f = write(wh.parent / "nokind.csv", "unit_id,name,municipality_code\r\nA,B,1480\r\n")
    fails(wh, "units", [f], line=1, words=["missing column", "kind"])
    con_rows = "INSERT INTO org_unit (unit_id, municipality_code, name, kind, is_demo) VALUES ('1480-HT-LINNE', '1480', 'Demo', 'hemtjanst', true)"
    import duckdb
    con = duckdb.connect(str(wh))
    con.execute(con_rows)
    con.close()
    g = write(wh.parent / "demo.csv", "unit_id,name,municipality_code,kind\r\n1480-HT-LINNE,Min enhet,1480,hemtjänst\r\n")
    fails(wh, "units", [g], line=2, words=["demo unit"])


def test_register_from_excel_with_date_cells(wh):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Enhets-id", "Namn", "Kommun", "Typ", "Regi", "Giltig från"])
    ws.append(["X1", "Dagverksamhet Ale", 1440, "Dagverksamhet", "egen regi", dt.datetime(2012, 3, 1)])
    ws.append(["X2", "Hemtjänst Ale", "Ale", "hemtjänst", "", None])
    path = wh.parent / "enheter.xlsx"
    wb.save(path)
    r = cli("import", "units", path, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT unit_id, municipality_code, kind, provider, valid_from FROM org_units ORDER BY 1") == [
        ("X1", "1440", "dagverksamhet", "egen_regi", dt.date(2012, 3, 1)),
        ("X2", "1440", "hemtjanst", None, None)]


# -- monthly values --------------------------------------------------------------------------------

def test_values_are_stored_and_missing_months_skipped(registered):
    f = write(registered.parent / "varden.csv", VALUES)
    r = cli("import", "unit-values", f, "--db", registered)
    assert r.exit_code == 0, r.output
    rows = query(registered, "SELECT unit_id, kpi_id, period, value, is_demo FROM unit_values ORDER BY 1, 2, 3")
    assert rows == [
        ("GBG-HT-1", "BAL_KOSTNAD_VT", dt.date(2013, 1, 1), 21450.0, False),
        ("GBG-HT-1", "BAL_KOSTNAD_VT", dt.date(2013, 2, 1), 21980.0, False),
        ("GBG-HT-1", "BAL_SJUKFRANVARO", dt.date(2013, 1, 1), 7.4, False),
        ("GBG-HT-2", "BAL_SJUKFRANVARO", dt.date(2013, 2, 1), 6.5, False),   # ids matched whatever their case
        ("GBG-SB-1", "BAL_SVP", dt.date(2013, 6, 1), 88.0, False),
    ]
    assert "överhoppade: 1" in r.output
    # re-import: nothing changes; a new value for an existing key is an update
    before = snapshot(registered)
    assert cli("import", "unit-values", f, "--db", registered).exit_code == 0
    after = snapshot(registered)
    assert {k: v for k, v in after.items() if k != "import_log"} == {k: v for k, v in before.items() if k != "import_log"}
    g = write(registered.parent / "v2.csv", "unit_id,kpi_id,period,value\r\nGBG-HT-1,BAL_SJUKFRANVARO,2013-01,8\r\n")
    r = cli("import", "unit-values", g, "--db", registered)
    assert r.exit_code == 0, r.output
    assert query(registered, "SELECT value FROM unit_values WHERE unit_id = 'GBG-HT-1' AND kpi_id = 'BAL_SJUKFRANVARO'") \
        == [(8.0,)]


@pytest.mark.parametrize("row,words", [
    ("NOPE;BAL_SVP;2013-01;1", ["unknown unit", "'NOPE'", "styrkort import units"]),
    ("GBG-HT-1;BAL_NOPE;2013-01;1", ["unknown KPI", "'BAL_NOPE'", "--kpis"]),
    ("GBG-HT-1;BAL_SVP;2013-15;1", ["invalid month"]),
    ("GBG-HT-1;BAL_SVP;2013-01-15;1", ["a day"]),
    ("GBG-HT-1;BAL_SVP;januari;1", ["invalid month"]),
    ("GBG-HT-1;BAL_SVP;2013-01;12abc", ["non-numeric value", "'12abc'"]),
    ("GBG-HT-1;BAL_SVP;2011-12;1", ["outside the unit's validity", "2012-01–…"]),
    ("GBG-SB-1;BAL_SVP;2013-07;1", ["outside the unit's validity", "2012-01–2013-06"]),
    ("GBG-HT-1;BAL_KOSTNAD_VT;2013-01;99", ["duplicate key with a different value", "rad 2"]),
])
def test_bad_value_rows_name_file_and_line(registered, row, words):
    f = write(registered.parent / "bad.csv", VALUES + row + "\r\n")
    fails(registered, "unit-values", [f], line=8, words=words)


def test_a_municipality_kpi_is_not_a_unit_kpi(registered):
    import duckdb
    con = duckdb.connect(str(registered))
    con.execute("INSERT INTO kpi (kpi_id, title, source) VALUES ('N20014', 'Nettokostnad äldreomsorg', 'Kolada')")
    con.close()
    f = write(registered.parent / "muni.csv", "unit_id,kpi_id,period,value\r\nGBG-HT-1,N20014,2013-01,1\r\n")
    fails(registered, "unit-values", [f], line=2, words=["unknown KPI", "kommunnyckeltal"])


def test_second_file_bad_means_nothing_written(registered):
    good = write(registered.parent / "good.csv", VALUES)
    bad = write(registered.parent / "bad2.csv", "unit_id,kpi_id,period,value\r\nGBG-HT-1,BAL_SVP,2013-01,1\r\n"
                                                 "GBG-HT-1,BAL_SVP,2013-02,x1\r\n")
    fails(registered, "unit-values", [good, bad], line=3, words=["non-numeric value"])
    assert query(registered, "SELECT count(*) FROM unit_values") == [(0,)]


def test_own_kpis_with_meta(registered):
    meta = write(registered.parent / "meta.csv", "kpi_id,title,higher_is_better,perspective,unit\r\n"
                                                 "GBG_FALL,Fallolyckor per 100 omsorgstagare,false,verksamhet,antal\r\n")
    f = write(registered.parent / "own.csv", "unit_id,kpi_id,period,value\r\nGBG-HT-1,GBG_FALL,2013-03,2\r\n")
    fails(registered, "unit-values", [f], line=2, words=["unknown KPI", "'GBG_FALL'"])
    r = cli("import", "unit-values", f, "--kpis", meta, "--db", registered)
    assert r.exit_code == 0, r.output
    assert query(registered, "SELECT title, higher_is_better, perspective FROM unit_kpis WHERE kpi_id = 'GBG_FALL'") \
        == [("Fallolyckor per 100 omsorgstagare", False, "verksamhet")]
    assert query(registered, "SELECT value FROM unit_values WHERE kpi_id = 'GBG_FALL'") == [(2.0,)]


def test_values_from_excel_with_a_date_cell_period(registered):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Enhet", "Nyckeltal", "Månad", "Värde"])
    ws.append(["GBG-HT-1", "BAL_INFOAVV", dt.datetime(2013, 4, 1), 3])
    ws.append(["GBG-HT-1", "BAL_INFOAVV", "2013-05", 0])
    path = registered.parent / "varden.xlsx"
    wb.save(path)
    r = cli("import", "unit-values", path, "--db", registered)
    assert r.exit_code == 0, r.output
    assert query(registered, "SELECT period, value FROM unit_values ORDER BY 1") == [
        (dt.date(2013, 4, 1), 3.0), (dt.date(2013, 5, 1), 0.0)]


def test_register_validity_must_cover_stored_values(registered):
    f = write(registered.parent / "varden.csv", VALUES)
    assert cli("import", "unit-values", f, "--db", registered).exit_code == 0
    g = write(registered.parent / "narrow.csv", REGISTER.replace("GBG-HT-1,Hemtjänst Linnéstaden 1,1480,hemtjänst,"
                                                                 "Centrum,egen regi,2012-01,",
                                                                 "GBG-HT-1,Hemtjänst Linnéstaden 1,1480,hemtjänst,"
                                                                 "Centrum,egen regi,2012-01,2012-12"))
    fails(registered, "units", [g], line=2, words=["values outside validity", "2013-02"])


def test_templates_are_importable(wh, tmp_path):
    """The downloadable templates (CSV and Excel) import as they are."""
    from warehouse.units import read_unit_kpis, template_csv, template_xlsx

    units_csv = write(tmp_path / "enheter.csv", template_csv("units"))
    values_csv = write(tmp_path / "varden.csv", template_csv("values"))
    assert cli("import", "units", units_csv, "--db", wh).exit_code == 0
    r = cli("import", "unit-values", values_csv, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT count(*) FROM unit_values") == [(3,)]
    units_x = write(tmp_path / "enheter.xlsx", template_xlsx("units", [], ["hjälp"]))
    values_x = write(tmp_path / "varden.xlsx", template_xlsx("values", read_unit_kpis(), ["hjälp"]))
    assert cli("import", "units", units_x, "--db", wh).exit_code == 0
    r = cli("import", "unit-values", values_x, "--db", wh)
    assert r.exit_code == 0, r.output
    from openpyxl import load_workbook
    wb = load_workbook(values_x)
    assert wb.sheetnames[:2] == ["varden", "nyckeltal"]
    listed = [row[0].value for row in wb["nyckeltal"].iter_rows(min_row=2)]
    assert "BAL_KOSTNAD_VT" in listed and len(listed) == 12


def test_older_warehouse_gets_the_new_columns(tmp_path):
    """A warehouse built before the unit register had district/provider/validity imports too."""
    import duckdb

    from warehouse.loaders import load_municipalities

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    from warehouse.db import apply_schema
    apply_schema(con)
    load_municipalities(con)
    # back to the earlier register: five columns, no unit_kpi table
    con.execute("DROP VIEW org_units; DROP VIEW unit_kpis; DROP TABLE unit_kpi; DROP TABLE org_unit")
    con.execute("CREATE TABLE org_unit (unit_id VARCHAR PRIMARY KEY, municipality_code VARCHAR NOT NULL, "
                "name VARCHAR NOT NULL, kind VARCHAR NOT NULL, is_demo BOOLEAN NOT NULL DEFAULT false)")
    con.execute("CREATE VIEW org_units AS SELECT unit_id, municipality_code, name, kind, is_demo FROM org_unit")
    con.execute("INSERT INTO org_unit VALUES ('OLD-1', '1480', 'Gammal enhet', 'hemtjanst', true)")
    con.close()
    f = write(tmp_path / "enheter.csv", REGISTER)
    r = cli("import", "units", f, "--db", path)
    assert r.exit_code == 0, r.output
    assert query(path, "SELECT count(*), count(*) FILTER (WHERE is_demo) FROM org_units") == [(5, 1)]
    assert query(path, "SELECT provider FROM org_units WHERE unit_id = 'GBG-HT-1'") == [("egen_regi",)]


def test_demo_units_stay_flagged_beside_imported_ones(db_copy):
    f = write(db_copy.parent / "enheter.csv", REGISTER)
    assert cli("import", "units", f, "--db", db_copy).exit_code == 0
    demo, real = query(db_copy, "SELECT count(*) FILTER (WHERE is_demo), count(*) FILTER (WHERE NOT is_demo) "
                                "FROM org_units")[0]
    assert demo == 9 and real == 4
