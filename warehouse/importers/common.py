"""Shared machinery for the importers: errors that name file, line and problem; file-type and
encoding detection; reading CSV / Excel / JSON into DuckDB staging tables; the summary.

Messages are Swedish with the English key words in parentheses, always in the form
``<file>, rad (line) <n>: <problem>`` so a user can open the file at the right place.

Staging: every input file becomes one temporary DuckDB table of VARCHAR columns named by
role (``area_raw``, ``kpi_raw``, ``year_raw``, ``value_raw``, ``gender_raw``, ...). CSV is read
by DuckDB's own ``read_csv`` (the bulk path, no Python per row); Excel and JSON are small and
go through pandas. A staged row's ``rowid`` is its record number; `StagedFile.locate` turns it
back into a physical line ("rad 12") or a JSON position ("post 3, values[2]").
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

# Kolada writes these where a value is missing or secret; they are skipped and counted.
MISSING_MARKERS = ("", "..", "-", "x", "X", "NA", "N/A", "n/a", "na")
# Leading bytes checked in Python to tell UTF-8 from Windows-1252 before DuckDB parses a CSV.
UTF8_PROBE = 16 << 20


class ImportFailure(Exception):
    """Bad input. ``str()`` is the message shown to the user (file, line, problem)."""

    def __init__(self, file: str | Path, line: str | int | None, problem: str):
        self.file = str(file)
        self.line = line
        self.problem = problem
        where = f"{self.file}" if line is None else f"{self.file}, {_line_label(line)}"
        super().__init__(f"{where}: {problem}")


def _line_label(line) -> str:
    return f"rad (line) {line}" if isinstance(line, int) else str(line)


@dataclass
class FileResult:
    file: str
    sha256: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    benchmark_rows: int = 0


@dataclass
class ImportSummary:
    """What one import command did. inserted/updated/unchanged count municipality values
    (kpi_value, or grant rows for grants); benchmark_rows counts aggregate rows routed to
    benchmark_value (of which benchmark_inserted/benchmark_updated were written)."""

    kind: str
    files: list[FileResult] = field(default_factory=list)
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    benchmark_rows: int = 0
    benchmark_inserted: int = 0
    benchmark_updated: int = 0
    new_kpis: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int) -> None:
        if n:
            self.skipped += n
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + n


class BackgroundHash:
    """sha256 of a file computed in a thread (hashlib releases the GIL on large blocks), so a
    700 MB file is hashed while DuckDB works."""

    def __init__(self, path: Path):
        import threading

        self._result: str | None = None
        self._thread = threading.Thread(target=self._run, args=(Path(path),), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._result = sha256_file(path)
        except OSError:
            self._result = ""

    def result(self) -> str:
        self._thread.join()
        return self._result or ""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_import_log(con, summary: ImportSummary) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for fr in summary.files:
        con.execute(
            "INSERT INTO import_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [str(uuid.uuid4()), summary.kind, fr.file, fr.sha256, now, fr.inserted, fr.updated,
             fr.skipped, fr.benchmark_rows, json.dumps(summary.unmapped, ensure_ascii=False)],
        )


# ---------------------------------------------------------------------------------------------
# File type and encoding

def sniff_kind(path: Path) -> str:
    """'csv' | 'xlsx' | 'xls' | 'json' by content (not by name). Raises ImportFailure."""
    path = Path(path)
    if not path.exists():
        raise ImportFailure(path, None, "filen finns inte (file not found)")
    if path.is_dir():
        raise ImportFailure(path, None, "är en mapp, inte en fil (not a file)")
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFailure(path, None, "filen är tom (empty file)")
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                if "xl/workbook.xml" in z.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise ImportFailure(path, None, "en zip-fil som inte är en Excel-arbetsbok (wrong file type)")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text with BOM (Excel "Unicode text")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "json"
    # Binary files (PDF, images, ...) have NUL bytes or a known signature early on.
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
        raise ImportFailure(path, None, "okänd filtyp, väntade CSV, Excel eller JSON (wrong file type)")
    return "csv"


def detect_encoding(path: Path, utf8_probe: int | None = None) -> str:
    """Python codec name for a text file: utf-8-sig / utf-16 (by BOM), utf-8 if the file
    decodes, else cp1252. Raises ImportFailure naming the line of the first undecodable byte.

    utf8_probe: check only that many leading bytes for UTF-8 (for the bulk CSV path: DuckDB
    validates UTF-8 itself while parsing and reports a later bad byte with its line)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    else:
        enc = "utf-8"
    bad = _first_decode_error(path, enc, limit=utf8_probe if enc != "utf-16" else None)
    if bad is None:
        return enc
    if enc != "utf-8":
        raise _encoding_failure(path, bad, enc)
    bad1252 = _first_decode_error(path, "cp1252")
    if bad1252 is None:
        return "cp1252"
    raise _encoding_failure(path, bad1252, "utf-8 eller windows-1252")


