"""Known definition changes in KPI series: warehouse/kpi_series_breaks.csv, shipped with the app.

A KPI whose values are counted differently from some year on (Kolada's N20896 in 2009: the share
of 65+ with home care or special housing jumps in almost every municipality at once) must not be
read as one continuous series. The build loads the file into `kpi_series_break` (public view
`kpi_series_breaks`); the trends step notes a break inside a trend's window and /trender draws it.

File: `kpi_id,year,note,source` (UTF-8). `year` is the first year counted the new way; `note`
says what changed and how we know it; `source` names the evidence (file, document). Checked
like every importer: the whole file or nothing, a refusal names the file and the line.

    rows = read_series_breaks()          # list of (kpi_id, year, note, source), or SourceError
    load_series_breaks(con)              # into kpi_series_break (idempotent)
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

SERIES_BREAKS_CSV = Path(__file__).with_name("kpi_series_breaks.csv")
COLUMNS = ["kpi_id", "year", "note", "source"]
_YEAR = re.compile(r"^(19|20)\d\d$")


def read_series_breaks(path: Path = SERIES_BREAKS_CSV, known_kpis: set[str] | None = None) -> list[tuple]:
    """The file's rows, checked: exact header, a known KPI (when `known_kpis` is given), a
    four-digit year, a note and a source, no (kpi_id, year) twice."""
    from warehouse.loaders import SourceError

    name = Path(path).name
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip() for h in header] != COLUMNS:
            raise SourceError(f"{name}, rad (line) 1: the header must be {','.join(COLUMNS)}, found {header}")
        rows, seen = [], {}
        for line, rec in enumerate(reader, start=2):
            if not any(c.strip() for c in rec):
                continue
            if len(rec) != len(COLUMNS):
                raise SourceError(f"{name}, rad (line) {line}: {len(rec)} fields, expected {len(COLUMNS)}")
            kpi_id, year, note, source = (c.strip() for c in rec)
            if not kpi_id:
                raise SourceError(f"{name}, rad (line) {line}: kpi_id is empty")
            if known_kpis is not None and kpi_id not in known_kpis:
                raise SourceError(f"{name}, rad (line) {line}: unknown KPI {kpi_id!r}")
            if not _YEAR.match(year):
                raise SourceError(f"{name}, rad (line) {line}: year {year!r} is not a year")
            if not note or not source:
                raise SourceError(f"{name}, rad (line) {line}: note and source are required")
            key = (kpi_id, int(year))
            if key in seen:
                raise SourceError(f"{name}, rad (line) {line}: {kpi_id} {year} already on line {seen[key]}")
            seen[key] = line
            rows.append((kpi_id, int(year), note, source))
    return rows


def load_series_breaks(con, path: Path = SERIES_BREAKS_CSV) -> int:
    """The shipped breaks into kpi_series_break, replacing what was there (one statement each,
    inside the build's transaction). Returns the number of rows."""
    known = {k for (k,) in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    rows = read_series_breaks(path, known)
    con.execute("DELETE FROM kpi_series_break")
    if rows:
        con.executemany("INSERT INTO kpi_series_break VALUES (?, ?, ?, ?)", rows)
    return len(rows)
