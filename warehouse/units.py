"""Balansen units: the vocabulary of the unit register, the shipped unit KPI catalogue, and the
import templates.

Göteborg's Balansen (as Stockholm's 2005 follow-up report describes it) keeps one balanced
scorecard per unit – a home-care group, a care home – with monthly key figures in four
perspectives. A municipality brings its units with `styrkort import units` and their figures with
`styrkort import unit-values` (warehouse/importers/units.py).

    ensure_unit_schema(con)     # org_unit's newer columns, unit_kpi, the views (older warehouses)
    load_unit_kpis(con)         # warehouse/unit_kpis.csv -> kpi + unit_kpi (idempotent)
    parse_kind("Särskilt boende") == "sarskilt_boende"
    template_csv("units"), template_xlsx(kpis)   # what the unit pages offer for download

Stored data keeps codes (`hemtjanst`, `egen_regi`); the catalogue translates them (kind_*,
provider_*).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

UNIT_KPIS_CSV = Path(__file__).with_name("unit_kpis.csv")
UNIT_KPI_SOURCE = "styrkort: Balansens nyckeltal per enhet (warehouse/unit_kpis.csv)"

KINDS = ("hemtjanst", "sarskilt_boende", "korttidsboende", "dagverksamhet")
PROVIDERS = ("egen_regi", "enskild_regi")

# folded spellings -> code (fold(): lower case, no diacritics, separators as one space)
_KIND_WORDS = {
    "hemtjanst": "hemtjanst", "hemtjansten": "hemtjanst", "ht": "hemtjanst", "home care": "hemtjanst",
    "sarskilt boende": "sarskilt_boende", "sabo": "sarskilt_boende", "sarskilda boenden": "sarskilt_boende",
    "vard och omsorgsboende": "sarskilt_boende", "aldreboende": "sarskilt_boende", "sb": "sarskilt_boende",
    "special housing": "sarskilt_boende", "nursing home": "sarskilt_boende",
    "korttidsboende": "korttidsboende", "korttid": "korttidsboende", "korttidsvard": "korttidsboende",
    "short term housing": "korttidsboende",
    "dagverksamhet": "dagverksamhet", "dagvard": "dagverksamhet", "day care": "dagverksamhet",
}
_PROVIDER_WORDS = {
    "egen regi": "egen_regi", "kommunal regi": "egen_regi", "kommunal": "egen_regi", "kommunen": "egen_regi",
    "in house": "egen_regi", "municipal": "egen_regi",
    "enskild regi": "enskild_regi", "enskild": "enskild_regi", "privat": "enskild_regi", "privat regi": "enskild_regi",
    "extern regi": "enskild_regi", "extern": "enskild_regi", "private": "enskild_regi",
}


def fold(text) -> str:
    """'Särskilt boende' -> 'sarskilt boende' (lower case, no diacritics, _ - / as spaces)."""
    s = unicodedata.normalize("NFKD", str(text or "").casefold())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-/.,]+", " ", s).strip()


def parse_kind(text) -> str | None:
    """The kind code for what a register writes, or None if unknown."""
    return _KIND_WORDS.get(fold(text))


def parse_provider(text) -> str | None:
    """The provider code, None if unknown ('' is handled by the caller: not stated)."""
    return _PROVIDER_WORDS.get(fold(text))


# -- schema ---------------------------------------------------------------------------------------------

_ORG_UNIT_LATER_COLUMNS = (("district", "VARCHAR"), ("provider", "VARCHAR"), ("valid_from", "DATE"),
                           ("valid_to", "DATE"), ("source", "VARCHAR"))


def ensure_unit_schema(con) -> None:
    """Bring an older warehouse up to the unit register of warehouse/schema (new org_unit
    columns, the unit_kpi table, the views). A no-op on a current one."""
    from warehouse.db import apply_schema

    for name, typ in _ORG_UNIT_LATER_COLUMNS:
        con.execute(f"ALTER TABLE org_unit ADD COLUMN IF NOT EXISTS {name} {typ}")
    apply_schema(con)   # CREATE TABLE IF NOT EXISTS unit_kpi, CREATE OR REPLACE the views


def read_unit_kpis(path: Path = UNIT_KPIS_CSV) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["higher_is_better"] = {"true": True, "false": False, "": None}[r["higher_is_better"].strip()]
    return rows


def load_unit_kpis(con, path: Path = UNIT_KPIS_CSV) -> int:
    """The shipped unit KPI catalogue into kpi and unit_kpi. A KPI the warehouse already has
    (e.g. edited by a user's --kpis) keeps its fields; only missing ones are added. Returns the
    number of KPIs added."""
    added = 0
    for r in read_unit_kpis(path):
        if not con.execute("SELECT 1 FROM kpi WHERE kpi_id = ?", [r["kpi_id"]]).fetchall():
            con.execute("INSERT INTO kpi (kpi_id, title, description, unit, higher_is_better, perspective, area, "
                        "source, is_demo) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, false)",
                        [r["kpi_id"], r["title"], r["description"], r["unit"], r["higher_is_better"],
                         r["perspective"], UNIT_KPI_SOURCE])
            added += 1
        con.execute("INSERT INTO unit_kpi VALUES (?, ?, ?) ON CONFLICT (kpi_id) DO NOTHING",
                    [r["kpi_id"], r["frequency"], r["provenance"]])
    return added


# -- templates ------------------------------------------------------------------------------------------

UNIT_COLUMNS = ("unit_id", "name", "municipality_code", "kind", "district", "provider", "valid_from", "valid_to")
VALUE_COLUMNS = ("unit_id", "kpi_id", "period", "value")
_EXAMPLE_UNITS = (
    ("1480-HT-001", "Hemtjänst Linnéstaden 1", "1480", "hemtjänst", "Centrum", "egen regi", "2011-01", ""),
    ("1480-SB-002", "Vård- och omsorgsboende Guldheden", "1480", "särskilt boende", "Centrum", "enskild regi",
     "2012-07", ""),
)
_EXAMPLE_VALUES = (("1480-HT-001", "BAL_KOSTNAD_VT", "2013-01", "21450"),
                   ("1480-HT-001", "BAL_SJUKFRANVARO", "2013-01", "7,4"),
                   ("1480-HT-001", "BAL_SJUKFRANVARO", "2013-02", "6,9"))


def template_csv(which: str) -> bytes:
    """'units' or 'values': a UTF-8 CSV (with BOM, so Excel reads å/ä/ö) with the header and two
    or three example rows to overwrite."""
    header, rows = ((UNIT_COLUMNS, _EXAMPLE_UNITS) if which == "units" else (VALUE_COLUMNS, _EXAMPLE_VALUES))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx(which: str, kpis: list[dict], help_lines: list[str]) -> bytes:
    """'units' or 'values' as a workbook whose FIRST sheet is the one to fill (the importer reads
    the first sheet): 'enheter' or 'varden' with the header and example rows; for 'values' also
    'nyckeltal', the unit KPIs the warehouse knows (id, title, unit, perspective, direction,
    frequency); and 'anvisning' with `help_lines`."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    sheets = [ws]
    if which == "units":
        ws.title = "enheter"
        ws.append(list(UNIT_COLUMNS))
        for r in _EXAMPLE_UNITS:
            ws.append(list(r))
    else:
        ws.title = "varden"
        ws.append(list(VALUE_COLUMNS))
        for u, k, p, v in _EXAMPLE_VALUES:
            ws.append([u, k, p, float(v.replace(",", "."))])
        for row in ws.iter_rows(min_row=1, min_col=3, max_col=3):
            for c in row:
                c.number_format = "@"     # the period as text: Excel would turn 2013-01 into a date
        ws_k = wb.create_sheet("nyckeltal")
        ws_k.append(["kpi_id", "title", "unit", "perspective", "higher_is_better", "frequency"])
        for k in kpis:
            hib = k.get("higher_is_better")
            ws_k.append([k["kpi_id"], k["title"], k.get("unit") or "", k.get("perspective") or "",
                         "" if hib is None else ("true" if hib else "false"), k.get("frequency") or ""])
        sheets.append(ws_k)
    ws_h = wb.create_sheet("anvisning")
    for line in help_lines:
        ws_h.append([line])
    ws_h.column_dimensions["A"].width = 110
    for sheet in sheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for col in sheet.columns:
            sheet.column_dimensions[col[0].column_letter].width = max(
                12, min(60, max(len(str(c.value or "")) for c in col) + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
