"""The import rules of warehouse/importers/common.py, one hand-made case each: a file is imported
exactly as it says, or refused with file, line and the problem; never rounded, guessed or
half-read. Expected values are written here by hand.

Most cases call the importers in a transaction that is rolled back (fast); the cases about the
warehouse file and special files go through the CLI."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from test_import_common import REPO, rules_warehouse, snapshot, tiny_wh, write  # noqa: F401  (fixtures)
from warehouse.importers import common
from warehouse.importers.common import ImportFailure
from warehouse.importers.grants import import_grants
from warehouse.importers.indicators import import_indicators
from warehouse.importers.kolada import import_kolada

HEADER = "Kommun/Landsting;Nyckeltal;År;Visat Värde\r\n"
NEXT_YEAR = dt.date.today().year + 1


@pytest.fixture(scope="module")
def rules_db(tiny_wh, tmp_path_factory):
    return rules_warehouse(tiny_wh, tmp_path_factory.mktemp("rules") / "w.duckdb")


@pytest.fixture
def con(rules_db):
    c = duckdb.connect(str(rules_db))
    c.execute("BEGIN")
    yield c
    c.execute("ROLLBACK")
    c.close()


def refused(fn, path, line=None, *words):
    with pytest.raises(ImportFailure) as e:
        fn()
    msg = str(e.value)
    assert msg.startswith(str(path)), msg
    if line is not None:
        assert f"rad (line) {line}:" in msg, msg
    for w in words:
        assert w in msg, msg
    assert len(msg) < 600, msg          # a huge field never becomes a huge message
    return msg


def values(con, kpi="N20014"):
    return sorted(con.execute("SELECT municipality_code, year, gender, value FROM kpi_value WHERE kpi_id = ?",
                              [kpi]).fetchall())


# -- years and values --------------------------------------------------------------------------------

@pytest.mark.parametrize("year", ["2009.5", "2e03", "0x7DA", "+2010", "20 10", "1989", str(NEXT_YEAR + 1),
                                  "tjugotio", "2010,0", "١٢٣٤"])
def test_a_year_is_a_whole_number_in_range_never_rounded(con, tmp_path, year):
    f = write(tmp_path / "y.csv", HEADER + f"Ale;N20014;{year};7\r\n")
    refused(lambda: import_kolada(con, [f]), f, 2, "invalid year")
    assert values(con) == [("1440", 2010, "T", 100.0)]


@pytest.mark.parametrize("year,stored", [("2011", 2011), ("2011.0", 2011), (" 2011 ", 2011), ("1990", 1990),
                                         (str(NEXT_YEAR), NEXT_YEAR)])
def test_whole_years_are_read(con, tmp_path, year, stored):
    f = write(tmp_path / "y.csv", HEADER + f"Ale;N20014;{year};7\r\n")
    import_kolada(con, [f])
    assert ("1440", stored, "T", 7.0) in values(con)


@pytest.mark.parametrize("value", ["1_000", "inf", "-Infinity", "NaN", "1e400", "0x10", "12abc", "5,5,5", "%5",
                                   "2024-05-01", "true", "5 kr"])
def test_a_value_that_is_not_a_finite_number_is_refused(con, tmp_path, value):
    f = write(tmp_path / "v.csv", HEADER + f"Ale;N20014;2011;{value}\r\n")
    refused(lambda: import_kolada(con, [f]), f, 2, "non-numeric value")


@pytest.mark.parametrize("value,stored", [("1 234,5", 1234.5), ("12,5 %", 12.5), ("-0.5", -0.5), ("+3", 3.0),
                                          ("1e3", 1000.0), ("\u00a07", 7.0), ("3\u00a0569\u00a0733", 3569733.0),
                                          (",5", 0.5), ("7.", 7.0)])
def test_numbers_as_users_write_them(con, tmp_path, value, stored):
    f = write(tmp_path / "v.csv", HEADER + f"Ale;N20014;2011;{value}\r\n")
    import_kolada(con, [f])
    assert ("1440", 2011, "T", stored) in values(con)


# -- names ---------------------------------------------------------------------------------------------

def test_code_and_name_of_different_municipalities_in_one_cell(con, tmp_path):
    f = write(tmp_path / "cn.csv", HEADER + "0180 Stockholm;N20014;2011;1\r\n0180 Göteborg;N20014;2011;2\r\n")
    refused(lambda: import_kolada(con, [f]), f, 3, "code and name disagree")


def test_code_column_and_name_column_must_agree(con, tmp_path):
    ok = write(tmp_path / "ok.csv", "Kommunkod;Kommun;Nyckeltal;År;Värde\n0180;Stockholm;N20014;2011;1\n"
                                    "1480;Göteborg;N20014;2011;2\n")
    import_kolada(con, [ok])
    assert {("0180", 2011, "T", 1.0), ("1480", 2011, "T", 2.0)} <= set(values(con))
    bad = write(tmp_path / "bad.csv", "Kommunkod;Kommun;Nyckeltal;År;Värde\n0180;Stockholm;N20014;2012;1\n"
                                      "0180;Göteborg;N20014;2012;2\n")
    refused(lambda: import_kolada(con, [bad]), bad, 3, "code and name disagree")


def test_grant_row_with_code_and_a_name_of_another_municipality(con, tmp_path):
    f = write(tmp_path / "g.csv", "municipality_code,municipality_name,year,pot1_granted_sek,pot2_granted_sek\n"
                                  "0180,Göteborg,2013,5,\n")
    refused(lambda: import_grants(con, [f]), f, 2, "code and name disagree")


def test_kpi_ids_match_whatever_their_case(con, tmp_path):
    f = write(tmp_path / "c.csv", HEADER + "Ale;n20014;2011;5\r\nAle;oj_a;2011;6\r\n")
    s = import_kolada(con, [f])
    assert s.new_kpis == []
    assert ("1440", 2011, "T", 5.0) in values(con)
    assert values(con, "OJ_A") == [("1440", 2011, "T", 6.0)]


def test_a_column_given_twice_is_refused(con, tmp_path):
    f = write(tmp_path / "d.csv", "Kommun;Nyckeltal;År;Värde;År\nAle;N20014;2011;5;2012\n")
    refused(lambda: import_kolada(con, [f]), f, 1, "duplicate column")


# -- the file itself -----------------------------------------------------------------------------------

def test_a_file_name_is_a_name_not_a_pattern(con, tmp_path):
    own = write(tmp_path / "f[1]*.csv", HEADER + "Ale;N20014;2011;1\r\n")
    write(tmp_path / "f1x.csv", HEADER + "Ale;N20014;2011;99\r\nAle;N20014;2012;99\r\n")   # what a glob would read
    s = import_kolada(con, [own])
    assert s.inserted == 1
    assert ("1440", 2011, "T", 1.0) in values(con) and all(v[3] != 99 for v in values(con))


@pytest.mark.parametrize("ends", ["\r\n|\r\n|\n", "\n|\r\n|\r", "\r|\r|\r", "\r\n|\r\n|", "\n|\r|\n"])
def test_any_mix_of_line_ends(con, tmp_path, ends):
    e = ends.split("|")
    text = "Kommun;Nyckeltal;År;Värde" + e[0] + "Ale;N20014;2011;1" + e[1] + "Arvika;N20014;2011;2" + e[2]
    f = write(tmp_path / "e.csv", text)
    s = import_kolada(con, [f])
    assert s.inserted == 2
    assert ("1784", 2011, "T", 2.0) in values(con)


def _line_end_kinds(data: bytes) -> str:
    """Reference for line_ends: which kinds of line end the whole text holds."""
    import re

    kinds = {"crlf" if m == b"\r\n" else "lf" if m == b"\n" else "cr" for m in re.findall(rb"\r\n|\r|\n", data)}
    return "none" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"


@pytest.mark.parametrize("seed", range(40))
def test_line_end_kind_is_the_same_whatever_the_chunks(tmp_path, seed):
    """line_ends reads in chunks and searches CR-free chunks only for an LF: with chunks of
    1-7 bytes every CR, LF and CRLF pair lands on a chunk edge somewhere."""
    import random

    from warehouse.importers.common import line_ends

    rnd = random.Random(seed)
    pieces = ["a", "b;", "\r\n", "\n", "\r"]
    weights = [5, 5] + rnd.choice([[3, 0, 0], [0, 3, 0], [0, 0, 3], [3, 1, 0], [0, 1, 1], [3, 0, 1], [1, 1, 1]])
    data = "".join(rnd.choices(pieces, weights, k=rnd.randint(0, 40))).encode()
    f = tmp_path / "ends.csv"
    f.write_bytes(data)
    for chunk in range(1, 8):
        assert line_ends(f, chunk_size=chunk) == _line_end_kinds(data), (data, chunk)


def test_line_numbers_count_every_kind_of_line_end(con, tmp_path):
    f = write(tmp_path / "e.csv", "Kommun;Nyckeltal;År;Värde\rAle;N20014;2011;1\r\nAle;N20014;2012;2\nAle;N20014;2013;zz\n")
    refused(lambda: import_kolada(con, [f]), f, 4, "non-numeric value")


def test_an_xlsx_named_csv_is_read_as_xlsx(con, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["Kommun", "Nyckeltal", "År", "Värde"])
    wb.active.append(["Ale", "N20014", 2011, 4.5])
    f = tmp_path / "export.csv"
    wb.save(f)
    import_kolada(con, [f])
    assert ("1440", 2011, "T", 4.5) in values(con)


def test_utf8_file_with_a_broken_byte_is_an_encoding_problem_with_its_line(con, tmp_path):
    f = write(tmp_path / "u.csv", HEADER.encode() + "Ale;N20014;2011;1\r\nÖrebro;N20014;2011;2\r\n".encode()
              + b"Al\xe4e;N20014;2012;3\r\n")
    refused(lambda: import_kolada(con, [f]), f, 4, "unreadable encoding", "0xe4")


def test_windows_1252_file_is_still_read(con, tmp_path):
    f = write(tmp_path / "w.csv", (HEADER + "Örebro;N20014;2011;2\r\n").encode("cp1252"))
    import_kolada(con, [f])
    assert ("1880", 2011, "T", 2.0) in values(con)


def test_a_field_over_the_limit_names_its_line(con, tmp_path):
    long = "N" * (common.FIELD_MAX_CHARS + 1)
    f = write(tmp_path / "l.csv", HEADER + "Ale;N20014;2011;1\r\nAle;" + long + ";2011;1\r\n")
    refused(lambda: import_kolada(con, [f]), f, 3, "field too long")
    f2 = write(tmp_path / "l2.csv", HEADER + "Ale;N20014;2011;" + "1" * (common.FIELD_MAX_CHARS + 1) + "\r\n")
    refused(lambda: import_kolada(con, [f2]), f2, 2)
    f3 = write(tmp_path / "l3.csv", HEADER + "Ale;N20014;2011;1\r\nAle;N20014;2012;" + "x" * (2 << 20) + "\r\n")
    refused(lambda: import_kolada(con, [f3]), f3, 3)


# -- Excel ---------------------------------------------------------------------------------------------

def _xlsx(path, rows):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("cell,what", [(dt.datetime(2024, 5, 1), "date"), (dt.date(2024, 5, 1), "date"),
                                       (True, "boolean"), ("#DIV/0!", "error")])
def test_excel_value_cell_that_is_a_date_boolean_or_error_is_a_bad_value(con, tmp_path, cell, what):
    f = _xlsx(tmp_path / "x.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"], ["Ale", "N20014", 2011, 1],
                                    ["Ale", "N20014", 2012, cell]])
    refused(lambda: import_kolada(con, [f]), f, 3, f"{what} cell", "D3")


def test_excel_year_with_a_fraction_or_a_date(con, tmp_path):
    f = _xlsx(tmp_path / "y.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"], ["Ale", "N20014", 2015.5, 1]])
    refused(lambda: import_kolada(con, [f]), f, 2, "invalid year")
    f2 = _xlsx(tmp_path / "y2.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"], ["Ale", "N20014", dt.date(2015, 1, 1), 1]])
    refused(lambda: import_kolada(con, [f2]), f2, 2, "date cell")


def test_xls_date_cell_is_a_bad_value(con, tmp_path):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sh = book.add_sheet("K")
    for j, v in enumerate(["Kommun", "Nyckeltal", "År", "Värde"]):
        sh.write(0, j, v)
    for j, v in enumerate(["Ale", "N20014", 2011]):
        sh.write(1, j, v)
    sh.write(1, 3, dt.datetime(2024, 5, 1), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    f = tmp_path / "d.xls"
    book.save(str(f))
    refused(lambda: import_kolada(con, [f]), f, 2, "date cell")


def test_grant_amount_cell_that_is_a_date(con, tmp_path):
    f = _xlsx(tmp_path / "g.xlsx", [["municipality_code", "year", "pot1_granted_sek", "pot2_granted_sek"],
                                    ["1440", 2013, dt.datetime(2024, 5, 1), None]])
    refused(lambda: import_grants(con, [f]), f, 2, "date cell")


def test_excel_over_the_row_limit_is_refused_before_it_is_loaded(con, tmp_path, monkeypatch):
    import openpyxl

    f = _xlsx(tmp_path / "big.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"]] + [["Ale", "N20014", 2011, i] for i in range(30)])
    monkeypatch.setattr(common, "XLSX_MAX_ROWS", 10)

    def never(*a, **k):
        raise AssertionError("the workbook was loaded")
    monkeypatch.setattr(openpyxl, "load_workbook", never)
    refused(lambda: import_kolada(con, [f]), f, None, "row limit")


def test_excel_without_dimension_stops_at_the_row_limit(con, tmp_path, monkeypatch):
    import zipfile

    src = _xlsx(tmp_path / "big.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"]] + [["Ale", "N20014", 2011, i] for i in range(30)])
    f = tmp_path / "nodim.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(f, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re
                data = re.sub(rb"<dimension[^>]*/>", b"", data)
            zout.writestr(item, data)
    monkeypatch.setattr(common, "XLSX_MAX_ROWS", 10)
    refused(lambda: import_kolada(con, [f]), f, None, "row limit")


@pytest.mark.parametrize("limit", ["XLSX_MAX_SHARED_STRINGS_BYTES", "XLSX_MAX_SHEET_BYTES"])
def test_excel_over_the_size_limits_is_refused_from_the_zip_directory(con, tmp_path, monkeypatch, limit):
    import zipfile

    f = _xlsx(tmp_path / "s.xlsx", [["Kommun", "Nyckeltal", "År", "Värde"]] + [[f"Ale{i}", "N20014", 2011, i] for i in range(50)])
    with zipfile.ZipFile(f, "a") as z:      # openpyxl writes inline strings: add a shared-strings part
        z.writestr("xl/sharedStrings.xml", "<sst>" + "<si><t>Ale</t></si>" * 100 + "</sst>")
    monkeypatch.setattr(common, limit, 1000)
    refused(lambda: import_kolada(con, [f]), f, None, "size limit")


# -- JSON ----------------------------------------------------------------------------------------------

def _kolada_json(path, period=2011, value=1.0, extra=None):
    v = {"gender": "T", "value": value, **(extra or {})}
    write(path, json.dumps({"values": [{"kpi": "N20014", "municipality": "1440", "period": period, "values": [v]}]}))
    return path


@pytest.mark.parametrize("period", [2011.5, True, "2011.5", [2011]])
def test_json_period_that_is_not_a_whole_year(con, tmp_path, period):
    f = _kolada_json(tmp_path / "p.json", period=period)
    msg = refused(lambda: import_kolada(con, [f]), f, None)
    assert "invalid year" in msg or "invalid field" in msg


@pytest.mark.parametrize("value", [True, [1], {"v": 1}, "1_0"])
def test_json_value_that_is_not_a_number(con, tmp_path, value):
    f = _kolada_json(tmp_path / "v.json", value=value)
    refused(lambda: import_kolada(con, [f]), f, None, "non-numeric value")


def test_json_values_kolada_marks_deleted_are_skipped(con, tmp_path):
    f = write(tmp_path / "d.json", json.dumps({"values": [{"kpi": "N20014", "municipality": "1440", "period": 2011, "values": [
        {"gender": "T", "value": 1.5, "isdeleted": True}, {"gender": "K", "value": 2.5, "isdeleted": False}]}]}))
    s = import_kolada(con, [f])
    assert (s.inserted, s.skipped) == (1, 1)
    assert any("isdeleted" in r for r in s.skipped_reasons)
    assert values(con) == [("1440", 2010, "T", 100.0), ("1440", 2011, "K", 2.5)]


def test_json_nested_deeper_than_the_limit(con, tmp_path):
    f = write(tmp_path / "deep.json", "[" * 50_000 + "]" * 50_000)
    refused(lambda: import_kolada(con, [f]), f, None, "nested too deep")


def test_json_over_the_size_limit(con, tmp_path, monkeypatch):
    f = _kolada_json(tmp_path / "big.json")
    monkeypatch.setattr(common, "JSON_MAX_BYTES", 50)
    refused(lambda: import_kolada(con, [f]), f, None, "size limit")


def test_json_number_with_thousands_of_digits(con, tmp_path):
    f = write(tmp_path / "n.json", '{"values": [{"kpi": "N20014", "municipality": "1440", "period": 2011, '
                                   '"values": [{"gender": "T", "value": ' + "9" * 5000 + "}]}]}")
    refused(lambda: import_kolada(con, [f]), f, None)


# -- indicators and META -------------------------------------------------------------------------------

def test_indicators_year_with_a_fraction(con, tmp_path):
    f = write(tmp_path / "i.csv", "municipality_code,kpi_id,year,value\n0180,OJ_A,2009.5,1\n")
    refused(lambda: import_indicators(con, [f]), f, 2, "invalid year")


def test_meta_row_sets_only_the_fields_it_has(con, tmp_path):
    meta = write(tmp_path / "m.csv", "kpi_id,title\noj_a,Ny titel\n")
    data = write(tmp_path / "d.csv", "municipality_code,kpi_id,year,value\n0180,OJ_A,2011,3\n")
    import_indicators(con, [data], kpis_meta=meta)
    assert con.execute("SELECT title, higher_is_better, perspective, area, unit FROM kpi WHERE kpi_id = 'OJ_A'").fetchall() == [
        ("Ny titel", True, "omsorgstagare", "Område", "%")]
    # An empty cell leaves the field too; a given one changes it.
    meta2 = write(tmp_path / "m2.csv", "kpi_id,higher_is_better,perspective\nOJ_A,,ekonomi\n")
    import_indicators(con, [data], kpis_meta=meta2)
    assert con.execute("SELECT higher_is_better, perspective FROM kpi WHERE kpi_id = 'OJ_A'").fetchall() == [(True, "ekonomi")]


def test_meta_new_kpi_needs_a_title(con, tmp_path):
    meta = write(tmp_path / "m.csv", "kpi_id,perspective\nNY_KPI,ekonomi\n")
    data = write(tmp_path / "d.csv", "municipality_code,kpi_id,year,value\n0180,NY_KPI,2011,3\n")
    refused(lambda: import_indicators(con, [data], kpis_meta=meta), meta, 2, "missing title")


# -- grants --------------------------------------------------------------------------------------------

GRANT_HEADER = "municipality_code,municipality_name,year,pot1_granted_sek,pot2_granted_sek\n"


@pytest.mark.parametrize("year", ["1800", "3000", "2013.5"])
def test_grant_year_out_of_range(con, tmp_path, year):
    f = write(tmp_path / "g.csv", GRANT_HEADER + f"1440,Ale,{year},5,\n")
    msg = refused(lambda: import_grants(con, [f]), f, 2)
    assert "year out of range" in msg or "invalid year" in msg


def test_grant_year_without_a_round_and_a_new_round_added(con, tmp_path):
    f = write(tmp_path / "g.csv", GRANT_HEADER + "1440,Ale,2014,5,\n")
    refused(lambda: import_grants(con, [f]), f, 2, "unknown grant round", "--rounds")
    rounds = write(tmp_path / "r.csv", "round,pot,announced_mnkr\n2014:1,1,70\n")
    s = import_grants(con, [f], rounds=rounds)
    assert s.inserted == 1
    assert con.execute("SELECT round, pot, granted_sek FROM grant_award WHERE municipality_code = '1440'").fetchall() == [
        ("2014:1", 1, 5)]
    assert con.execute("SELECT announced_sek FROM grant_round WHERE round = '2014:1'").fetchall() == [(70_000_000,)]


@pytest.mark.parametrize("amount,words", [("9223372036854775808", "amount out of range"), ("-1", "negative amount"),
                                          ("12.5", "non-numeric value"), ("1e3", "non-numeric value")])
def test_grant_amount_outside_the_column(con, tmp_path, amount, words):
    f = write(tmp_path / "g.csv", GRANT_HEADER + f"1440,Ale,2013,{amount},\n")
    refused(lambda: import_grants(con, [f]), f, 2, words)


def test_grant_amount_at_the_column_maximum(con, tmp_path):
    f = write(tmp_path / "g.csv", GRANT_HEADER + "1440,Ale,2013,9223372036854775807,\n")
    import_grants(con, [f])
    assert con.execute("SELECT granted_sek FROM grant_award WHERE pot = 1").fetchall() == [(9223372036854775807,)]


# -- through the CLI: special files and the warehouse file ----------------------------------------------

def _styrkort(*args, timeout=60):
    exe = REPO / ".venv" / "bin" / "styrkort"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "styrkort.cli"]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.fixture
def wh_file(rules_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(rules_db, db)
    return db


def _one_line_error(r, *words):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    text = " ".join((r.stdout + r.stderr).split())
    assert "Traceback" not in r.stderr and "unexpected error" not in text, text
    for w in words:
        assert w in text, text
    return text


def test_named_pipe_device_and_folder_are_refused_at_once(wh_file, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    before = snapshot(wh_file)
    for f, words in ((fifo, "named pipe"), ("/dev/zero", "device"), (tmp_path, "folder")):
        t0 = time.monotonic()
        r = _styrkort("import", "kolada", f, "--db", wh_file, timeout=60)
        _one_line_error(r, "not a regular file", words)
        assert time.monotonic() - t0 < 30
    assert snapshot(wh_file) == before


def test_db_that_is_a_text_file_a_folder_or_missing(tmp_path):
    good = write(tmp_path / "ok.csv", HEADER + "Ale;N20014;2011;1\r\n")
    text = write(tmp_path / "notes.txt", "hello\n")
    _one_line_error(_styrkort("import", "kolada", good, "--db", text), "not a DuckDB warehouse file")
    assert text.read_text() == "hello\n"
    _one_line_error(_styrkort("import", "kolada", good, "--db", tmp_path), "folder")
    _one_line_error(_styrkort("refresh", "--db", text), "not a DuckDB warehouse file")
    _one_line_error(_styrkort("build", "--db", text), "not a DuckDB warehouse file")
    assert text.read_text() == "hello\n"          # build never overwrites a file that is not a warehouse
    _one_line_error(_styrkort("import", "grants", good, "--db", tmp_path / "none.duckdb"), "warehouse not found")


def test_busy_warehouse_is_one_line_with_in_place_and_no_problem_without(wh_file, tmp_path):
    """A reader (like `styrkort serve`) holds the file: --in-place is refused with one line, the
    default (a copy swapped in) imports."""
    good = write(tmp_path / "ok.csv", HEADER + "Ale;N20014;2011;1\r\n")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
                               "read_only=True); print('open', flush=True); time.sleep(120)", str(wh_file)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        before = snapshot(wh_file)
        _one_line_error(_styrkort("import", "kolada", good, "--db", wh_file, "--in-place"), "warehouse busy")
        assert snapshot(wh_file) == before
        r = _styrkort("import", "kolada", good, "--db", wh_file)
        assert r.returncode == 0, r.stderr
    finally:
        holder.kill()
        holder.wait()
    c = duckdb.connect(str(wh_file), read_only=True)
    assert c.execute("SELECT value FROM kpi_value WHERE year = 2011").fetchall() == [(1.0,)]
    c.close()