def _first_decode_error(path: Path, enc: str, limit: int | None = None) -> int | None:
    """Byte offset of the first byte that does not decode (None if the file decodes, or if
    the first `limit` bytes decode)."""
    dec = codecs.getincrementaldecoder(enc)()
    ascii_safe = enc in ("utf-8", "utf-8-sig", "cp1252")
    offset = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            if limit is not None and offset >= limit:
                return None
            # Pure-ASCII chunks decode in every ASCII-compatible codec: skip the work
            # (a 700 MB Kolada-scale file is checked in well under a second).
            if ascii_safe and offset > 0 and not dec.getstate()[0] and chunk.isascii():
                offset += len(chunk)
                continue
            try:
                dec.decode(chunk)
            except UnicodeDecodeError as e:
                pending = len(e.object) - len(chunk)
                return offset + max(0, e.start - pending)
            offset += len(chunk)
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _encoding_failure(path: Path, offset: int, tried: str) -> ImportFailure:
    with open(path, "rb") as f:
        before = f.read(offset)
    line = before.count(b"\n") + 1
    with open(path, "rb") as f:
        f.seek(offset)
        byte = f.read(1)
    return ImportFailure(
        path, line,
        f"teckenkodningen går inte att läsa (unreadable encoding): byte 0x{byte.hex()} är "
        f"varken {tried}; spara filen som UTF-8 eller Windows-1252",
    )


# ---------------------------------------------------------------------------------------------
# Header roles

def norm_header(h) -> str:
    s = "" if h is None else str(h)
    s = s.replace("\ufeff", "").strip().strip('"').casefold()
    s = re.sub(r"[._\s]+", " ", s)
    return s.strip()


@dataclass
class Roles:
    """Which columns a format needs: role -> accepted normalised header names."""
    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def match(self, header: list[str]) -> tuple[dict[str, int], list[str]]:
        """Role -> column index, and the required roles that are missing."""
        normed = [norm_header(h) for h in header]
        found: dict[str, int] = {}
        for role, names in {**self.required, **self.optional}.items():
            for i, h in enumerate(normed):
                if h in names and i not in found.values():
                    found[role] = i
                    break
        missing = [r for r in self.required if r not in found]
        return found, missing

    def describe(self, role: str) -> str:
        names = {**self.required, **self.optional}[role]
        return " / ".join(names[:3])


def missing_columns_failure(path, line, roles: Roles, missing: list[str], header: list[str]) -> ImportFailure:
    wanted = "; ".join(f"{r} ({roles.describe(r)})" for r in missing)
    return ImportFailure(
        path, line,
        f"kolumn saknas (missing column): {wanted}. Rubrikraden har: "
        + ", ".join(repr(str(h)) for h in header),
    )


# ---------------------------------------------------------------------------------------------
# Staging

_tmp_counter = 0


def tmp_name(prefix: str) -> str:
    global _tmp_counter
    _tmp_counter += 1
    return f"_imp_{prefix}_{uuid.uuid4().hex[:8]}_{_tmp_counter}"


