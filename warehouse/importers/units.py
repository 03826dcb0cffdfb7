"""`styrkort import units FILE...` and `styrkort import unit-values FILE... [--kpis META.csv]`:
a municipality's own Balansen units and their monthly key figures.

The unit register (CSV or Excel, first sheet; header names in Swedish or English, any order)::

    unit_id,name,municipality_code,kind[,district,provider,valid_from,valid_to]
    1480-HT-001,Hemtjänst Linnéstaden 1,1480,hemtjänst,Centrum,egen regi,2011-01,
    1480-SB-002,Vård- och omsorgsboende Guldheden,Göteborg,särskilt boende,,enskild regi,2012-07,2014-12

- unit_id: letters A–Z, digits and _ . : - (at most 64); it is the address of the unit's page
  (/enhet/<unit_id>). The ids of the demo units (DEMO source, flagged is_demo) cannot be taken.
- municipality_code: the four-digit code or the municipality's name.
- kind: hemtjänst, särskilt boende (also vård- och omsorgsboende, äldreboende), korttidsboende,
  dagverksamhet (case and å/ä/ö do not matter).
- provider: egen regi (also kommunal) or enskild regi (also privat, extern); empty = not stated.
- valid_from / valid_to: the first and last month of the unit (YYYY-MM, or a date in that
  month, an Excel date cell too); empty = open. valid_to before valid_from is refused, and so
  is a validity that would leave already stored values outside it.

Monthly values (CSV or Excel, first sheet)::

    unit_id,kpi_id,period,value
    1480-HT-001,BAL_KOSTNAD_VT,2013-01,21450
    1480-HT-001,BAL_SJUKFRANVARO,2013-01,"7,4"

- unit_id must be in the register (import it first), kpi_id a unit KPI: the shipped catalogue
  (warehouse/unit_kpis.csv, Balansen's four perspectives) or one described in `--kpis META.csv`
  (same format as `import indicators --kpis`: kpi_id,title,higher_is_better,perspective,unit,...).
- period: YYYY-MM (also YYYY-MM-01, YYYY/MM, an Excel date cell on the first of the month);
  it must lie within the unit's validity.
- value: a number (decimal comma or point); empty and Kolada's markers ("..", "-", ...) are
  skipped and counted, so a missing month stays missing.

Both commands follow the importers' shared rules (warehouse/importers/common.py): every problem
is `FILE, rad (line) N: problem`, nothing is written unless every row of every file is good, a
key twice with different contents is refused naming both lines, and importing the same file
again changes nothing.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd

from warehouse.importers.common import (
    FileResult, ImportFailure, ImportSummary, Roles, parse_number, read_table, short, write_import_log, year_max,
    YEAR_MIN,
)
from warehouse.units import (KINDS, PROVIDERS, ensure_unit_schema, fold, load_unit_kpis, parse_kind,
                             parse_provider)

UNIT_ID_RE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
UNIT_VALUES_MAX_ROWS = 500_000

UNIT_ROLES = Roles(
    required={
        "unit_id": ("unit id", "enhets-id", "enhetsid", "enhet id", "id"),
        "name": ("name", "namn", "enhetsnamn", "enhet"),
        "municipality": ("municipality code", "kommunkod", "kommun", "municipality"),
        "kind": ("kind", "typ", "verksamhet", "verksamhetstyp", "insats"),
    },
    optional={
        "district": ("district", "stadsdel", "område", "omrade", "distrikt"),
        "provider": ("provider", "regi", "driftsform", "utförare", "utforare"),
        "valid_from": ("valid from", "giltig från", "gäller från", "från", "fran", "start"),
        "valid_to": ("valid to", "giltig till", "gäller till", "till", "slut"),
    },
    kinds={"municipality": "code"},
)
VALUE_ROLES = Roles(
    required={
        "unit_id": ("unit id", "enhets-id", "enhetsid", "enhet id", "enhet"),
        "kpi_id": ("kpi id", "kpi", "nyckeltal id", "nyckeltal"),
        "period": ("period", "månad", "manad", "month"),
        "value": ("value", "värde", "varde"),
    },
    kinds={"value": "number"},
)

_MONTH = re.compile(r"\s*([0-9]{4})\s*[-/]\s*([0-9]{1,2})(?:\s*[-/]\s*([0-9]{1,2})(?:[T ][0-9:.]+)?)?\s*")


def parse_month(path, line, raw, column: str = "period") -> date:
    """A month as its first day: '2013-01', '2013/1', '2013-01-01' (an Excel date cell arrives as
    '2013-01-01T00:00:00'). A day other than the 1st is refused for `period` (a month, not a day)."""
    m = _MONTH.fullmatch(str(raw or ""))
    if not m:
        raise ImportFailure(path, line, f"{column} {short(raw)} är inte en månad ÅÅÅÅ-MM (invalid month: YYYY-MM)")
    y, mo, d = int(m.group(1)), int(m.group(2)), m.group(3)
    if not 1 <= mo <= 12:
        raise ImportFailure(path, line, f"{column} {short(raw)}: månaden {mo} finns inte (invalid month)")
    if not YEAR_MIN <= y <= year_max():
        raise ImportFailure(path, line, f"{column} {short(raw)}: året {y} ligger utanför {YEAR_MIN}–{year_max()} "
                                        f"(year out of range)")
    if d is not None:
        try:
            date(y, mo, int(d))
        except ValueError:
            raise ImportFailure(path, line, f"{column} {short(raw)} är inget datum (invalid date)") from None
        if column == "period" and int(d) != 1:
            raise ImportFailure(path, line, f"{column} {short(raw)} är en dag, inte en månad: skriv {y}-{mo:02d} "
                                            f"(invalid month: a day)")
    return date(y, mo, 1)


def _month_text(d: date | None) -> str:
    return "" if d is None else f"{d.year}-{d.month:02d}"


# -- the register -------------------------------------------------------------------------------------

def read_units(con, path: Path) -> list[dict]:
    """The register rows of one file, validated; each dict has the columns of org_unit + line."""
    from warehouse.names import build_name_index, resolve

    table = read_table(path, UNIT_ROLES)
    index = build_name_index(con)
    out = []
    for row in table.rows:
        line = row.line
        uid = row["unit_id"]
        if not uid:
            raise ImportFailure(path, line, "unit_id saknas (missing unit id)")
        if not UNIT_ID_RE.fullmatch(uid):
            raise ImportFailure(path, line, f"unit_id {short(uid)} får bara ha bokstäver A–Z, siffror och _ . : - "
                                            f"och högst 64 tecken (invalid unit id)")
        name = row["name"]
        if not name:
            raise ImportFailure(path, line, f"namn saknas för enheten {uid} (missing name)")
        code = resolve(row["municipality"], index)
        if code is None:
            raise ImportFailure(path, line, f"kommunen {short(row['municipality'])} finns inte (unknown municipality): "
                                            f"skriv den fyrsiffriga kommunkoden eller kommunens namn")
        kind = parse_kind(row["kind"])
        if kind is None:
            raise ImportFailure(path, line, f"verksamhetstypen {short(row['kind'])} är inte en av hemtjänst, särskilt "
                                            f"boende, korttidsboende, dagverksamhet (unknown kind)")
        provider = None
        if row["provider"]:
            provider = parse_provider(row["provider"])
            if provider is None:
                raise ImportFailure(path, line, f"regi {short(row['provider'])} ska vara egen regi eller enskild regi "
                                                f"(unknown provider)")
        valid_from = parse_month(path, line, row["valid_from"], "valid_from") if row["valid_from"] else None
        valid_to = parse_month(path, line, row["valid_to"], "valid_to") if row["valid_to"] else None
        if valid_from and valid_to and valid_to < valid_from:
            raise ImportFailure(path, line, f"valid_to {_month_text(valid_to)} ligger före valid_from "
                                            f"{_month_text(valid_from)} (valid_to before valid_from)")
        out.append({"unit_id": uid, "municipality_code": code, "name": name, "kind": kind,
                    "district": row["district"] or None, "provider": provider,
                    "valid_from": valid_from, "valid_to": valid_to, "line": line})
    if not out:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return out


_UNIT_FIELDS = ("municipality_code", "name", "kind", "district", "provider", "valid_from", "valid_to")


def import_units(con, paths, source: str | None = None, log: bool = True) -> ImportSummary:
    """Import unit registers (one batch, the caller's transaction). Raises ImportFailure."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    ensure_unit_schema(con)
    load_unit_kpis(con)
    summary = ImportSummary(kind="units")
    existing = {r[0]: r[1:] for r in con.execute(
        "SELECT unit_id, is_demo, municipality_code, name, kind, district, provider, valid_from, valid_to "
        "FROM org_unit").fetchall()}
    existing_ci = {k.casefold(): k for k in existing}
    seen: dict[str, tuple[Path, dict]] = {}
    per_file: list[tuple[Path, list[dict]]] = []
    for path in paths:
        rows = read_units(con, path)
        keep = []
        for r in rows:
            key = r["unit_id"].casefold()
            if key in seen:
                first_path, first = seen[key]
                if any(first[f] != r[f] for f in _UNIT_FIELDS) or first["unit_id"] != r["unit_id"]:
                    where = f"rad {first['line']}" + ("" if first_path == path else f" i {first_path.name}")
                    raise ImportFailure(path, r["line"], f"dubblett med annat innehåll (duplicate key with a different "
                                                         f"value): enheten {r['unit_id']} finns redan på {where}")
                continue
            seen[key] = (path, r)
            old_id = existing_ci.get(key)
            if old_id is not None and existing[old_id][0]:
                raise ImportFailure(path, r["line"], f"enhets-id {r['unit_id']} tillhör en demoenhet; välj ett annat id "
                                                     f"(unit id taken by a demo unit)")
            if old_id is not None and old_id != r["unit_id"]:
                raise ImportFailure(path, r["line"], f"enhets-id {r['unit_id']} finns redan som {old_id} (unit ids "
                                                     f"differ only in case); skriv det som {old_id}")
            keep.append(r)
        per_file.append((path, keep))

    _check_validity_covers_values(con, per_file)

    for path, rows in per_file:
        fr = FileResult(str(path), "")
        src = source or f"Egen import (fil: {path.name})"
        for r in rows:
            new = tuple(r[f] for f in _UNIT_FIELDS)
            old = existing.get(r["unit_id"])
            if old is None:
                con.execute("INSERT INTO org_unit (unit_id, municipality_code, name, kind, is_demo, district, provider, "
                            "valid_from, valid_to, source) VALUES (?, ?, ?, ?, false, ?, ?, ?, ?, ?)",
                            [r["unit_id"], r["municipality_code"], r["name"], r["kind"], r["district"], r["provider"],
                             r["valid_from"], r["valid_to"], src])
                fr.inserted += 1
            elif tuple(old[1:]) != new:
                con.execute("UPDATE org_unit SET municipality_code = ?, name = ?, kind = ?, district = ?, provider = ?, "
                            "valid_from = ?, valid_to = ?, source = ? WHERE unit_id = ?",
                            [*new, src, r["unit_id"]])
                fr.updated += 1
            else:
                fr.unchanged += 1
        fr.sha256 = _sha(path)
        _add(summary, fr)
    if log:
        write_import_log(con, summary)
    return summary


def _check_validity_covers_values(con, per_file) -> None:
    """A new validity must not leave stored values of the unit outside it."""
    spans = {u: (lo, hi) for u, lo, hi in con.execute(
        "SELECT unit_id, min(period), max(period) FROM unit_value GROUP BY unit_id").fetchall()}
    for path, rows in per_file:
        for r in rows:
            span = spans.get(r["unit_id"])
            if not span:
                continue
            lo, hi = span
            if r["valid_from"] and lo < r["valid_from"]:
                raise ImportFailure(path, r["line"], f"enheten {r['unit_id']} har redan värden för {_month_text(lo)}, före "
                                                     f"valid_from {_month_text(r['valid_from'])} (values outside validity)")
            if r["valid_to"] and hi > r["valid_to"]:
                raise ImportFailure(path, r["line"], f"enheten {r['unit_id']} har redan värden för {_month_text(hi)}, efter "
                                                     f"valid_to {_month_text(r['valid_to'])} (values outside validity)")


# -- monthly values -------------------------------------------------------------------------------------

def add_unit_kpis(con, meta_path: Path) -> tuple[int, int, list[str]]:
    """--kpis META.csv: describe (or update) KPIs as in `import indicators --kpis` and mark them
    as unit KPIs. Returns (inserted, updated, kpi ids)."""
    from warehouse.importers.indicators import apply_meta, read_meta

    meta = read_meta(meta_path)
    ins, upd = apply_meta(con, meta, f"Egen import (fil: {meta_path.name})", meta_path)
    canonical = {k.casefold(): k for (k,) in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    ids = [canonical[m["kpi_id"].casefold()] for m in meta]
    for kid in ids:
        con.execute("INSERT INTO unit_kpi VALUES (?, NULL, ?) ON CONFLICT (kpi_id) DO NOTHING",
                    [kid, f"Egen import (fil: {meta_path.name})"])
    return ins, upd, ids


def import_unit_values(con, paths, kpis_meta: Path | str | None = None, source: str | None = None,
                       log: bool = True) -> ImportSummary:
    """Import monthly unit values (one batch, the caller's transaction). Raises ImportFailure."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    ensure_unit_schema(con)
    load_unit_kpis(con)
    summary = ImportSummary(kind="unit-values")
    if kpis_meta is not None:
        ins, upd, _ids = add_unit_kpis(con, Path(kpis_meta))
        if ins or upd:
            summary.warnings.append(f"Nyckeltal från {Path(kpis_meta).name}: {ins} nya, {upd} ändrade (KPIs new/updated).")
    units = {u: (demo, lo, hi) for u, demo, lo, hi in con.execute(
        "SELECT unit_id, is_demo, valid_from, valid_to FROM org_unit").fetchall()}
    units_ci = {u.casefold(): u for u in units}
    unit_kpis = {k.casefold(): k for (k,) in con.execute("SELECT kpi_id FROM unit_kpi").fetchall()}
    all_kpis = {k.casefold() for (k,) in con.execute("SELECT kpi_id FROM kpi").fetchall()}

    seen: dict[tuple, tuple[Path, int, float]] = {}
    frames = []
    for path in paths:
        table = read_table(path, VALUE_ROLES, max_rows=UNIT_VALUES_MAX_ROWS)
        fr = FileResult(str(path), table.sha256)
        recs = []
        for row in table.rows:
            line = row.line
            uid = units_ci.get(row["unit_id"].casefold()) if row["unit_id"] else None
            if uid is None:
                raise ImportFailure(path, line, f"okänd enhet (unknown unit) {short(row['unit_id'])}: den finns inte i "
                                                f"enhetsregistret; importera det först med `styrkort import units`")
            demo, lo, hi = units[uid]
            if demo:
                raise ImportFailure(path, line, f"enheten {uid} är en demoenhet; dess värden är genererade och kan inte "
                                                f"ersättas (demo unit)")
            kid = unit_kpis.get(row["kpi_id"].casefold()) if row["kpi_id"] else None
            if kid is None:
                hint = ("det är ett kommunnyckeltal, inget enhetsnyckeltal" if row["kpi_id"].casefold() in all_kpis
                        else "beskriv det med --kpis META.csv")
                raise ImportFailure(path, line, f"okänt enhetsnyckeltal (unknown KPI) {short(row['kpi_id'])}: {hint}")
            period = parse_month(path, line, row["period"])
            if (lo and period < lo) or (hi and period > hi):
                raise ImportFailure(path, line, f"{_month_text(period)} ligger utanför enhetens giltighetstid "
                                                f"{_month_text(lo) or '…'}–{_month_text(hi) or '…'} (period outside "
                                                f"the unit's validity)")
            value = parse_number(path, line, row["value"])
            if value is None:
                summary.skip("tomt värde eller saknas-markering (missing value)", 1)
                fr.skipped += 1
                continue
            key = (uid, kid, period)
            if key in seen:
                first_path, first_line, first_value = seen[key]
                if first_value != value:
                    where = f"rad {first_line}" + ("" if first_path == path else f" i {first_path.name}")
                    raise ImportFailure(path, line, f"dubblett med annat värde (duplicate key with a different value): "
                                                    f"{uid} {kid} {_month_text(period)} finns redan på {where}")
                continue
            seen[key] = (path, line, value)
            recs.append((kid, uid, period, value))
        frames.append((path, fr, recs))

    for path, fr, recs in frames:
        if not recs:
            _add(summary, fr)
            continue
        df = pd.DataFrame(recs, columns=["kpi_id", "unit_id", "period", "value"])
        df["source"] = source or f"Egen import (fil: {path.name})"
        con.register("_staged_unit_values", df)
        try:
            fr.inserted, fr.updated, fr.unchanged = con.execute(
                "SELECT count(*) FILTER (WHERE u.value IS NULL), "
                "       count(*) FILTER (WHERE u.value IS NOT NULL AND u.value <> s.value), "
                "       count(*) FILTER (WHERE u.value = s.value) "
                "FROM _staged_unit_values s LEFT JOIN unit_value u "
                "  ON u.kpi_id = s.kpi_id AND u.unit_id = s.unit_id AND u.period = s.period").fetchone()
            con.execute("INSERT INTO unit_value (kpi_id, unit_id, period, value, source, is_demo) "
                        "SELECT s.kpi_id, s.unit_id, s.period, s.value, s.source, false FROM _staged_unit_values s "
                        "LEFT JOIN unit_value u ON u.kpi_id = s.kpi_id AND u.unit_id = s.unit_id AND u.period = s.period "
                        "WHERE u.value IS NULL OR u.value <> s.value "
                        "ON CONFLICT (kpi_id, unit_id, period) DO UPDATE SET value = excluded.value, "
                        "source = excluded.source, is_demo = false")
        finally:
            con.unregister("_staged_unit_values")
        _add(summary, fr)
    if log:
        write_import_log(con, summary)
    return summary


def _add(summary: ImportSummary, fr: FileResult) -> None:
    summary.files.append(fr)
    summary.inserted += fr.inserted
    summary.updated += fr.updated
    summary.unchanged += fr.unchanged


def _sha(path: Path) -> str:
    from warehouse.importers.common import sha256_file
    return sha256_file(path)


__all__ = ["import_units", "import_unit_values", "parse_month", "KINDS", "PROVIDERS", "fold"]
