"""The one download helper (dashboard/components.table_file): hand-made tables in, the exact
CSV and Excel files out. What a downloaded file must carry: the shown columns under unique
headers, numbers rounded as on screen and stored as numbers, ASCII minus, booleans as ja/nej,
a demo column, the year, the settings, and in Excel a second sheet "Om filen"."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from dashboard import components as C


def _meta(columns, **kw):
    meta = C.download_meta(**kw)
    meta["columns"] = columns
    return meta


def _csv_rows(data: bytes, lang="sv"):
    assert data.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";" if lang == "sv" else ","))


# Tabell 1 of /urval shows two columns headed "Antal" (HTTP 500 before: df[c] was a DataFrame).
TABLE1 = [C.col("size_group", "Storleksgrupp"), C.col("high", "Höga"), C.col("high_n", "Antal", "int"),
          C.col("low", "Låga"), C.col("low_n", "Antal", "int")]
TABLE1_ROWS = [{"size_group": "Små", "high": "1, 2, 9", "high_n": 3, "low": "280", "low_n": 1},
               {"size_group": "Stora", "high": "", "high_n": 0, "low": "", "low_n": 0}]


def test_two_columns_with_the_same_header_download_as_csv_and_excel():
    meta = _meta(TABLE1, stem="urval-tabell1-2009", source="SKL", year=2009, demo=True)
    data, name = C.table_file(TABLE1_ROWS, meta, "csv", "sv")
    assert name == "urval-tabell1-2009.csv"
    rows = _csv_rows(data)
    assert rows[0] == ["Storleksgrupp", "Höga", "Antal", "Låga", "Antal (2)", "demo", "År"]
    assert rows[1] == ["Små", "1, 2, 9", "3", "280", "1", "ja", "2009"]
    data, name = C.table_file(TABLE1_ROWS, meta, "xlsx", "sv")
    assert name == "urval-tabell1-2009.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Tabell", "Om filen"]
    sheet = book["Tabell"]
    assert [c.value for c in sheet[1]] == ["Storleksgrupp", "Höga", "Antal", "Låga", "Antal (2)", "demo", "År"]
    assert [c.value for c in sheet[2]] == ["Små", "1, 2, 9", 3, "280", 1, "ja", 2009]


def test_numbers_rounded_as_on_screen_and_stored_as_numbers():
    cols = [C.col("name", "Kommun"), C.col("cost", "Nettokostnad", "kr"),
            C.col("dev", "Avvikelse", "percent", 1), C.col("share", "Beviljat av ram", "share", 1),
            C.col("idx", "Index", "number", 2), C.col("p", "p", "p"),
            C.col("ci_text", "95 % KI, nedre", raw="ci", decimals=3),
            C.col("applied", "Sökte", "bool")]
    rows = [{"name": "Ale", "cost": 260286.0465116279, "dev": 4.100000000000001, "share": 0.98765,
             "idx": -0.4449, "p": 0.00001234, "ci_text": "\u22120,123", "ci": -0.12345, "applied": False},
            {"name": "Bjuv", "cost": None, "dev": -12.25, "share": None, "idx": None, "p": 0.5,
             "ci_text": "–", "ci": None, "applied": True}]
    meta = _meta(cols, stem="kostnad-2010", year=2010, demo=False)
    rows_csv = _csv_rows(C.table_file(rows, meta, "csv", "sv")[0])
    assert rows_csv[0] == ["Kommun", "Nettokostnad (kr)", "Avvikelse (%)", "Beviljat av ram (%)", "Index",
                           "p", "95 % KI, nedre", "Sökte", "demo", "År"]
    # hand-rounded: 260 286 kr, 4,1 %, 98,8 %, −0,44, p 1,23e-05, KI −0,123 (ASCII minus)
    assert rows_csv[1] == ["Ale", "260286", "4,1", "98,8", "-0,44", "1,23e-05", "-0,123", "nej", "nej", "2010"]
    assert rows_csv[2] == ["Bjuv", "", "-12,2", "", "", "0,5", "", "ja", "nej", "2010"]
    assert "\u2212" not in C.table_file(rows, meta, "csv", "sv")[0].decode("utf-8-sig")
    sheet = openpyxl.load_workbook(io.BytesIO(C.table_file(rows, meta, "xlsx", "sv")[0]))["Tabell"]
    ale = [c.value for c in sheet[2]]
    assert ale[:7] == ["Ale", 260286, 4.1, 98.8, -0.44, 1.23e-05, -0.123]
    assert all(isinstance(v, (int, float)) for v in ale[1:7])
    assert sheet.cell(2, 3).number_format == "#,##0.0" and sheet.cell(2, 2).number_format == "#,##0"


def test_english_csv_uses_commas_points_and_yes_no():
    cols = [C.col("name", "Municipality"), C.col("v", "Value", "number", 1), C.col("b", "Applied", "bool")]
    meta = _meta(cols, stem="x", year=2013, demo="is_demo")
    rows = _csv_rows(C.table_file([{"name": "Ale", "v": 1234.56, "b": True, "is_demo": True}], meta, "csv", "en")[0],
                     "en")
    assert rows == [["Municipality", "Value", "Applied", "demo", "Year"], ["Ale", "1234.6", "yes", "yes", "2013"]]


def test_per_row_demo_flag_settings_and_about_sheet():
    cols = [C.col("name", "Kommun"), C.col("demo_text", "demo"), C.col("rank", "Rang", "int")]
    rows = [{"name": "Ale", "demo_text": "demo", "rank": 1, "is_demo": True},
            {"name": "Bjuv", "demo_text": "", "rank": 2, "is_demo": False}]
    meta = _meta(cols, stem="urval-2009-lan1-3f9a2c", source="Sammanvägt index", year=2009, demo="is_demo",
                 settings=[("Högst per län", 1), ("Byten", "0180→1480: närmare"), ("Konfigurationens hash", "3f9a2c")],
                 title="Urvalet 15/15 2009")
    rows_csv = _csv_rows(C.table_file(rows, meta, "csv", "sv")[0])
    # the page's own demo column gives way to the canonical one (one "demo" column, ja/nej)
    assert rows_csv[0] == ["Kommun", "Rang", "demo", "År", "Högst per län", "Byten", "Konfigurationens hash"]
    assert rows_csv[1] == ["Ale", "1", "ja", "2009", "1", "0180→1480: närmare", "3f9a2c"]
    assert rows_csv[2][:3] == ["Bjuv", "2", "nej"]
    book = openpyxl.load_workbook(io.BytesIO(C.table_file(rows, meta, "xlsx", "sv")[0]))
    about = {r[0].value: r[1].value for r in book["Om filen"].iter_rows()}
    assert about["Tabell"] == "Urvalet 15/15 2009" and about["Källa"] == "Sammanvägt index"
    assert about["År"] == "2009" and about["Högst per län"] == "1" and about["Konfigurationens hash"] == "3f9a2c"
    assert "demo = ja" in about["demo"] and about["Skapad"][:2] == "20"


def test_text_cells_are_formula_safe():
    cols = [C.col("name", "Kommun")]
    meta = _meta(cols, stem="x")
    rows_csv = _csv_rows(C.table_file([{"name": '=HYPERLINK("http://x")'}, {"name": "@SUM(A1)"}],
                                      meta, "csv", "sv")[0])
    assert rows_csv[1:] == [["'=HYPERLINK(\"http://x\")"], ["'@SUM(A1)"]]


@pytest.mark.parametrize("parts, stem", [(("urval", 2009, "lan1", "3f9a2c"), "urval-2009-lan1-3f9a2c"),
                                         (("karta", "kpi:DEMO_X", 2013), "karta-kpi-DEMO_X-2013"),
                                         (("statsbidrag", "2013:1"), "statsbidrag-2013-1")])
def test_file_names_say_what_is_in_them(parts, stem):
    assert C.file_stem(*parts) == stem
