"""A fixed corpus of adversarial import files with the expected outcome of each, generated at test
time (nothing large is committed) and run in ONE process.

    python tests/import_corpus.py run --db WAREHOUSE --folder DIR --out RESULTS.json

`generate(folder)` writes the files and returns the cases: the same small Kolada table in twelve
formats (CSV in several encodings, separators, quoting and line ends; .xlsx, .xlsx named .csv,
.xls; JSON) imported exactly, then each format with one defect (a year with a fraction or out of
range, values that are not finite numbers, a code with another municipality's name, an unknown
municipality, a conflicting duplicate, an over-long field, broken bytes, a broken row, Excel cells
that are dates, booleans or errors), JSON defects, files that are not tables at all (empty, binary,
HTML, damaged zip, named pipe, folder, device), grant tables and indicator files with their own
rules. Each case says what must happen: "ok" with the exact rows the warehouse must gain, or
"refused" with the line (or JSON entry) and the English key words of the problem.

`run(db, cases)` imports each case in a transaction on a private copy of `db` and rolls back, so
every case starts from the same warehouse; it records the outcome, the time and (at the end) the
process's peak memory. Anything but an `ImportFailure` is recorded as a crash.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import time
import traceback
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

NEXT_YEAR = dt.date.today().year + 1
FIELD_MAX = 32_767

# The Kolada table every format carries: (municipality, KPI, year, value). Row 4 is a missing
# value (skipped), row 5 an aggregate row (a benchmark).
BASE_ROWS = [
    ["Ale", "N20014", "2011", "5,5"],
    ["Stockholm", "N20014", "2011", "8 111,73"],
    ["Göteborg", "n20014", "2012", "12.25"],
    ["Upplands Väsby", "N00905", "2011", "231 000"],
    ["Malung-Sälen", "N20014", "2011", ".."],
    ["Alla kommuner (ovägt medel)", "N20014", "2011", "7000"],
]
BASE_VALUES = {("N20014", "1440", 2011, "T", 5.5), ("N20014", "0180", 2011, "T", 8111.73),
               ("N20014", "1480", 2012, "T", 12.25), ("N00905", "0114", 2011, "T", 231000.0)}
BASE_BENCH = {("N20014", "Alla kommuner (ovägt medel)", 2011, 7000.0)}
WEB = ["Kommun/Landsting", "Nyckeltal", "År", "Visat Värde"]
LONG = ["Variabelkod", "Kommun", "År", "Värde"]          # another column order


@dataclass
class Case:
    name: str
    importer: str                        # kolada | indicators | grants
    files: list[str]
    expect: str                          # ok | refused
    kind: str = ""                       # class of the defect (refused) or of the format (ok)
    line: int | str | None = None        # expected "rad (line) N" or a label such as "post (entry) 2"
    words: list[str] = field(default_factory=list)
    values: list | None = None           # ok: the kpi_value rows the warehouse gains
    bench: list | None = None            # ok: the benchmark_value rows
    grants: list | None = None           # ok (grants): grant_award rows (code, round, pot, granted)
    kwargs: dict = field(default_factory=dict)


# -- writers ---------------------------------------------------------------------------------------------

def _order(header, rows):
    """Rows in WEB column order -> the header's order (LONG swaps the first two)."""
    if header == LONG:
        return [[r[1], r[0], r[2], r[3]] + r[4:] for r in rows]
    return rows


def write_csv(path: Path, header, rows, *, enc="utf-8", delim=";", quote=None, eol="\r\n", last_eol=None,
              blank_lines=False, raw_rows: dict | None = None) -> Path:
    """raw_rows: index -> bytes replacing that row's encoded text (broken bytes, broken quotes).
    Quoted by default when the separator is ',' (decimal commas in the values)."""
    quote = (delim == ",") if quote is None else quote
    cont = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(enc, enc)   # one BOM, at the start

    def fmt(cells):
        if quote:
            return delim.join('"' + str(c).replace('"', '""') + '"' for c in cells)
        return delim.join(str(c) for c in cells)
    parts = [fmt(header).encode(enc)]
    for i, r in enumerate(_order(header, rows)):
        parts.append(eol.encode(cont) * (2 if blank_lines else 1))
        parts.append(raw_rows[i] if raw_rows and i in raw_rows else fmt(r).encode(cont))
    parts.append((eol if last_eol is None else last_eol).encode(cont))
    path.write_bytes(b"".join(parts))
    return path


def _excel_cell(v):
    if isinstance(v, str) and v.isdigit() and len(v) == 4:
        return int(v)               # years as numbers, as Excel keeps them
    return v


def write_xlsx(path: Path, header, rows, title: str | None = None) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in _order(header, rows):
        ws.append([_excel_cell(c) for c in r])
    with open(path, "wb") as f:      # a file object: the name may end in .csv
        wb.save(f)
    return path


def write_xls(path: Path, header, rows) -> Path:
    import xlwt

    book = xlwt.Workbook()
    sh = book.add_sheet("Kolada")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for j, v in enumerate(header):
        sh.write(0, j, v)
    for i, r in enumerate(_order(header, rows), start=1):
        for j, v in enumerate(r):
            v = _excel_cell(v)
            if isinstance(v, (dt.date, dt.datetime)):
                sh.write(i, j, v, date_style)
            else:
                sh.write(i, j, v)
    book.save(str(path))
    return path


