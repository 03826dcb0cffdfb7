"""The importers' shared rules: every file a user brings is read here, and every rule about what
gets in lives here, so each importer (Kolada, indicators, grants, and the ones added later:
targets, units) refuses bad input the same way.

Every refusal is an `ImportFailure` whose text is ``<file>, rad (line) <n>: <problem>`` with the
problem in Swedish and the English key words in parentheses; the CLI prints it, rolls back and
exits 1. Nothing here writes to the warehouse.

API for an importer
-------------------
Small tables (grants, KPI metadata, targets, units: up to `TABLE_MAX_ROWS` rows), read in Python::

    ROLES = Roles(required={"code": ("kommunkod",), "year": ("år", "year"), "value": ("värde",)},
                  kinds={"year": "year", "value": "number"})
    table = read_table(path, ROLES)            # CSV or Excel, decided by content
    for row in table.rows:                     # row.line: physical line / sheet row (1-based)
        year = parse_year(path, row.line, row["year"])
        value = parse_number(path, row.line, row["value"], "värde")   # None = missing marker

`read_table` checks the file (`check_input_file`), the type by content (`sniff_kind`), the
encoding, the header (`Roles`: each role's accepted header names, a role found twice is an
error) and every field's length; Excel cells that are dates, booleans or errors in a role of
kind year/number/amount/code are refused with their line. `row[role]` is the cell as text
('' if empty).

Large value files (Kolada, indicators) go through the bulk path instead: `stage_file` makes a
DuckDB relation of VARCHAR role columns over the file (DuckDB's own `read_csv`, no Python per
row), which `warehouse.importers.values.import_values` validates and writes set-based with the
same rules as `parse_year`/`parse_number` (expressed in SQL there).

The rules (README "Importing your own data")
--------------------------------------------
- Only a regular file is read: a folder, named pipe (FIFO), device or socket is refused before
  it is opened for reading; a file name is a name, never a pattern (``[``, ``*``, ``?`` are
  ordinary characters).
- The type is decided by the content, not the name: CSV text, ``.xlsx`` (a zip holding
  ``xl/workbook.xml``), ``.xls`` (OLE2), JSON; an .xlsx named .csv is read as .xlsx. HTML,
  PDF, images, other zips are refused as the wrong file type.
- Text is UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252. A file that is UTF-8
  up to a byte that is not (the header's å/ä/ö already were UTF-8) is refused as an encoding
  problem naming the line of that byte, never guessed as Windows-1252.
- Line ends: CRLF, LF and CR, in any mix, are all line ends (line numbers count each).
- Years are whole numbers from `YEAR_MIN` to the current year + 1 ("2009.5", "2015.5" in
  Excel, ``true`` in JSON are refused, never rounded).
- A value is a number: decimal comma or point, spaces/non-breaking spaces as thousands
  separators, an optional trailing %; infinities, NaN, ``1_000``, hex, dates, booleans and
  Excel error cells are bad values. Empty and Kolada's markers (`MISSING_MARKERS`) are missing
  values: skipped and counted.
- Amounts (whole kronor) must fit their column (BIGINT, 0 … `AMOUNT_MAX`).
- Limits (each a clear error naming the line, never a hang or a memory blow-up):
  `FIELD_MAX_CHARS` per field (Excel's own cell limit), `LINE_MAX_BYTES` per CSV line,
  `JSON_MAX_BYTES` and `JSON_MAX_DEPTH` for JSON, and for Excel `XLSX_MAX_ROWS` rows,
  `XLSX_MAX_SHEET_BYTES` of sheet XML and `XLSX_MAX_SHARED_STRINGS_BYTES` of shared strings
  (both uncompressed, checked in the zip directory and the sheet's ``<dimension>`` before
  anything is loaded), `XLS_MAX_BYTES` for .xls. Small tables: `TABLE_MAX_ROWS` rows.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import stat
import tempfile
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

# -- limits ---------------------------------------------------------------------------------------
FIELD_MAX_CHARS = 32_767                  # Excel's own limit for one cell
LINE_MAX_BYTES = 1 << 20                  # one CSV line (DuckDB's max_line_size)
JSON_MAX_BYTES = 64 << 20                 # a Kolada API page is ~1 MB; a saved fetch a few pages
JSON_MAX_DEPTH = 32                       # Kolada responses are 6 levels deep
XLSX_MAX_ROWS = 200_000                   # rows of the first sheet (header included)
XLSX_MAX_SHEET_BYTES = 128 << 20          # the sheet's XML, uncompressed
XLSX_MAX_SHARED_STRINGS_BYTES = 64 << 20  # xl/sharedStrings.xml, uncompressed
XLSX_MAX_META_BYTES = 4 << 20             # workbook.xml, its relations, content types
XLS_MAX_BYTES = 32 << 20                  # an old binary .xls (read whole by xlrd)
TABLE_MAX_ROWS = 100_000                  # small tables read in Python (grants, KPI metadata, ...)
YEAR_MIN = 1990
AMOUNT_MAX = (1 << 63) - 1                # BIGINT
# Leading bytes checked in Python for UTF-8 before DuckDB parses a large CSV (DuckDB checks the
# rest itself and names the line of a bad byte).
UTF8_PROBE = 16 << 20

# Kolada writes these where a value is missing or secret; they are skipped and counted.
MISSING_MARKERS = ("", "..", "-", "x", "X", "NA", "N/A", "n/a", "na")


def year_max() -> int:
    return date.today().year + 1


# -- errors -----------------------------------------------------------------------------------------

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


def short(value, limit: int = 60) -> str:
    """repr of a user's text for a message, cut to `limit` characters (a 1 MB field must not
    become a 1 MB message)."""
    s = "" if value is None else str(value)
    if len(s) > limit:
        return repr(s[:limit]) + f" … ({len(s):,} tecken / characters)".replace(",", " ")
    return repr(s)


# -- summary ----------------------------------------------------------------------------------------

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
        self._result: str | None = None
        self._thread = threading.Thread(target=self._run, args=(Path(path),), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        # At the lowest priority: the hash is only needed at the end, so it takes the moments
        # DuckDB leaves a core idle instead of competing with its threads (~0.15 s at Kolada scale).
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (AttributeError, OSError):
            pass
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


# -- the file itself ----------------------------------------------------------------------------------

_NOT_REGULAR = (
    (stat.S_ISDIR, "är en mapp, inte en fil (not a regular file: a folder)"),
    (stat.S_ISFIFO, "är en namngiven pipe, inte en vanlig fil (not a regular file: a named pipe)"),
    (stat.S_ISCHR, "är en enhetsfil, inte en vanlig fil (not a regular file: a device)"),
    (stat.S_ISBLK, "är en enhetsfil, inte en vanlig fil (not a regular file: a device)"),
    (stat.S_ISSOCK, "är en socket, inte en vanlig fil (not a regular file: a socket)"),
)


def check_input_file(path: str | Path) -> Path:
    """The path as a regular, readable, non-empty file, or ImportFailure. Never opens a FIFO or
    a device (stat only), so a named pipe cannot make an import wait."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ImportFailure(p, None, "filen finns inte (file not found)") from None
    except PermissionError:
        raise ImportFailure(p, None, "filen får inte läsas (permission denied)") from None
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ImportFailure(p, None, f"filen går inte att öppna (cannot open file): {reason}") from None
    for test, problem in _NOT_REGULAR:
        if test(st.st_mode):
            raise ImportFailure(p, None, problem)
    if not stat.S_ISREG(st.st_mode):
        raise ImportFailure(p, None, "inte en vanlig fil (not a regular file)")
    if not os.access(p, os.R_OK):
        raise ImportFailure(p, None, "filen får inte läsas (permission denied)")
    return p


