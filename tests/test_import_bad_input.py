"""Bad input: every case stops with a message naming the file, the line and the problem,
exits non-zero, and leaves every table of the warehouse exactly as it was."""
from __future__ import annotations

import zipfile

import pytest

from test_import_common import FIXTURES, cli, cli_refuses, query, snapshot, tiny_wh, wh, write  # noqa: F401

HEADER = "Kommun/Landsting;Nyckeltal;År;Visat Värde\r\n"


@pytest.fixture
def seeded(wh):
    """A warehouse that already holds one imported file, so 'unchanged' is not trivially empty."""
    f = write(wh.parent / "seed.csv", HEADER + "Ale;N20014;2009;100\r\nStockholm;N20014;2009;200\r\n")
    assert cli("import", "kolada", f, "--db", wh).exit_code == 0
    return wh


def _fails(db, files, *, line, words, extra=()):
    return cli_refuses(db, "kolada", files, line=line, words=words, extra=extra)


def test_unreadable_encoding(seeded):
    # 0x81 is undefined in Windows-1252 and invalid UTF-8: neither codec reads line 3.
    f = write(seeded.parent / "enc.csv", HEADER.encode() + b"Ale;N20014;2010;1\r\nAl\x81e;N20014;2011;2\r\n")
    _fails(seeded, [f], line=3, words=["unreadable encoding", "0x81"])


def test_utf16_without_bom_is_unreadable(seeded):
    f = write(seeded.parent / "u16.csv", (HEADER + "Ale;N20014;2010;1\r\n").encode("utf-16-le"))
    out = _fails(seeded, [f], line=None, words=[])
    assert "wrong file type" in out or "unreadable encoding" in out


def test_missing_column(seeded):
    f = write(seeded.parent / "miss.csv", "Kommun/Landsting;Nyckeltal;Visat Värde\r\nAle;N20014;1\r\n")
    _fails(seeded, [f], line=1, words=["missing column", "year_raw"])


def test_non_numeric_value(seeded):
    f = write(seeded.parent / "num.csv", HEADER + "Ale;N20014;2010;1,5\r\nAle;N20014;2011;12abc\r\n")
    _fails(seeded, [f], line=3, words=["non-numeric value", "'12abc'"])


def test_non_numeric_value_line_counts_blank_and_multiline_records(seeded):
    """Line numbers are physical lines: a blank line and a quoted line break count."""
    f = write(seeded.parent / "num2.csv", HEADER + "\r\n\"Ale\";\"N20014\";2010;1\r\n"
                                                   "\"Ale\";\"Netto-\r\nkostnad\";2011;2\r\nAle;N20014;2012;zz\r\n")
    _fails(seeded, [f], line=6, words=["non-numeric value", "'zz'"])


def test_invalid_year(seeded):
    f = write(seeded.parent / "year.csv", HEADER + "Ale;N20014;tjugotio;1\r\n")
    _fails(seeded, [f], line=2, words=["invalid year"])


def test_unknown_municipality_name(seeded):
    f = write(seeded.parent / "name.csv", HEADER + "Ale;N20014;2010;1\r\nAle;N20014;2011;1\r\nSkogsby;N20014;2010;1\r\n")
    _fails(seeded, [f], line=4, words=["unknown municipality", "'Skogsby'", "--allow-unmapped"])


def test_allow_unmapped_skips_and_lists(seeded):
    f = write(seeded.parent / "name.csv", HEADER + "Ale;N20014;2010;1\r\nSkogsby;N20014;2010;1\r\nSkogsby;N20014;2011;1\r\n")
    r = cli("import", "kolada", f, "--allow-unmapped", "--db", seeded)
    assert r.exit_code == 0, r.output
    assert "Skogsby" in r.output and "unmapped" in r.output
    assert query(seeded, "SELECT count(*) FROM kpi_values WHERE year = 2010")[0][0] == 1
    assert query(seeded, "SELECT inserted, skipped, unmapped FROM import_log ORDER BY imported_at")[-1] == (1, 2, '["Skogsby"]')


def test_duplicate_key_different_value_in_file(seeded):
    # 'Ale' and '1440' are the same municipality: a conflict, reported at the second row.
    f = write(seeded.parent / "dup.csv", HEADER + "Ale;N20014;2010;1\r\nArvika;N20014;2010;5\r\n1440;N20014;2010;2\r\n")
    _fails(seeded, [f], line=4, words=["duplicate key with a different value", "rad 2"])


def test_duplicate_key_across_files_of_one_command(seeded):
    a = write(seeded.parent / "a.csv", HEADER + "Ale;N20014;2010;1\r\n")
    b = write(seeded.parent / "b.csv", HEADER + "Ale;N20014;2010;3\r\n")
    out = _fails(seeded, [a, b], line=2, words=["duplicate key with a different value", "a.csv"])
    assert "b.csv" in out


def test_good_file_then_bad_file_imports_nothing(seeded):
    good = write(seeded.parent / "good.csv", HEADER + "Ale;N20014;2012;1\r\n")
    bad = write(seeded.parent / "bad.csv", HEADER + "Ale;N20014;2013;?\r\n")
    _fails(seeded, [good, bad], line=2, words=["non-numeric value"])


def test_empty_file(seeded):
    f = write(seeded.parent / "empty.csv", b"")
    _fails(seeded, [f], line=None, words=["empty file"])


def test_header_only_file(seeded):
    f = write(seeded.parent / "header.csv", HEADER)
    _fails(seeded, [f], line=None, words=["empty file"])


def test_wrong_file_type_png(seeded):
    f = write(seeded.parent / "bild.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    _fails(seeded, [f], line=None, words=["wrong file type"])


def test_wrong_file_type_zip(seeded):
    f = seeded.parent / "arkiv.xlsx"
    with zipfile.ZipFile(f, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    _fails(seeded, [f], line=None, words=["wrong file type"])


def test_wrong_file_type_kolada_metadata_json(seeded):
    _fails(seeded, [FIXTURES / "kolada_v2_metadata_kpi.json"], line=None, words=["wrong file type"])


def test_wrong_number_of_columns(seeded):
    f = write(seeded.parent / "cols.csv", HEADER + "Ale;N20014;2010;1\r\nAle;N20014;2011\r\n")
    _fails(seeded, [f], line=3, words=["wrong number of columns"])


def test_json_entry_is_named(seeded):
    f = write(seeded.parent / "bad.json", '{"values": [{"kpi": "N20014", "municipality": "1440", "period": 2010, '
                                          '"values": [{"gender": "T", "value": 1}]}, {"kpi": "N20014", "municipality": "1440", '
                                          '"values": []}]}')
    out = _fails(seeded, [f], line=None, words=["missing field", "'period'"])
    assert "post (entry) 2" in out


def test_json_non_numeric_value_names_entry(seeded):
    f = write(seeded.parent / "bad2.json", '{"values": [{"kpi": "N20014", "municipality": "1440", "period": 2010, '
                                           '"values": [{"gender": "T", "value": "mycket"}]}]}')
    out = _fails(seeded, [f], line=None, words=["non-numeric value"])
    assert "post (entry) 1, values[0].values[0]" in out


def test_missing_warehouse_is_an_error_not_a_new_file(tmp_path):
    db = tmp_path / "none.duckdb"
    r = cli("import", "kolada", FIXTURES / "kolada_v2_data.json", "--db", db)
    assert r.exit_code != 0
    assert not db.exists()