@dataclass
class StagedFile:
    """One input file, ready for SQL: `relation` yields (rec, area_raw, kpi_raw, year_raw,
    value_raw[, gender_raw]) with rec = 0-based record number. A CSV is not copied: the
    relation is DuckDB's read_csv over the file itself (parsed again by each pass, which is
    cheaper than materialising millions of strings); Excel and JSON are small temp tables."""
    path: Path
    relation: str
    kind: str                            # csv | xlsx | xls | json
    locate: Callable[[int], int | str]   # rec -> line number (int) or position label (str)
    sha256: object = ""                  # str, or a BackgroundHash until it is read
    relation_fast: str | None = None     # the same rows without record numbers (bulk path)
    columns: tuple[str, ...] = ()        # role columns present
    table: str | None = None             # temp table to drop (Excel/JSON)
    tmpdir: object = None                # transcoded copy of a non-UTF-8 CSV (kept until done)
    read_csv_path: str | None = None

    def close(self, con) -> None:
        try:
            if self.table:
                drop_tables(con, [self.table])
        finally:
            if self.tmpdir is not None:
                self.tmpdir.cleanup()
                self.tmpdir = None


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _csv_line_locator(path: Path, encoding: str, delim: str, header_lines: int):
    """rowid -> physical line, by re-reading the file with the csv module. Only used on the
    error path, so the bulk path never pays for it. Blank lines are skipped, as DuckDB does."""
    def locate(rec: int) -> int:
        with open(path, encoding=encoding, newline="") as f:
            reader = csv.reader(f, delimiter=delim)
            for _ in range(header_lines):
                next(reader, None)
            n = -1
            start = reader.line_num + 1
            for row in reader:
                if row:              # csv gives [] for a blank line; DuckDB skips those
                    n += 1
                    if n == rec:
                        return start
                start = reader.line_num + 1
        return start
    return locate


def read_csv_header(path: Path, encoding: str) -> tuple[list[str], str]:
    """First line as columns, and the delimiter (; , or tab: the most frequent outside quotes)."""
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline()
    line = first.rstrip("\r\n")
    outside = re.sub(r'"[^"]*"', "", line)
    delim = max([";", ",", "\t"], key=lambda d: outside.count(d))
    if outside.count(delim) == 0:
        delim = ","
    header = next(csv.reader([line], delimiter=delim), [])
    return header, delim


def stage_csv(con, path: Path, roles: Roles, prefix: str) -> StagedFile:
    """A CSV as a read_csv relation (explicit dialect, no sniffing, all VARCHAR). Any DuckDB
    error aborts the caller's transaction, so the encoding is settled in Python first (a fast
    pass: ASCII chunks are not decoded); structural errors surface in the first SQL pass and
    are translated by `csv_failure`."""
    encoding = detect_encoding(path, utf8_probe=UTF8_PROBE)
    header, delim = read_csv_header(path, encoding)
    if not header or all(h.strip() == "" for h in header):
        raise ImportFailure(path, 1, "rubrikraden saknas (missing header)")
    found, missing = roles.match(header)
    if missing:
        raise missing_columns_failure(path, 1, roles, missing, header)
    tmpdir = None
    src = path
    if encoding not in ("utf-8", "utf-8-sig"):
        # DuckDB reads UTF-8 natively; Windows-1252 and UTF-16 are transcoded first (such files
        # are web exports, small). Latin-1 would mis-read cp1252's en dash and quotes.
        tmpdir = tempfile.TemporaryDirectory(prefix="styrkort-import-")
        src = Path(tmpdir.name) / "utf8.csv"
        with open(path, encoding=encoding, newline="") as fin, \
                open(src, "w", encoding="utf-8", newline="") as fout:
            for chunk in iter(lambda: fin.read(1 << 20), ""):
                fout.write(chunk)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    select = ", ".join(f"c{i} AS {role}" for role, i in found.items())
    reader = (f"read_csv({_sql_str(str(src))}, auto_detect=false, header=false, skip=1, "
              f"delim={_sql_str(delim)}, quote='\"', escape='\"', columns={columns}, strict_mode=true)")
    # row_number() OVER () (a streaming window) numbers records in file order; it is only
    # needed to point at a bad row, so the bulk path reads without it.
    relation = f"(SELECT row_number() OVER () - 1 AS rec, {select} FROM {reader})"
    return StagedFile(path, relation, "csv", _csv_line_locator(path, encoding, delim, 1),
                      columns=tuple(found), tmpdir=tmpdir, read_csv_path=str(src),
                      relation_fast=f"(SELECT {select} FROM {reader})")


def csv_failure(path: Path, msg: str) -> ImportFailure:
    m = re.search(r"CSV Error on Line: (\d+)", msg)
    line = int(m.group(1)) if m else None
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if cols:
        problem = (f"fel antal kolumner (wrong number of columns): {cols.group(2)} i stället "
                   f"för {cols.group(1)} som i rubrikraden")
    elif "unicode" in msg.lower():
        problem = "teckenkodningen går inte att läsa (unreadable encoding)"
    elif "unterminated quote" in msg.lower() or "quote" in msg.lower():
        problem = "citattecken som inte avslutas (unterminated quote)"
    else:
        first = msg.splitlines()[0] if msg else ""
        problem = f"raden går inte att läsa som CSV (unreadable CSV row): {first}"
    return ImportFailure(path, line, problem)