def _read_head(path: Path, n: int = 4096) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as e:
        raise ImportFailure(path, None, f"filen går inte att läsa (cannot read file): {e.strerror}") from None


def sniff_kind(path: Path) -> str:
    """'csv' | 'xlsx' | 'xls' | 'json' by content (not by name). Checks the file first
    (`check_input_file`). Raises ImportFailure."""
    path = check_input_file(path)
    head = _read_head(path)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ImportFailure(path, None, "filen är tom (empty file)")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                if "xl/workbook.xml" in z.namelist():
                    return "xlsx"
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            raise ImportFailure(path, None, "en trasig zip-fil (wrong file type: damaged zip)") from None
        raise ImportFailure(path, None, "en zip-fil som inte är en Excel-arbetsbok (wrong file type)")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 text with BOM (Excel "Unicode text")
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "json"
    if stripped[:5].lower() in (b"<?xml", b"<html", b"<!doc", b"<tabl"):
        raise ImportFailure(path, None, "HTML/XML, inte CSV, Excel eller JSON (wrong file type)")
    # Binary files (PDF, images, ...) have NUL bytes or a known signature early on.
    if b"\x00" in head or head.startswith((b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff")):
        raise ImportFailure(path, None, "okänd filtyp, väntade CSV, Excel eller JSON (wrong file type)")
    return "csv"


# -- encoding and line ends ---------------------------------------------------------------------------

# UTF-8 forms of å ä ö é ü (either case): in a file that is otherwise not UTF-8 they mean the
# file mixes encodings (Windows-1252 would show them as "Ã¥").
_UTF8_LETTERS = re.compile(rb"\xc3[\x84\x85\x96\xa4\xa5\xb6\x89\xa9\x9c\xbc]")


def detect_encoding(path: Path, utf8_probe: int | None = None) -> str:
    """Python codec name for a text file: utf-8-sig / utf-16 (by BOM), utf-8 if the file
    decodes, else cp1252 when the file shows no sign of UTF-8. Raises ImportFailure naming the
    line of the first undecodable byte.

    utf8_probe: check only that many leading bytes for UTF-8 (for the bulk CSV path: DuckDB
    validates UTF-8 itself while parsing and reports a later bad byte with its line)."""
    head = _read_head(path, 4)
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
        raise _encoding_failure(path, bad, "UTF-8" if enc == "utf-8-sig" else "UTF-16")
    with open(path, "rb") as f:
        probe = f.read(UTF8_PROBE)
    before = probe[:bad]
    if not before.isascii() or _UTF8_LETTERS.search(probe):
        # Valid UTF-8 letters before the bad byte: a UTF-8 file with a broken byte.
        raise _encoding_failure(path, bad, "UTF-8")
    bad1252 = _first_decode_error(path, "cp1252")
    if bad1252 is None:
        return "cp1252"
    raise _encoding_failure(path, bad1252, "varken UTF-8 eller Windows-1252 (neither)")


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


def line_of_offset(path: Path, offset: int) -> int:
    """Physical line (1-based) of a byte offset; CRLF, LF and CR each end a line."""
    lf = cr = crlf = 0
    prev_cr = False
    done = 0
    with open(path, "rb") as f:
        while done < offset:
            chunk = f.read(min(1 << 22, offset - done))
            if not chunk:
                break
            lf += chunk.count(b"\n")
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (1 if prev_cr and chunk[:1] == b"\n" else 0)
            prev_cr = chunk[-1:] == b"\r"
            done += len(chunk)
    if prev_cr:   # a CR right before the offset: is it half of a CRLF?
        with open(path, "rb") as f:
            f.seek(offset)
            if f.read(1) == b"\n":
                cr -= 1
    return lf + cr - crlf + 1


def _encoding_failure(path: Path, offset: int, expected: str) -> ImportFailure:
    with open(path, "rb") as f:
        f.seek(offset)
        byte = f.read(1)
    return ImportFailure(
        path, line_of_offset(path, offset),
        f"teckenkodningen går inte att läsa (unreadable encoding): byte 0x{byte.hex()} är inte "
        f"{expected}; spara filen som UTF-8 eller Windows-1252",
    )


def line_ends(path: Path, chunk_size: int = 1 << 23) -> str:
    """'lf' | 'crlf' | 'cr' | 'none' | 'mixed': the file's line ends (one streaming pass).

    Decided by which kinds occur (bare LF, bare CR, CRLF pair). A chunk without a CR (the
    usual LF file) is only searched for an LF (memchr speed), never counted; a CR at the end
    of a chunk is carried into the next one, so a CRLF split across chunks stays a pair."""
    bare_lf = bare_cr = pair = False
    carry = b""
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            if carry:
                chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            if carry:
                chunk = chunk[:-1]
            if b"\r" not in chunk:
                bare_lf = bare_lf or b"\n" in chunk
            else:
                n_pairs = chunk.count(b"\r\n")
                pair = pair or n_pairs > 0
                bare_lf = bare_lf or chunk.count(b"\n") > n_pairs
                bare_cr = bare_cr or chunk.count(b"\r") > n_pairs
            if bare_lf + bare_cr + pair > 1:
                return "mixed"
    bare_cr = bare_cr or bool(carry)       # the file ends with a CR
    if bare_lf + bare_cr + pair > 1:
        return "mixed"
    return "crlf" if pair else "cr" if bare_cr else "lf" if bare_lf else "none"


# -- header roles -------------------------------------------------------------------------------------

def norm_header(h) -> str:
    s = "" if h is None else str(h)
    s = s.replace("\ufeff", "").strip().strip('"').casefold()
    s = re.sub(r"[._\s]+", " ", s)
    return s.strip()


# What a role holds: 'text' (names, titles), 'code' (municipality code), 'year', 'number'
# (a measured value), 'amount' (whole kronor), 'bool'. Excel dates/booleans/errors are refused
# in every kind but text.
KINDS = ("text", "code", "year", "number", "amount", "bool")


@dataclass
class Roles:
    """Which columns a format needs: role -> accepted normalised header names (preferred first),
    and what kind of data each role holds (default text)."""
    required: dict[str, tuple[str, ...]]
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def kind(self, role: str) -> str:
        return self.kinds.get(role, "text")

    def match(self, header: list[str]) -> tuple[dict[str, int], list[str]]:
        """Role -> column index, and the required roles that are missing. For each role the
        accepted names are tried in order (so a code column wins over a name column)."""
        normed = [norm_header(h) for h in header]
        found: dict[str, int] = {}
        for role, names in {**self.required, **self.optional}.items():
            for name in names:
                i = next((i for i, h in enumerate(normed) if h == name and i not in found.values()), None)
                if i is not None:
                    found[role] = i
                    break
        missing = [r for r in self.required if r not in found]
        return found, missing

    def duplicates(self, header: list[str], found: dict[str, int]) -> tuple[str, int] | None:
        """(role, column) of a second column with the same header as a found role's column."""
        normed = [norm_header(h) for h in header]
        for role, i in found.items():
            for j, h in enumerate(normed):
                if j != i and h == normed[i] and j not in found.values():
                    return role, j
        return None

    def describe(self, role: str) -> str:
        names = {**self.required, **self.optional}[role]
        return " / ".join(names[:3])


def missing_columns_failure(path, line, roles: Roles, missing: list[str], header: list[str]) -> ImportFailure:
    wanted = "; ".join(f"{r} ({roles.describe(r)})" for r in missing)
    return ImportFailure(
        path, line,
        f"kolumn saknas (missing column): {wanted}. Rubrikraden har: "
        + ", ".join(short(h, 40) for h in header[:30]),
    )


def match_header(path, line, roles: Roles, header: list[str]) -> dict[str, int]:
    """Role -> column, or ImportFailure (missing column, a role's column twice, too long)."""
    for h in header:
        if h is not None and len(str(h)) > FIELD_MAX_CHARS:
            raise field_too_long(path, line)
    found, missing = roles.match(header)
    if missing:
        raise missing_columns_failure(path, line, roles, missing, header)
    dup = roles.duplicates(header, found)
    if dup:
        role, j = dup
        raise ImportFailure(path, line, f"kolumnen {short(header[j], 40)} finns två gånger "
                                        f"(duplicate column for {role})")
    return found


def field_too_long(path, line) -> ImportFailure:
    return ImportFailure(path, line, f"ett fält är längre än {FIELD_MAX_CHARS:,} tecken "
                                     f"(field too long)".replace(",", " "))


# -- values -----------------------------------------------------------------------------------------

_YEAR = re.compile(r"\s*([0-9]{4})(?:\.0*)?\s*")
# A number as users write it once spaces (thousands) are gone: decimal comma or point, exponent.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
_AMOUNT = re.compile(r"[0-9]+(?:[.,]0+)?")


def parse_year(path, line, raw, *, lo: int = YEAR_MIN, hi: int | None = None) -> int:
    """A year: a whole number from lo to hi (default: the current year + 1), never rounded."""
    hi = year_max() if hi is None else hi
    m = _YEAR.fullmatch(str(raw or ""))
    if not m:
        raise ImportFailure(path, line, f"året {short(raw)} är inte ett årtal (invalid year: a whole number)")
    y = int(m.group(1))
    if not lo <= y <= hi:
        raise ImportFailure(path, line, f"året {y} ligger utanför {lo}–{hi} (year out of range)")
    return y


def number_text(raw: str) -> str:
    """The text of a number without thousands spaces, % and with a decimal point."""
    return raw.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").removesuffix("%").replace(",", ".")


def parse_number(path, line, raw, column: str = "värde") -> float | None:
    """A measured value; None for a missing marker. Refuses what is not a finite number."""
    s = "" if raw is None else str(raw)
    if len(s) > FIELD_MAX_CHARS:
        raise field_too_long(path, line)
    if s.strip() in MISSING_MARKERS:
        return None
    t = number_text(s)
    if not _NUMBER.fullmatch(t):
        raise ImportFailure(path, line, f"{column} {short(s)} är inte ett tal (non-numeric value)")
    v = float(t)
    if v != v or v in (float("inf"), float("-inf")):
        raise ImportFailure(path, line, f"{column} {short(s)} är inte ett ändligt tal (non-numeric value: out of range)")
    return v


def parse_amount(path, line, raw, column: str, *, lo: int = 0, hi: int = AMOUNT_MAX) -> int | None:
    """Whole kronor (spaces as thousands separators allowed); None if empty. Must fit lo..hi
    (the BIGINT column by default)."""
    s = "" if raw is None else str(raw)
    t = s.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if t == "":
        return None
    neg = t.startswith("-")
    body = t[1:] if neg else t
    if not _AMOUNT.fullmatch(body):
        raise ImportFailure(path, line, f"beloppet {short(s)} i kolumnen {column} är inte ett heltal i kronor "
                                        f"(non-numeric value)")
    v = int(re.split(r"[.,]", body)[0]) * (-1 if neg else 1)
    if v < lo:
        what = "negative amount" if lo == 0 else "amount out of range"
        raise ImportFailure(path, line, f"beloppet {short(s)} i kolumnen {column} är mindre än {lo} ({what})")
    if v > hi:
        raise ImportFailure(path, line, f"beloppet {short(s)} i kolumnen {column} är större än {hi:,} kr "
                                        f"(amount out of range)".replace(",", " "))
    return v


_TRUE = {"true", "ja", "yes", "1", "sant", "t"}
_FALSE = {"false", "nej", "no", "0", "falskt", "f"}


def parse_bool(path, line, raw, column: str) -> bool | None:
    """true/false (also ja/nej, 1/0, sant/falskt); None if empty."""
    s = ("" if raw is None else str(raw)).strip().casefold()
    if s == "":
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ImportFailure(path, line, f"{column} {short(raw)} ska vara true/false eller tomt (invalid boolean)")


# -- Excel ------------------------------------------------------------------------------------------

class BadCell:
    """An Excel cell that is a date, a boolean or an error: text in a text role, refused in any
    other (a date is not a value, TRUE is not a year)."""
    __slots__ = ("what", "text")

    def __init__(self, what: str, text: str):
        self.what, self.text = what, text


_BAD_WHAT = {"date": "ett datum (a date)", "boolean": "ett sanningsvärde (a boolean)",
             "error": "ett felvärde (an error)"}
_EXCEL_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                           "#GETTING_DATA", "#SPILL!", "#CALC!"})


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def excel_cell_text(path, row_no: int, col: int, v, kind: str) -> str | None:
    """An Excel cell as text as a user reads it (2010.0 -> '2010'); a date, boolean or error in
    a role of another kind than text is refused naming the cell."""
    if v is None:
        return None
    if isinstance(v, bool) and kind == "bool":
        return "true" if v else "false"
    if isinstance(v, bool):
        v = BadCell("boolean", "TRUE" if v else "FALSE")
    elif isinstance(v, (datetime, date, time, timedelta)):
        v = BadCell("date", v.isoformat() if hasattr(v, "isoformat") else str(v))
    elif isinstance(v, str) and v in _EXCEL_ERRORS and kind != "text":
        v = BadCell("error", v)
    if isinstance(v, BadCell):
        if kind == "text":
            return v.text
        raise ImportFailure(path, row_no, f"cellen {_col_letter(col)}{row_no} är {_BAD_WHAT[v.what]}: "
                                          f"{v.text} (bad value: {v.what} cell)")
    if isinstance(v, float):
        if v != v:
            return None
        if v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)
    s = str(v)
    if len(s) > FIELD_MAX_CHARS:
        raise field_too_long(path, row_no)
    return s