# -- the Kolada formats ---------------------------------------------------------------------------------

@dataclass
class Fmt:
    name: str
    write: object            # (path, rows, raw_rows) -> path
    suffix: str
    line0: int = 2           # line of data row 0
    step: int = 1            # lines per data row
    csv: bool = True
    excel: bool = False
    non_ascii_header: bool = True


def _fmt(name, suffix, line0=2, step=1, csv=True, excel=False, **kw):
    header = kw.pop("header", WEB)
    if excel == "xlsx":
        w = lambda p, rows, raw=None: write_xlsx(p, header, rows)           # noqa: E731
    elif excel == "xls":
        w = lambda p, rows, raw=None: write_xls(p, header, rows)            # noqa: E731
    else:
        w = lambda p, rows, raw=None: write_csv(p, header, rows, raw_rows=raw, **kw)  # noqa: E731
    return Fmt(name, w, suffix, line0, step, csv, bool(excel))


FORMATS = [
    _fmt("csv-utf8-semicolon-crlf", ".csv"),
    _fmt("csv-cp1252-crlf", ".csv", enc="cp1252"),
    _fmt("csv-bom-comma-quoted-lf", ".csv", enc="utf-8-sig", delim=",", quote=True, eol="\n"),
    _fmt("csv-utf16-tab", ".txt", enc="utf-16", delim="\t"),
    _fmt("csv-long-extract-order-mixed-ends", ".csv", header=LONG, delim=",", eol="\n", last_eol="\r\n"),
    _fmt("csv-cr-only", ".csv", eol="\r"),
    _fmt("csv-crlf-last-line-lf", ".csv", last_eol="\n"),
    _fmt("csv-blank-lines-between", ".csv", line0=3, step=2, blank_lines=True),
    _fmt("csv-glob-name", ".csv"),
    _fmt("xlsx", ".xlsx", csv=False, excel="xlsx"),
    _fmt("xlsx-named-csv", ".csv", csv=False, excel="xlsx"),
    _fmt("xls", ".xls", csv=False, excel="xls"),
]
FORMATS[4].write = (lambda p, rows, raw=None: write_csv(p, LONG, rows, delim=",", eol="\n", raw_rows=raw,
                                                        last_eol="\r\n") if raw else _mixed_ends(p, rows))


def _mixed_ends(path, rows):
    """LONG order, ',' and every kind of line end in one file."""
    lines = [",".join(LONG)] + [",".join(f'"{c}"' for c in r) for r in _order(LONG, rows)]
    ends = ["\r\n", "\n", "\r"]
    text = "".join(line + ends[i % 3] for i, line in enumerate(lines))
    path.write_bytes(text.encode("utf-8"))
    return path


def _with(rows, i, col, value):
    out = [list(r) for r in rows]
    out[i][col] = value
    return out


# Defects every format can carry, applied to data row 2 (Göteborg): (name, kind, rows, words).
def _row_defects():
    r = BASE_ROWS
    return [
        ("year-fraction", "year", _with(r, 2, 2, "2011.5"), ["invalid year"]),
        ("year-before-1990", "year", _with(r, 2, 2, "1989"), ["invalid year"]),
        ("year-after-next", "year", _with(r, 2, 2, str(NEXT_YEAR + 1)), ["invalid year"]),
        ("year-exponent", "year", _with(r, 2, 2, "2e03"), ["invalid year"]),
        ("year-text", "year", _with(r, 2, 2, "tjugotolv"), ["invalid year"]),
        ("value-text", "value", _with(r, 2, 3, "12abc"), ["non-numeric value"]),
        ("value-underscore", "value", _with(r, 2, 3, "1_000"), ["non-numeric value"]),
        ("value-inf", "value", _with(r, 2, 3, "inf"), ["non-numeric value"]),
        ("value-nan", "value", _with(r, 2, 3, "NaN"), ["non-numeric value"]),
        ("value-huge-exponent", "value", _with(r, 2, 3, "1e999"), ["non-numeric value"]),
        ("code-with-other-name", "conflict", _with(r, 2, 0, "0180 Göteborg"), ["code and name disagree"]),
        ("unknown-municipality", "unknown", _with(r, 2, 0, "Skogsby"), ["unknown municipality"]),
        ("empty-municipality", "missing", _with(r, 2, 0, ""), ["missing municipality"]),
        ("kpi-field-too-long", "limit", _with(r, 2, 1, "N" * (FIELD_MAX + 1)), ["field too long"]),
    ]