def stage_frame(con, path: Path, kind: str, df: pd.DataFrame, labels: list[int | str], prefix: str) -> StagedFile:
    """Stage an in-memory frame (Excel, JSON): columns already named by role, all str/None."""
    table = tmp_name(prefix)
    view = tmp_name(prefix + "_df")
    con.register(view, df)
    try:
        cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in df.columns)
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT {cols} FROM {view}")
    finally:
        con.unregister(view)
    # Inside a transaction DuckDB numbers new rows from a large offset (transaction-local row
    # ids), in insertion order: the record number is the distance from the first.
    base = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {table}").fetchall()[0][0]
    relation = f"(SELECT rowid - {base} AS rec, * FROM {table})"
    return StagedFile(path, relation, kind, lambda rec: labels[rec], columns=tuple(df.columns), table=table)


def _cell_str(v) -> str | None:
    """Excel cell -> text as a user would read it (2010.0 -> '2010')."""
    if v is None:
        return None
    if isinstance(v, float):
        if v != v:
            return None
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime):
        return str(v.year)
    s = str(v)
    return s


def read_excel_rows(path: Path, kind: str) -> list[list]:
    try:
        if kind == "xlsx":
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                ws = wb.worksheets[0]
                return [list(r) for r in ws.iter_rows(values_only=True)]
            finally:
                wb.close()
        import xlrd

        book = xlrd.open_workbook(str(path))
        sh = book.sheet_by_index(0)
        out = []
        for r in range(sh.nrows):
            row = []
            for c in range(sh.ncols):
                cell = sh.cell(r, c)
                row.append(None if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) else cell.value)
            out.append(row)
        return out
    except ImportFailure:
        raise
    except Exception as e:  # corrupt workbook
        raise ImportFailure(path, None, f"Excel-filen går inte att läsa (unreadable workbook): {e}") from None


def stage_excel(con, path: Path, kind: str, roles: Roles, prefix: str) -> StagedFile:
    rows = read_excel_rows(path, kind)
    # The header is the first row (within the first 20) that names every required column:
    # Kolada's spreadsheets may carry a title row above it.
    header_i, found, missing, first_nonempty = None, {}, [], None
    for i, row in enumerate(rows[:20]):
        if not any(c not in (None, "") for c in row):
            continue
        if first_nonempty is None:
            first_nonempty = i
        f, m = roles.match([_cell_str(c) or "" for c in row])
        if not m:
            header_i, found = i, f
            break
    if first_nonempty is None:
        raise ImportFailure(path, None, "arbetsboken är tom (empty file)")
    if header_i is None:
        hdr = [_cell_str(c) or "" for c in rows[first_nonempty]]
        _, missing = roles.match(hdr)
        raise missing_columns_failure(path, first_nonempty + 1, roles, missing, hdr)
    data, labels = {role: [] for role in found}, []
    for i in range(header_i + 1, len(rows)):
        row = rows[i]
        if not any(c not in (None, "") for c in row):
            continue
        for role, ci in found.items():
            data[role].append(_cell_str(row[ci]) if ci < len(row) else None)
        labels.append(i + 1)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})
    return stage_frame(con, path, kind, df, labels, prefix)


def load_json(path: Path):
    enc = detect_encoding(path)
    try:
        with open(path, encoding=enc) as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ImportFailure(path, e.lineno, f"ogiltig JSON (invalid JSON): {e.msg}") from None


def drop_tables(con, names: Iterable[str]) -> None:
    """Drop our temp tables/views, newest first (views depend on tables). A DROP of the wrong
    kind would abort the caller's transaction, so each kind is looked up (one catalog query)."""
    names = list(names)
    if not names:
        return
    kinds = dict(con.execute(
        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE database_name = 'temp' AND view_name LIKE '\\_imp\\_%' ESCAPE '\\' "
        "UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = 'temp' "
        "AND table_name LIKE '\\_imp\\_%' ESCAPE '\\'").fetchall())
    for n in names:
        if n in kinds:
            con.execute(f"DROP {kinds[n]} {n}")