def _zip_member(z: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    try:
        return z.getinfo(name)
    except KeyError:
        return None


def _first_sheet_member(path, z: zipfile.ZipFile) -> str:
    """Zip member name of the first worksheet (the one openpyxl's worksheets[0] is)."""
    def small(name: str) -> str:
        info = _zip_member(z, name)
        if info is None:
            raise ImportFailure(path, None, f"Excel-filen saknar {name} (unreadable workbook)")
        if info.file_size > XLSX_MAX_META_BYTES:
            raise ImportFailure(path, None, f"Excel-filens {name} är för stor (workbook over the limits)")
        return z.read(name).decode("utf-8", "replace")

    wb = small("xl/workbook.xml")
    rels = small("xl/_rels/workbook.xml.rels")
    targets = {}
    for m in re.finditer(r"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        if attrs.get("Type", "").endswith("/worksheet"):
            targets[attrs.get("Id")] = attrs.get("Target", "")
    for m in re.finditer(r"<(?:\w+:)?sheet\b([^>]*)>", wb):
        rid = re.search(r'\b(?:\w+:)?id="([^"]*)"', m.group(1))
        if rid and rid.group(1) in targets:
            t = targets[rid.group(1)]
            return t.lstrip("/") if t.startswith("/") else "xl/" + t
    raise ImportFailure(path, None, "arbetsboken har inget arbetsblad (empty file: no worksheet)")


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*[0-9]*:?[A-Z]*([0-9]*)"')


def check_xlsx(path) -> None:
    """Refuse an .xlsx over the limits before openpyxl loads anything: uncompressed sizes from
    the zip directory (the reader never inflates more than the directory states) and the row
    count the sheet declares in <dimension>."""
    try:
        with zipfile.ZipFile(path) as z:
            sheet = _first_sheet_member(path, z)
            info = _zip_member(z, sheet)
            if info is None:
                raise ImportFailure(path, None, "arbetsbladet saknas i filen (unreadable workbook)")
            if info.file_size > XLSX_MAX_SHEET_BYTES:
                raise ImportFailure(path, None, f"arbetsbladet är {info.file_size / 1e6:.0f} MB okomprimerat; gränsen är "
                                                f"{XLSX_MAX_SHEET_BYTES >> 20} MiB (workbook over the size limit)")
            strings = _zip_member(z, "xl/sharedStrings.xml")
            if strings is not None and strings.file_size > XLSX_MAX_SHARED_STRINGS_BYTES:
                raise ImportFailure(path, None, f"arbetsbokens texter är {strings.file_size / 1e6:.0f} MB okomprimerat; "
                                                f"gränsen är {XLSX_MAX_SHARED_STRINGS_BYTES >> 20} MiB "
                                                f"(workbook over the size limit: shared strings)")
            with z.open(info) as f:
                head = f.read(1 << 16)
            m = _DIMENSION.search(head)
            if m and m.group(1) and int(m.group(1)) > XLSX_MAX_ROWS:
                raise ImportFailure(path, None, too_many_rows(int(m.group(1))))
    except ImportFailure:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError) as e:
        raise ImportFailure(path, None, f"Excel-filen går inte att läsa (unreadable workbook): {short(e, 120)}") from None


def too_many_rows(n: int) -> str:
    return (f"arbetsbladet har {n:,} rader; gränsen är {XLSX_MAX_ROWS:,} "
            f"(workbook over the row limit)").replace(",", " ")


def iter_excel_rows(path, kind: str) -> Iterator[tuple[int, list]]:
    """(sheet row number, raw cell values) of the first sheet, streamed, after the cheap checks.
    Raises ImportFailure for an unreadable workbook or one over the limits."""
    if kind == "xlsx":
        check_xlsx(path)
        yield from _iter_xlsx(path)
    else:
        size = os.stat(path).st_size
        if size > XLS_MAX_BYTES:
            raise ImportFailure(path, None, f".xls-filen är {size / 1e6:.0f} MB; gränsen är {XLS_MAX_BYTES >> 20} MiB; "
                                            f"spara som .xlsx eller CSV (workbook over the size limit)")
        yield from _iter_xls(path)


def _iter_xlsx(path) -> Iterator[tuple[int, list]]:
    import openpyxl

    try:
        # A file object, not the name: openpyxl refuses names that do not end in .xlsx, and the
        # type was decided by the content.
        with open(path, "rb") as fh:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            try:
                if not wb.worksheets:
                    raise ImportFailure(path, None, "arbetsboken har inget arbetsblad (empty file: no worksheet)")
                ws = wb.worksheets[0]
                n = 0
                for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    if n > XLSX_MAX_ROWS:
                        raise ImportFailure(path, None, too_many_rows(n))
                    yield n, list(row)
            finally:
                wb.close()
    except ImportFailure:
        raise
    except MemoryError:
        raise ImportFailure(path, None, "Excel-filen är för stor att läsa (workbook over the size limit)") from None
    except Exception as e:  # corrupt workbook: openpyxl raises many kinds
        raise ImportFailure(path, None, f"Excel-filen går inte att läsa (unreadable workbook): {short(e, 120)}") from None


def _iter_xls(path) -> Iterator[tuple[int, list]]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
        try:
            sh = book.sheet_by_index(0)
            for r in range(sh.nrows):
                row = []
                for c in range(sh.ncols):
                    cell = sh.cell(r, c)
                    t = cell.ctype
                    if t in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        row.append(None)
                    elif t == xlrd.XL_CELL_DATE:
                        try:
                            row.append(BadCell("date", xlrd.xldate_as_datetime(cell.value, book.datemode).isoformat()))
                        except Exception:
                            row.append(BadCell("date", repr(cell.value)))
                    elif t == xlrd.XL_CELL_BOOLEAN:
                        row.append(BadCell("boolean", "TRUE" if cell.value else "FALSE"))
                    elif t == xlrd.XL_CELL_ERROR:
                        row.append(BadCell("error", xlrd.error_text_from_code.get(cell.value, "#?")))
                    else:
                        row.append(cell.value)
                yield r + 1, row
        finally:
            book.release_resources()
    except ImportFailure:
        raise
    except Exception as e:
        raise ImportFailure(path, None, f"Excel-filen går inte att läsa (unreadable workbook): {short(e, 120)}") from None


def _blank(row) -> bool:
    return not any(c not in (None, "") for c in row)


def excel_header(path, rows: Iterator[tuple[int, list]], roles: Roles, search: int = 20):
    """Find the header in the first `search` non-blank rows (Kolada's spreadsheets may carry a
    title row above it). Returns (header_row_no, role->column); ImportFailure if none."""
    first = None
    for seen, (n, row) in enumerate(r for r in rows if not _blank(r[1])):
        if seen >= search:
            break
        cells = [excel_cell_text(path, n, i, c, "text") or "" for i, c in enumerate(row)]
        if first is None:
            first = (n, cells)
        if not roles.match(cells)[1]:
            return n, match_header(path, n, roles, cells)
    if first is None:
        raise ImportFailure(path, None, "arbetsboken är tom (empty file)")
    n, cells = first
    raise missing_columns_failure(path, n, roles, roles.match(cells)[1], cells)


# -- CSV --------------------------------------------------------------------------------------------

def read_csv_header(path: Path, encoding: str) -> tuple[list[str], str]:
    """First line as columns, and the delimiter (; , or tab: the most frequent outside quotes)."""
    with open(path, encoding=encoding, newline="") as f:
        first = f.readline(LINE_MAX_BYTES + 1)
    if len(first) > LINE_MAX_BYTES:
        raise ImportFailure(path, 1, f"rubrikraden är längre än {LINE_MAX_BYTES >> 20} MiB (line too long)")
    line = first.rstrip("\r\n")
    outside = re.sub(r'"[^"]*"', "", line)
    delim = max([";", ",", "\t"], key=lambda d: outside.count(d))
    if outside.count(delim) == 0:
        delim = ","
    header = next(csv.reader([line], delimiter=delim), [])
    return header, delim


def _csv_field_limit() -> None:
    # The csv module's own field limit (128 KiB) would stop us before our stated limits do.
    if csv.field_size_limit() < LINE_MAX_BYTES + 1:
        csv.field_size_limit(LINE_MAX_BYTES + 1)


def iter_csv_rows(path: Path, encoding: str, delim: str, skip: int = 1) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) per record after `skip` records; blank lines skipped.
    Any mix of CRLF/LF/CR ends a line. ImportFailure for an unreadable record."""
    _csv_field_limit()
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delim, strict=True)
        start = 1
        try:
            for _ in range(skip):
                next(reader, None)
            start = reader.line_num + 1
            for row in reader:
                if row:
                    yield start, row
                start = reader.line_num + 1
        except csv.Error as e:
            raise ImportFailure(path, start, _csv_module_problem(str(e))) from None


def _csv_module_problem(msg: str) -> str:
    if "field larger than field limit" in msg:
        return f"ett fält är längre än {FIELD_MAX_CHARS:,} tecken (field too long)".replace(",", " ")
    if "unexpected end of data" in msg or "EOF" in msg:
        return "citattecken som inte avslutas (unterminated quote)"
    if "expected after" in msg:
        return "tecken efter ett avslutande citattecken (unexpected character after a quote)"
    if "NUL" in msg:
        return "raden innehåller en NUL-byte (unreadable CSV row: NUL byte)"
    return f"raden går inte att läsa som CSV (unreadable CSV row): {msg}"


# -- small tables -----------------------------------------------------------------------------------

@dataclass
class Row:
    line: int                       # physical line (CSV) or sheet row (Excel), 1-based
    cells: dict[str, str]           # role -> text ('' if empty)

    def __getitem__(self, role: str) -> str:
        return self.cells.get(role, "")


@dataclass
class Table:
    path: Path
    kind: str                       # csv | xlsx | xls
    header_line: int
    columns: tuple[str, ...]        # roles present in the header
    rows: list[Row]
    sha256: str = ""


def read_table(path, roles: Roles, *, max_rows: int = TABLE_MAX_ROWS) -> Table:
    """A small CSV or Excel table as validated rows (see the module docstring). Refuses
    JSON, a wrong number of columns on a row, a field over FIELD_MAX_CHARS and more than
    max_rows rows, each with file and line."""
    path = Path(path)
    kind = sniff_kind(path)
    rows: list[Row] = []
    if kind == "csv":
        enc = detect_encoding(path)
        header, delim = read_csv_header(path, enc)
        if not header or all(h.strip() == "" for h in header):
            raise ImportFailure(path, 1, "rubrikraden saknas (missing header)")
        found = match_header(path, 1, roles, header)
        header_line = 1
        for line, cells in iter_csv_rows(path, enc, delim):
            if len(cells) != len(header):
                raise ImportFailure(path, line, f"fel antal kolumner (wrong number of columns): {len(cells)} i stället "
                                                f"för {len(header)} som i rubrikraden")
            if len(rows) >= max_rows:
                raise ImportFailure(path, line, f"mer än {max_rows:,} rader (too many rows)".replace(",", " "))
            for c in cells:
                if len(c) > FIELD_MAX_CHARS:
                    raise field_too_long(path, line)
            rows.append(Row(line, {role: cells[i].strip() for role, i in found.items()}))
    elif kind in ("xlsx", "xls"):
        it = iter_excel_rows(path, kind)
        header_line, found = excel_header(path, it, roles)
        for n, raw in it:
            if _blank(raw):
                continue
            if len(rows) >= max_rows:
                raise ImportFailure(path, n, f"mer än {max_rows:,} rader (too many rows)".replace(",", " "))
            cells = {role: (excel_cell_text(path, n, i, raw[i], roles.kind(role)) or "").strip() if i < len(raw) else ""
                     for role, i in found.items()}
            rows.append(Row(n, cells))
    else:
        raise ImportFailure(path, None, "väntade en CSV- eller Excel-tabell, inte JSON (wrong file type)")
    return Table(path, kind, header_line, tuple(found), rows, sha256_file(path))


# -- JSON -------------------------------------------------------------------------------------------

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)


def json_depth(text: str) -> int:
    """Deepest nesting of [ ] and { } outside strings (C-speed: strings removed by a regex,
    brackets counted with numpy)."""
    import numpy as np

    bare = _JSON_STRING.sub("", text)
    b = np.frombuffer(bare.encode("ascii", "replace"), dtype=np.uint8)
    step = (np.isin(b, (ord("["), ord("{")))).astype(np.int32) - np.isin(b, (ord("]"), ord("}"))).astype(np.int32)
    if not len(step):
        return 0
    return int(np.cumsum(step).max())


def load_json(path: Path):
    """The parsed JSON, within JSON_MAX_BYTES and JSON_MAX_DEPTH. Raises ImportFailure."""
    path = check_input_file(path)
    size = os.stat(path).st_size
    if size > JSON_MAX_BYTES:
        raise ImportFailure(path, None, f"JSON-filen är {size / 1e6:.0f} MB; gränsen är {JSON_MAX_BYTES >> 20} MiB "
                                        f"(JSON over the size limit); dela upp hämtningen")
    enc = detect_encoding(path)
    with open(path, encoding=enc) as f:
        text = f.read()
    if json_depth(text) > JSON_MAX_DEPTH:
        raise ImportFailure(path, None, f"JSON nästlad djupare än {JSON_MAX_DEPTH} nivåer (JSON nested too deep)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportFailure(path, e.lineno, f"ogiltig JSON (invalid JSON): {e.msg}") from None
    except RecursionError:
        raise ImportFailure(path, None, f"JSON nästlad djupare än {JSON_MAX_DEPTH} nivåer (JSON nested too deep)") from None
    except ValueError as e:   # e.g. an integer of more than 4 300 digits
        raise ImportFailure(path, None, f"ogiltig JSON (invalid JSON): {short(e, 120)}") from None


# -- the bulk path: staging for SQL ---------------------------------------------------------------------

_tmp_counter = 0


def tmp_name(prefix: str) -> str:
    global _tmp_counter
    _tmp_counter += 1
    return f"_imp_{prefix}_{uuid.uuid4().hex[:8]}_{_tmp_counter}"


@dataclass
class StagedFile:
    """One input file, ready for SQL: `relation` yields (rec, area_raw, kpi_raw, year_raw,
    value_raw[, gender_raw, area_name_raw]) with rec = 0-based record number. A CSV is not
    copied: the relation is DuckDB's read_csv over the file itself (parsed again by each pass,
    which is cheaper than materialising millions of strings); Excel and JSON are small temp
    tables. `skipped` counts rows the reader dropped on purpose (reason -> n)."""
    path: Path
    relation: str
    kind: str                            # csv | xlsx | xls | json
    locate: Callable[[int], int | str]   # rec -> line number (int) or position label (str)
    sha256: object = ""                  # str, or a BackgroundHash until it is read
    relation_fast: str | None = None     # the same rows without record numbers (bulk path)
    columns: tuple[str, ...] = ()        # role columns present
    table: str | None = None             # temp table to drop (Excel/JSON)
    tmpdir: object = None                # the file under a safe name, or a transcoded copy
    read_csv_path: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)

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
    """rec -> physical line, by re-reading the file with the csv module. Only used on the
    error path, so the bulk path never pays for it. Blank lines are skipped, as DuckDB does."""
    def locate(rec: int) -> int:
        start = None
        try:
            for n, (line, _) in enumerate(iter_csv_rows(path, encoding, delim, skip=header_lines)):
                start = line
                if n == rec:
                    return line
        except ImportFailure as e:
            return e.line if isinstance(e.line, int) else (start or 1)
        return start or 1
    return locate


def stage_csv(con, path: Path, roles: Roles, prefix: str) -> StagedFile:
    """A CSV as a read_csv relation (explicit dialect, no sniffing, all VARCHAR). Any DuckDB
    error aborts the caller's transaction, so the encoding and line ends are settled in Python
    first (fast passes: ASCII chunks are not decoded, line ends are counted with bytes.count);
    structural errors surface in the first SQL pass and are translated by `csv_failure`.

    DuckDB reads the file through a symlink with a plain name in a private folder: read_csv
    treats * ? [ ] in a path as a glob, and a user's file name is a name."""
    encoding = detect_encoding(path, utf8_probe=UTF8_PROBE)
    header, delim = read_csv_header(path, encoding)
    if not header or all(h.strip() == "" for h in header):
        raise ImportFailure(path, 1, "rubrikraden saknas (missing header)")
    found = match_header(path, 1, roles, header)
    tmpdir = tempfile.TemporaryDirectory(prefix="styrkort-import-")
    try:
        src = Path(tmpdir.name) / "input.csv"
        if encoding not in ("utf-8", "utf-8-sig") or line_ends(path) == "mixed":
            # DuckDB reads UTF-8 with one kind of line end: Windows-1252 and UTF-16 files (web
            # exports, small) and files mixing CRLF/LF/CR are rewritten as UTF-8 with LF.
            # (Latin-1 would mis-read cp1252's en dash and quotes.)
            with open(path, encoding=encoding, newline=None) as fin, \
                    open(src, "w", encoding="utf-8", newline="\n") as fout:
                for chunk in iter(lambda: fin.read(1 << 20), ""):
                    fout.write(chunk)
        else:
            os.symlink(os.path.abspath(path), src)
    except BaseException:
        tmpdir.cleanup()
        raise
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    select = ", ".join(f"c{i} AS {role}" for role, i in found.items())
    reader = (f"read_csv({_sql_str(str(src))}, auto_detect=false, header=false, skip=1, "
              f"delim={_sql_str(delim)}, quote='\"', escape='\"', columns={columns}, strict_mode=true, "
              f"max_line_size={LINE_MAX_BYTES})")
    # row_number() OVER () (a streaming window) numbers records in file order; it is only
    # needed to point at a bad row, so the bulk path reads without it.
    relation = f"(SELECT row_number() OVER () - 1 AS rec, {select} FROM {reader})"
    return StagedFile(path, relation, "csv", _csv_line_locator(path, encoding, delim, 1),
                      columns=tuple(found), tmpdir=tmpdir, read_csv_path=str(src),
                      relation_fast=f"(SELECT {select} FROM {reader})")