def _kolada_cases(folder: Path) -> list[Case]:
    cases = []
    for f in FORMATS:
        d = folder / f.name
        d.mkdir()
        stem = "f[1]*?" if f.name == "csv-glob-name" else "data"
        if f.name == "csv-glob-name":       # what a glob would also read
            write_csv(d / "f1xy.csv", WEB, [["Ale", "N20014", "2011", "99"], ["Ale", "N20014", "2013", "99"]])
        p = f.write(d / f"{stem}{f.suffix}", BASE_ROWS)
        cases.append(Case(f"kolada/{f.name}/ok", "kolada", [str(p)], "ok", f.name,
                          values=sorted(BASE_VALUES), bench=sorted(BASE_BENCH)))
        for name, kind, rows, words in _row_defects():
            if f.excel and kind == "limit":
                continue        # Excel itself cuts a cell at 32 767 characters (openpyxl, xlwt)
            try:
                p = f.write(d / f"{stem}-{name}{f.suffix}", rows)
            except Exception:   # a writer that cannot hold the defect (xlwt: 32 767 characters)
                continue
            cases.append(Case(f"kolada/{f.name}/{name}", "kolada", [str(p)], "refused", kind,
                              f.line0 + 2 * f.step, words))
        # A conflicting duplicate: row 0 again (Ale as its code) with another value, at the end.
        rows = BASE_ROWS + [["1440", "N20014", "2011", "6"]]
        p = f.write(d / f"{stem}-duplicate{f.suffix}", rows)
        cases.append(Case(f"kolada/{f.name}/duplicate-other-value", "kolada", [str(p)], "refused", "duplicate",
                          f.line0 + len(BASE_ROWS) * f.step, ["duplicate key with a different value"]))
        # The same row twice with the same value: skipped, not an error.
        rows = BASE_ROWS + [["Ale", "N20014", "2011", "5.5"]]
        p = f.write(d / f"{stem}-duplicate-same{f.suffix}", rows)
        cases.append(Case(f"kolada/{f.name}/duplicate-same-value", "kolada", [str(p)], "ok", "duplicate",
                          values=sorted(BASE_VALUES), bench=sorted(BASE_BENCH)))
        if f.csv and f.name != "csv-utf16-tab":
            enc_bad = b"\x81" if "cp1252" in f.name else b"\xff"
            raw = {2: enc_bad + b"bad"}
            p = f.write(d / f"{stem}-broken-byte{f.suffix}", BASE_ROWS, raw)
            cases.append(Case(f"kolada/{f.name}/broken-byte", "kolada", [str(p)], "refused", "encoding",
                              f.line0 + 2 * f.step, ["unreadable encoding"]))
            delim = "," if ("comma" in f.name or "long" in f.name) else ";"
            cells = _order(WEB if "long" not in f.name else LONG, [BASE_ROWS[2]])[0] + ["extra"]
            extra = delim.join(f'"{c}"' if delim == "," else c for c in cells)
            p = f.write(d / f"{stem}-extra-column{f.suffix}", BASE_ROWS, {2: extra.encode("cp1252" if "cp1252" in f.name else "utf-8")})
            cases.append(Case(f"kolada/{f.name}/extra-column", "kolada", [str(p)], "refused", "columns",
                              f.line0 + 2 * f.step, ["wrong number of columns"]))
        if f.excel:
            for name, cell, words in (("date-value", dt.datetime(2024, 5, 1), "date cell"),
                                      ("date-only-value", dt.date(2024, 5, 1), "date cell"),
                                      ("bool-value", True, "boolean cell"),
                                      ("year-float", 2011.5, "invalid year")):
                col = 2 if name == "year-float" else 3
                rows = _with(BASE_ROWS, 2, col, cell)
                if f.name == "xls" and name == "date-only-value":
                    continue
                p = f.write(d / f"{stem}-{name}{f.suffix}", rows)
                cases.append(Case(f"kolada/{f.name}/{name}", "kolada", [str(p)], "refused", "excel-cell",
                                  f.line0 + 2 * f.step, [words]))
            if f.name != "xls":
                rows = _with(BASE_ROWS, 2, 3, "#DIV/0!")
                p = f.write(d / f"{stem}-error-value{f.suffix}", rows)
                cases.append(Case(f"kolada/{f.name}/error-value", "kolada", [str(p)], "refused", "excel-cell",
                                  f.line0 + 2 * f.step, ["error cell"]))
    return cases


# -- structure and file-type cases -------------------------------------------------------------------------