def first_bad_csv_record(path: Path) -> ImportFailure | None:
    """Re-read a CSV with the csv module (error path) and return the first structural problem:
    an unreadable record or a wrong number of columns."""
    try:
        enc = detect_encoding(path)
        header, delim = read_csv_header(path, enc)
        for line, row in iter_csv_rows(path, enc, delim):
            if len(row) != len(header):
                return ImportFailure(path, line, f"fel antal kolumner (wrong number of columns): {len(row)} i stället "
                                                 f"för {len(header)} som i rubrikraden")
            if any(len(c) > FIELD_MAX_CHARS for c in row):
                return field_too_long(path, line)
    except ImportFailure as e:
        return e
    return None


def csv_failure(path: Path, msg: str) -> ImportFailure:
    """A DuckDB read_csv error -> file, line, problem."""
    m = re.search(r"CSV Error on Line: (\d+)", msg)
    line = int(m.group(1)) if m else None
    low = msg.lower()
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if "maximum line size" in low:
        return ImportFailure(path, line, f"raden är längre än {LINE_MAX_BYTES >> 20} MiB (line too long)")
    if "unicode" in low or "utf-8" in low or "utf8" in low:
        return ImportFailure(path, line, "teckenkodningen går inte att läsa (unreadable encoding): "
                                         "ogiltig UTF-8 (invalid UTF-8); spara filen som UTF-8 eller Windows-1252")
    # Otherwise the csv module names the record and the problem (DuckDB's line numbers count
    # records, and some of its errors carry none).
    found = first_bad_csv_record(path)
    if found is not None:
        return found
    if cols:
        return ImportFailure(path, line, f"fel antal kolumner (wrong number of columns): {cols.group(2)} i stället "
                                         f"för {cols.group(1)} som i rubrikraden")
    if "quote" in low:
        return ImportFailure(path, line, "citattecken som inte avslutas (unterminated quote)")
    first = msg.splitlines()[0] if msg else ""
    return ImportFailure(path, line, f"raden går inte att läsa som CSV (unreadable CSV row): {short(first, 200)}")


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


def stage_excel(con, path: Path, kind: str, roles: Roles, prefix: str) -> StagedFile:
    """The first sheet as a staged frame: header found in the first rows (checked before the
    rest is read), cells converted by their role's kind."""
    it = iter_excel_rows(path, kind)
    _, found = excel_header(path, it, roles)
    data: dict[str, list] = {role: [] for role in found}
    labels: list[int] = []
    kinds = {role: roles.kind(role) for role in found}
    for n, row in it:
        if _blank(row):
            continue
        for role, ci in found.items():
            data[role].append(excel_cell_text(path, n, ci, row[ci], kinds[role]) if ci < len(row) else None)
        labels.append(n)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})
    return stage_frame(con, path, kind, df, labels, prefix)


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