def _file_cases(folder: Path) -> list[Case]:
    d = folder / "files"
    d.mkdir()
    cases = []

    def refused(name, path, kind, words, line=None, importer="kolada"):
        cases.append(Case(f"{importer}/file/{name}", importer, [str(path)], "refused", kind, line, words))

    def raw(name, data: bytes):
        p = d / name
        p.write_bytes(data)
        return p

    hdr = ";".join(WEB).encode()
    refused("empty", raw("empty.csv", b""), "empty", ["empty file"])
    refused("whitespace-only", raw("ws.csv", b" \r\n\t\n"), "empty", ["empty file"])
    refused("header-only", raw("header.csv", hdr + b"\r\n"), "empty", ["empty file"])
    refused("png", raw("bild.csv", b"\x89PNG\r\n\x1a\n" + bytes(100)), "type", ["wrong file type"])
    refused("pdf", raw("doc.csv", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj"), "type", ["wrong file type"])
    refused("html-as-xls", raw("export.xls", b"<html><table><tr><td>Kommun</td></tr></table></html>"), "type",
            ["wrong file type"])
    refused("xml", raw("data.xml", b"<?xml version='1.0'?><a/>"), "type", ["wrong file type"])
    refused("nul-bytes", raw("nul.csv", hdr + b"\r\nAle;N20\x0014;2011;1\r\n"), "type", ["wrong file type"])
    refused("utf16-no-bom", raw("u16.csv", ";".join(WEB).encode("utf-16-le") + "\r\nAle;N20014;2011;1\r\n".encode("utf-16-le")),
            "type", [])
    with zipfile.ZipFile(d / "arkiv.xlsx", "w") as z:
        z.writestr("readme.txt", "not a workbook")
    refused("zip-not-workbook", d / "arkiv.xlsx", "type", ["wrong file type"])
    refused("damaged-zip", raw("trasig.xlsx", b"PK\x03\x04" + bytes(60)), "type", ["wrong file type"])
    refused("truncated-xlsx", raw("halv.xlsx", (write_xlsx(d / "_full.xlsx", WEB, BASE_ROWS)).read_bytes()[:700]),
            "type", [])
    # An .xlsx whose sheet declares more rows than the limit: refused from its <dimension>.
    big = d / "dimension.xlsx"
    src = write_xlsx(d / "_src.xlsx", WEB, BASE_ROWS)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(big, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:D1500000"/>', data)
            zout.writestr(item, data)
    refused("xlsx-1.5M-rows-declared", big, "limit", ["row limit"])
    refused("missing-column", raw("miss.csv", "Kommun/Landsting;Nyckeltal;Visat Värde\r\nAle;N20014;1\r\n".encode()),
            "columns", ["missing column"], 1)
    refused("duplicate-column", raw("dupcol.csv", "Kommun;Nyckeltal;År;Värde;År\r\nAle;N20014;2011;1;2012\r\n".encode()),
            "columns", ["duplicate column"], 1)
    refused("header-only-title", raw("title.csv", b"Kolada export\r\n"), "columns", ["missing column"], 1)
    refused("unterminated-quote", raw("quote.csv", hdr + b'\r\nAle;N20014;2011;1\r\n"Ale;N20014;2012;2\r\nAle;N20014;2013;3\r\n'),
            "quote", ["unterminated quote"], 3)
    refused("quote-then-text", raw("quote2.csv", hdr + b'\r\nAle;N20014;2011;1\r\n"Ale"x;N20014;2012;2\r\n'), "quote", [], 3)
    refused("short-row", raw("short.csv", hdr + b"\r\nAle;N20014;2011;1\r\nAle;N20014;2012\r\n"), "columns",
            ["wrong number of columns"], 3)
    refused("line-over-1MiB", raw("longline.csv", hdr + b"\r\nAle;N20014;2011;1\r\nAle;N20014;2012;" + b"9" * (2 << 20) + b"\r\n"),
            "limit", [], 3)
    refused("value-field-too-long", raw("longvalue.csv", hdr + b"\r\nAle;N20014;2011;" + b"9" * (FIELD_MAX + 5) + b"\r\n"),
            "limit", [], 2)
    refused("utf8-header-then-latin1", raw("mix.csv", "Kommun/Landsting;Nyckeltal;År;Visat Värde\r\nÖrebro;N20014;2011;1\r\n".encode()
                                           + b"G\xf6teborg;N20014;2011;2\r\n"), "encoding", ["unreadable encoding"], 3)
    refused("bom-then-latin1", raw("bom.csv", b"\xef\xbb\xbf" + hdr + b"\r\nG\xf6teborg;N20014;2011;2\r\n"), "encoding",
            ["unreadable encoding"], 2)
    refused("undefined-cp1252-byte", raw("cp.csv", "Kommun/Landsting;Nyckeltal;År;Visat Värde".encode("cp1252")
                                         + b"\r\nAle;N20014;2011;1\r\nA\x81le;N20014;2012;2\r\n"), "encoding",
            ["unreadable encoding"], 3)
    refused("missing-file", d / "finns-inte.csv", "special", ["file not found"])
    refused("folder", d, "special", ["not a regular file", "folder"])
    refused("char-device", Path("/dev/null"), "special", ["not a regular file", "device"])
    fifo = d / "pipe.csv"
    os.mkfifo(fifo)
    refused("named-pipe", fifo, "special", ["not a regular file", "named pipe"])
    loop = d / "loop.csv"
    os.symlink(loop, loop)
    refused("symlink-loop", loop, "special", ["cannot open file"])
    # Ordinary files with unusual names are read as they are.
    for name in ("a b.csv", "ä ö å.csv", "*.csv", "x[0-9].csv", "{a,b}.csv", "-minus.csv", "semi;colon.csv"):
        p = write_csv(d / name, WEB, BASE_ROWS)
        cases.append(Case(f"kolada/file/name {name}", "kolada", [str(p)], "ok", "name",
                          values=sorted(BASE_VALUES), bench=sorted(BASE_BENCH)))
    link = d / "link.csv"
    os.symlink(d / "a b.csv", link)
    cases.append(Case("kolada/file/symlink-to-file", "kolada", [str(link)], "ok", "name",
                      values=sorted(BASE_VALUES), bench=sorted(BASE_BENCH)))
    # Two files in one command: a good one and a bad one -> nothing imported.
    good = write_csv(d / "good.csv", WEB, BASE_ROWS)
    bad = write_csv(d / "bad.csv", WEB, _with(BASE_ROWS, 1, 2, "2011.5"))
    cases.append(Case("kolada/file/good-then-bad", "kolada", [str(good), str(bad)], "refused", "year", 3,
                      ["invalid year"]))
    return cases


# -- JSON -----------------------------------------------------------------------------------------------------

JSON_ITEMS = [
    {"kpi": "N20014", "municipality": "1440", "period": 2011,
     "values": [{"gender": "T", "value": 5.5}, {"gender": "K", "value": 6}, {"gender": "M", "value": None}]},
    {"kpi": "n20014", "municipality": "0180", "period": 2011, "values": [{"gender": "T", "value": 8111.73}]},
    {"kpi": "N20014", "municipality": "0000", "period": 2011, "values": [{"gender": "T", "value": 7000}]},
]
JSON_VALUES = {("N20014", "1440", 2011, "T", 5.5), ("N20014", "1440", 2011, "K", 6.0),
               ("N20014", "0180", 2011, "T", 8111.73)}
JSON_BENCH = {("N20014", "Riket", 2011, 7000.0)}


def _json_cases(folder: Path) -> list[Case]:
    d = folder / "json"
    d.mkdir()
    cases = []

    def put(name, obj_or_text) -> Path:
        p = d / name
        p.write_text(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text), encoding="utf-8")
        return p

    def ok(name, obj, values=JSON_VALUES, bench=JSON_BENCH):
        cases.append(Case(f"kolada/json/{name}", "kolada", [str(put(name + ".json", obj))], "ok", "json",
                          values=sorted(values), bench=sorted(bench)))

    def refused(name, obj, words, line=None, kind="json"):
        cases.append(Case(f"kolada/json/{name}", "kolada", [str(put(name + ".json", obj))], "refused", kind, line, words))

    import copy

    ok("v2", {"count": 3, "values": JSON_ITEMS})
    ok("v3-envelope", {"count": 3, "values": JSON_ITEMS, "next_url": None, "previous_url": None})
    ok("pages-list", [{"values": JSON_ITEMS[:1], "next_url": "x"}, {"values": JSON_ITEMS[1:], "next_url": None}])
    ok("bare-list", JSON_ITEMS)
    deleted = copy.deepcopy(JSON_ITEMS)
    deleted[0]["values"][1]["isdeleted"] = True
    deleted[0]["values"][0]["isdeleted"] = False
    ok("isdeleted", {"values": deleted}, values=JSON_VALUES - {("N20014", "1440", 2011, "K", 6.0)})
    ok("period-as-text", {"values": [dict(JSON_ITEMS[0], period="2011")] + JSON_ITEMS[1:]})
    ok("period-float-whole", {"values": [dict(JSON_ITEMS[0], period=2011.0)] + JSON_ITEMS[1:]})

    def item0(**kw):
        return {"values": [dict(JSON_ITEMS[0], **kw)] + JSON_ITEMS[1:]}

    def value0(v, **kw):
        it = copy.deepcopy(JSON_ITEMS)
        it[0]["values"][0] = {"gender": "T", "value": v, **kw}
        return {"values": it}

    refused("period-fraction", item0(period=2011.5), ["invalid year"], "post (entry) 1")
    refused("period-true", item0(period=True), ["invalid field"], "post (entry) 1")
    refused("period-list", item0(period=[2011]), ["invalid field"], "post (entry) 1")
    refused("period-out-of-range", item0(period=1850), ["invalid year"], "post (entry) 1")
    refused("value-true", value0(True), ["non-numeric value"], "post (entry) 1")
    refused("value-list", value0([1]), ["non-numeric value"], "post (entry) 1")
    refused("value-object", value0({"v": 1}), ["non-numeric value"], "post (entry) 1")
    refused("value-text", value0("mycket"), ["non-numeric value"], "post (entry) 1")
    refused("value-nan-text", value0("NaN"), ["non-numeric value"], "post (entry) 1")
    refused("isdeleted-not-bool", value0(1, isdeleted="yes"), ["invalid field"], "post (entry) 1")
    refused("missing-period", {"values": [{k: v for k, v in JSON_ITEMS[0].items() if k != "period"}]}, ["missing field"],
            "post (entry) 1")
    refused("missing-value", {"values": [dict(JSON_ITEMS[0], values=[{"gender": "T"}])]}, ["missing field"], "post (entry) 1")
    refused("values-not-list", {"values": [dict(JSON_ITEMS[0], values="x")]}, ["invalid values"], "post (entry) 1")
    refused("entry-not-object", {"values": [5]}, ["expected an object"], "post (entry) 1")
    refused("metadata", {"values": [{"id": "N20014", "title": "Nettokostnad"}]}, ["wrong file type"])
    refused("unit-data", {"values": [{"ou": "V15E", "kpi": "N20014", "period": 2011, "values": []}]}, ["not supported"])
    refused("no-values", {"count": 0}, ["wrong file type"])
    refused("scalar", "5", [], kind="type")
    refused("invalid", '{"values": [', ["invalid JSON"])
    refused("trailing-comma", '{"values": [],}', ["invalid JSON"])
    refused("deep", "[" * 10_000 + "]" * 10_000, ["nested too deep"])
    refused("deep-objects", '{"a":' * 40 + "1" + "}" * 40, ["nested too deep"])
    refused("huge-integer", '{"values": [{"kpi": "N20014", "municipality": "1440", "period": 2011, "values": '
                            '[{"gender": "T", "value": ' + "9" * 5000 + "}]}]}", ["invalid JSON"])
    refused("code-other-name", item0(municipality="0180 Göteborg"), ["code and name disagree"], "post (entry) 1",
            kind="conflict")
    refused("gender-x", value0(1, gender="X"), ["invalid gender"], "post (entry) 1")
    return cases


# -- grants ---------------------------------------------------------------------------------------------------

GRANT_HEADER = ["municipality_code", "municipality_name", "year", "pot1_granted_sek", "pot2_granted_sek", "total_granted_sek"]
GRANT_ROWS = [["1440", "Ale", "2013", "145302", "", "145302"], ["2506", "Arjeplog", "2013", "32146", "16320", "48466"],
              ["2505", "Arvidsjaur", "2013", "", "0", "0"]]
GRANT_AWARDS = {("1440", "2013:1", 1, 145302), ("1440", "2013:2", 2, None), ("2506", "2013:1", 1, 32146),
                ("2506", "2013:2", 2, 16320), ("2505", "2013:1", 1, None), ("2505", "2013:2", 2, 0)}


def _grant_cases(folder: Path) -> list[Case]:
    d = folder / "grants"
    d.mkdir()
    cases = []

    def csvfile(name, rows, header=GRANT_HEADER, **kw):
        return write_csv(d / name, header, rows, delim=",", eol="\n", **kw)

    def ok(name, path, awards=GRANT_AWARDS, **kwargs):
        cases.append(Case(f"grants/{name}", "grants", [str(path)], "ok", "grants", grants=sorted(awards, key=repr),
                          kwargs=kwargs))

    def refused(name, path, words, line=None, kind="grants", **kwargs):
        cases.append(Case(f"grants/{name}", "grants", [str(path)], "refused", kind, line, words, kwargs=kwargs))

    ok("ok", csvfile("ok.csv", GRANT_ROWS))
    ok("cp1252", csvfile("cp.csv", GRANT_ROWS, enc="cp1252"))
    ok("xlsx", write_xlsx(d / "ok.xlsx", GRANT_HEADER, GRANT_ROWS))
    ok("name-only", csvfile("names.csv", [["Ale kommun", "2013", "145302", ""]],
                            header=["municipality_name", "year", "pot1_granted_sek", "pot2_granted_sek"]),
       {("1440", "2013:1", 1, 145302), ("1440", "2013:2", 2, None)})
    ok("spaces-as-thousands", csvfile("sp.csv", [["1440", "Ale", "2013", "145 302", "", "145302"]]),
       {("1440", "2013:1", 1, 145302), ("1440", "2013:2", 2, None)})
    ok("int64-max", csvfile("max.csv", [["1440", "Ale", "2013", str(2 ** 63 - 1), "", ""]]),
       {("1440", "2013:1", 1, 2 ** 63 - 1), ("1440", "2013:2", 2, None)})
    ok("total-differs-kept", csvfile("gap.csv", [["0513", "Kinda", "2013", "82868", "42071", "124940"]]),
       {("0513", "2013:1", 1, 82868), ("0513", "2013:2", 2, 42071)})
    ok("identical-duplicate", csvfile("dupsame.csv", GRANT_ROWS + [GRANT_ROWS[0]]))
    rounds = write_csv(d / "rounds.csv", ["round", "pot", "announced_mnkr"], [["2014:1", "1", "70"]], delim=",", eol="\n")
    ok("new-round-with-rounds-file", csvfile("y2014.csv", [["1440", "Ale", "2014", "5", "", ""]]),
       {("1440", "2014:1", 1, 5)}, rounds=str(rounds))
    for name, year in (("year-1800", "1800"), ("year-3000", "3000"), ("year-fraction", "2013.5"), ("year-text", "tretton")):
        refused(name, csvfile(f"{name}.csv", _with(GRANT_ROWS, 1, 2, year)), [], 3, kind="year")
    refused("year-without-round", csvfile("y2014b.csv", _with(GRANT_ROWS, 1, 2, "2014")), ["unknown grant round"], 3)
    for name, amount, words in (("amount-over-int64", str(2 ** 63), "amount out of range"),
                                ("amount-negative", "-5", "negative amount"),
                                ("amount-decimal", "12.5", "non-numeric value"),
                                ("amount-text", "12 tusen", "non-numeric value"),
                                ("amount-exponent", "1e5", "non-numeric value"),
                                ("amount-40-digits", "9" * 40, "amount out of range")):
        refused(name, csvfile(f"{name}.csv", _with(GRANT_ROWS, 1, 3, amount)), [words], 3, kind="amount")
    refused("code-name-disagree", csvfile("cn.csv", _with(GRANT_ROWS, 1, 1, "Stockholm")), ["code and name disagree"], 3,
            kind="conflict")
    refused("unknown-code", csvfile("uc.csv", _with(GRANT_ROWS, 1, 0, "9999")), ["unknown municipality"], 3, kind="unknown")
    refused("duplicate-other-amount", csvfile("dup.csv", GRANT_ROWS + [_with(GRANT_ROWS, 0, 3, "1")[0]]),
            ["duplicate key with a different value"], 5, kind="duplicate")
    refused("no-municipality-column", csvfile("nomun.csv", [["2013", "1", ""]], header=["year", "pot1_granted_sek", "pot2_granted_sek"]),
            ["missing column"], 1, kind="columns")
    refused("wrong-columns", csvfile("cols.csv", GRANT_ROWS[:1], raw_rows={0: b"1440,Ale,2013"}),
            ["wrong number of columns"], 2, kind="columns")
    refused("json", _write(d / "g.json", b'{"values": []}'), ["wrong file type"], kind="type")
    refused("date-cell", write_xlsx(d / "date.xlsx", GRANT_HEADER, _with(GRANT_ROWS, 1, 3, dt.datetime(2024, 5, 1))),
            ["date cell"], 3, kind="excel-cell")
    refused("bool-cell", write_xlsx(d / "bool.xlsx", GRANT_HEADER, _with(GRANT_ROWS, 1, 4, True)),
            ["boolean cell"], 3, kind="excel-cell")
    bad_rounds = write_csv(d / "badrounds.csv", ["round", "pot"], [["2014:1", "3"]], delim=",", eol="\n")
    refused("rounds-bad-pot", csvfile("y2014c.csv", [["1440", "Ale", "2014", "5", "", ""]]), ["amount out of range"], 2,
            rounds=str(bad_rounds), expect_file=str(bad_rounds))
    return cases


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -- indicators ----------------------------------------------------------------------------------------------

IND_HEADER = ["municipality_code", "kpi_id", "year", "value"]
IND_ROWS = [["0180", "OJ_A", "2012", "88,5"], ["1480", "oj_a", "2012", "91.2"], ["1440", "N20014", "2012", "8200"]]
IND_VALUES = {("OJ_A", "0180", 2012, "T", 88.5), ("OJ_A", "1480", 2012, "T", 91.2), ("N20014", "1440", 2012, "T", 8200.0)}


def _indicator_cases(folder: Path) -> list[Case]:
    d = folder / "indicators"
    d.mkdir()
    cases = []

    def csvfile(name, rows, header=IND_HEADER):
        return write_csv(d / name, header, rows, delim=",", eol="\n")

    def ok(name, path, values=IND_VALUES, **kw):
        cases.append(Case(f"indicators/{name}", "indicators", [str(path)], "ok", "indicators", values=sorted(values),
                          bench=[], kwargs=kw))

    def refused(name, path, words, line=None, kind="indicators", file=None, **kw):
        c = Case(f"indicators/{name}", "indicators", [str(path)], "refused", kind, line, words, kwargs=kw)
        if file:
            c.kwargs["expect_file"] = str(file)
        cases.append(c)

    ok("ok", csvfile("ok.csv", IND_ROWS))
    ok("xlsx", write_xlsx(d / "ok.xlsx", IND_HEADER, IND_ROWS))
    ok("code-and-name-agree", csvfile("cn.csv", [["0180", "Stockholm", "OJ_A", "2012", "1"]],
                                      header=["municipality_code", "municipality_name", "kpi_id", "year", "value"]),
       {("OJ_A", "0180", 2012, "T", 1.0)})
    meta = write_csv(d / "meta.csv", ["kpi_id", "title", "higher_is_better", "area", "perspective"],
                     [["OJ_NEW", "Nytt nyckeltal", "ja", "Område", "omsorgstagare"]], delim=",", eol="\n")
    ok("new-kpi-with-meta", csvfile("new.csv", [["0180", "oj_new", "2012", "3"]]), {("OJ_NEW", "0180", 2012, "T", 3.0)},
       kpis_meta=str(meta))
    for name, row, words, kind in (
            ("year-fraction", ["0180", "OJ_A", "2012.5", "1"], "invalid year", "year"),
            ("year-range", ["0180", "OJ_A", "1900", "1"], "invalid year", "year"),
            ("unknown-kpi", ["0180", "OJ_NOPE", "2012", "1"], "unknown KPI", "unknown"),
            ("aggregate-row", ["Riket", "OJ_A", "2012", "1"], "aggregate row not allowed", "aggregate"),
            ("bad-value", ["0180", "OJ_A", "2012", "hög"], "non-numeric value", "value"),
            ("bad-gender-free-code", ["018O", "OJ_A", "2012", "1"], "unknown municipality", "unknown")):
        refused(name, csvfile(f"{name}.csv", IND_ROWS[:1] + [row]), [words], 3, kind)
    refused("code-and-name-disagree", csvfile("cnd.csv", [["0180", "Göteborg", "OJ_A", "2012", "1"]],
                                              header=["municipality_code", "municipality_name", "kpi_id", "year", "value"]),
            ["code and name disagree"], 2, "conflict")
    for name, rows, words, line in (
            ("meta-bad-bool", [["OJ_A", "T", "kanske", "", ""]], "invalid boolean", 2),
            ("meta-bad-perspective", [["OJ_A", "T", "", "", "kunder"]], "invalid perspective", 2),
            ("meta-new-without-title", [["OJ_B", "", "", "", "ekonomi"]], "missing title", 2),
            ("meta-duplicate-other", [["OJ_A", "T", "", "", ""], ["oj_a", "U", "", "", ""]],
             "duplicate key with a different value", 3),
            ("meta-bad-id", [["OJ A!", "T", "", "", ""]], "invalid KPI id", 2)):
        m = write_csv(d / f"{name}.csv", ["kpi_id", "title", "higher_is_better", "area", "perspective"], rows,
                      delim=",", eol="\n")
        refused(name, csvfile(f"{name}-data.csv", IND_ROWS), [words], line, "meta", file=m, kpis_meta=str(m))
    return cases


def generate(folder: Path) -> list[Case]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _kolada_cases(folder) + _file_cases(folder) + _json_cases(folder) + _grant_cases(folder) + \
        _indicator_cases(folder)


# -- running ------------------------------------------------------------------------------------------------

def _rows(con, sql):
    return {tuple(r) for r in con.execute(sql).fetchall()}


def run(db: Path, cases: list[Case]) -> dict:
    import duckdb

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from warehouse.importers.common import ImportFailure
    from warehouse.importers.grants import import_grants
    from warehouse.importers.indicators import import_indicators
    from warehouse.importers.kolada import import_kolada

    con = duckdb.connect(str(db))
    base_values = _rows(con, "SELECT kpi_id, municipality_code, year, gender, value FROM kpi_value")
    base_bench = _rows(con, "SELECT kpi_id, benchmark, year, value FROM benchmark_value")
    base_awards = _rows(con, "SELECT municipality_code, round, pot, granted_sek FROM grant_award")
    results = []
    for case in cases:
        kwargs = {k: v for k, v in case.kwargs.items() if k != "expect_file"}
        fn = {"kolada": import_kolada, "indicators": import_indicators, "grants": import_grants}[case.importer]
        t0 = time.perf_counter()
        res = {"name": case.name, "expect": case.expect, "kind": case.kind}
        con.execute("BEGIN")
        try:
            fn(con, [Path(f) for f in case.files], **kwargs)
            res["outcome"] = "ok"
            res["values"] = sorted(_rows(con, "SELECT kpi_id, municipality_code, year, gender, value FROM kpi_value")
                                   - base_values)
            res["bench"] = sorted(_rows(con, "SELECT kpi_id, benchmark, year, value FROM benchmark_value") - base_bench)
            res["grants"] = sorted(_rows(con, "SELECT municipality_code, round, pot, granted_sek FROM grant_award")
                                   - base_awards, key=repr)
        except ImportFailure as e:
            res.update(outcome="refused", message=str(e), file=e.file, line=e.line)
        except Exception as e:  # noqa: BLE001 - a crash is what this corpus looks for
            res.update(outcome="crash", message=f"{type(e).__name__}: {e}", traceback=traceback.format_exc()[-2000:])
        finally:
            con.execute("ROLLBACK")
        res["seconds"] = time.perf_counter() - t0
        results.append(res)
    con.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"results": results, "peak_rss_mb": peak}


def check(case: Case, res: dict) -> str | None:
    """Why a result is wrong for its case (None when it is right)."""
    if res["outcome"] == "crash":
        return f"crash: {res['message']}"
    if res["seconds"] > 60:
        return f"took {res['seconds']:.0f} s"
    if case.expect == "ok":
        if res["outcome"] != "ok":
            return f"refused a good file: {res.get('message')}"
        if case.values is not None and [list(v) for v in res["values"]] != [list(v) for v in sorted(case.values)]:
            return f"values {res['values']} != {sorted(case.values)}"
        if case.bench is not None and [list(v) for v in res["bench"]] != [list(v) for v in sorted(case.bench)]:
            return f"benchmarks {res['bench']} != {sorted(case.bench)}"
        if case.grants is not None and sorted(map(list, res["grants"]), key=repr) != sorted(map(list, case.grants), key=repr):
            return f"grants {res['grants']} != {case.grants}"
        return None
    if res["outcome"] != "refused":
        return f"accepted a bad file: values {res.get('values')}"
    msg = res["message"]
    expect_file = case.kwargs.get("expect_file") or case.files[-1]
    if not msg.startswith(str(expect_file)):
        return f"message does not start with the file: {msg}"
    if isinstance(case.line, int) and f"rad (line) {case.line}:" not in msg:
        return f"expected line {case.line}: {msg}"
    if isinstance(case.line, str) and case.line not in msg:
        return f"expected {case.line!r}: {msg}"
    missing = [w for w in case.words if w not in msg]
    if missing:
        return f"expected {missing} in: {msg}"
    if len(msg) > 800:
        return f"message of {len(msg)} characters"
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["run", "list"])
    ap.add_argument("--db", type=Path)
    ap.add_argument("--folder", type=Path, required=True)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    cases = generate(args.folder)
    if args.command == "list":
        for c in cases:
            print(c.expect, c.kind, c.name)
        print(len(cases), "cases")
        return 0
    work = args.folder / "_warehouse.duckdb"
    shutil.copy(args.db, work)
    out = run(work, cases)
    out["cases"] = [asdict(c) for c in cases]
    args.out.write_text(json.dumps(out, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
