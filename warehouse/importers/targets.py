"""`styrkort import targets FILE...`: the targets a committee decided for its KPIs (a balanced
scorecard is objectives → measures → targets; Stratsys and Hypergene show each measure against
the target the committee decided).

CSV or Excel (first sheet), header names in English or Swedish, any order::

    municipality_code,kpi_id,year,target,unit_id,tolerance,decided_by,comment
    1480,N00092,2011,4.5,,0.5,Äldrenämnden 2011-02-15 §12,Sjukfrånvaro unga
    Göteborg,DEMO_HT_BEMOT,2013,"92,0",,,Äldrenämnden 2013-02-12 §14,

- municipality_code: the four-digit code or the municipality's name; kpi_id: a KPI in the
  warehouse (case does not matter); year: the year the target is for.
- target: a number in the KPI's unit (decimal comma or point). A row whose target is empty (or
  one of Kolada's markers "..", "-", ...) is skipped and counted: the downloadable template lists
  every KPI of the scorecard and you fill in only those you have targets for.
- unit_id (optional): a unit of the municipality (org_units); empty = the whole municipality. A
  unit's target is for a KPI of the unit KPI catalogue (unit_kpis: Balansen's key figures and
  those imported with `styrkort import unit-values --kpis`), the figures units report; any other
  KPI is refused on a unit row (a unit never has a value for it).
- tolerance (optional): how far from the target still counts as "nära" (near), in the KPI's
  unit, never negative; empty = the default, 5 % of the target (pipelines/targets.py).
- decided_by, comment (optional): text, e.g. "Äldrenämnden 2013-02-12 §14".
- The template's own information columns (kpi_title, unit, latest_year, latest_value) and any
  other column are ignored.

The importers' shared rules (warehouse/importers/common.py): every problem is
`FILE, rad (line) N: problem`, nothing is written unless every row of every file is good, a key
(municipality, KPI, year, unit) twice with different contents is refused naming both lines,
and importing the same file again changes nothing. A new target for an existing key replaces
it (counted as updated; a demo target replaced by a user's is no longer demo).
"""
from __future__ import annotations

from pathlib import Path

from warehouse.importers.common import (
    FileResult, ImportFailure, ImportSummary, Roles, parse_number, parse_year, read_table, sha256_file, short,
    write_import_log, year_max,
)

TARGET_YEARS_AHEAD = 10     # targets may be set up to ten years beyond the import-year range
TARGET_FIELDS = ("target", "tolerance", "decided_by", "comment")

TARGET_ROLES = Roles(
    required={
        "municipality": ("municipality code", "kommunkod", "kommun", "municipality"),
        "kpi_id": ("kpi id", "nyckeltal id", "kpi", "nyckeltal"),
        "year": ("year", "år", "ar"),
        "target": ("target", "mål", "mal", "målvärde", "malvarde"),
    },
    optional={
        "unit_id": ("unit id", "enhets-id", "enhetsid", "enhet id", "enhet"),
        "tolerance": ("tolerance", "tolerans"),
        "decided_by": ("decided by", "beslutat av", "beslut", "beslutad av"),
        "comment": ("comment", "kommentar"),
    },
    kinds={"municipality": "code", "year": "year", "target": "number", "tolerance": "number"},
)


def read_targets(con, path: Path, summary: ImportSummary) -> list[dict]:
    """The target rows of one file, validated and mapped; rows with an empty target are skipped
    (counted in `summary`). Each dict has the columns of `target` and `line`."""
    from warehouse.names import build_name_index, resolve

    table = read_table(path, TARGET_ROLES)
    index = build_name_index(con)
    kpis = {k.casefold(): k for (k,) in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    units = {u.casefold(): (u, m) for u, m in con.execute(
        "SELECT unit_id, municipality_code FROM org_unit").fetchall()}
    unit_kpis = {k for (k,) in con.execute("SELECT kpi_id FROM unit_kpi").fetchall()}
    out, empty = [], 0
    for row in table.rows:
        line = row.line
        if not any(row.cells.values()):
            continue
        target = parse_number(path, line, row["target"], "målet (target)")
        if target is None:
            empty += 1
            continue
        if not row["municipality"]:
            raise ImportFailure(path, line, "kommun saknas (missing municipality_code)")
        code = resolve(row["municipality"], index)
        if code is None:
            raise ImportFailure(path, line, f"kommunen {short(row['municipality'])} finns inte (unknown municipality): "
                                            f"skriv den fyrsiffriga kommunkoden eller kommunens namn")
        if not row["kpi_id"]:
            raise ImportFailure(path, line, "kpi_id saknas (missing kpi_id)")
        kpi_id = kpis.get(row["kpi_id"].casefold())
        if kpi_id is None:
            raise ImportFailure(path, line, f"nyckeltalet {short(row['kpi_id'])} finns inte i lagret (unknown KPI); "
                                            f"importera det först eller rätta id:t")
        year = parse_year(path, line, row["year"], hi=year_max() + TARGET_YEARS_AHEAD)
        tolerance = parse_number(path, line, row["tolerance"], "toleransen (tolerance)") if row["tolerance"] else None
        if tolerance is not None and tolerance < 0:
            raise ImportFailure(path, line, f"toleransen {short(row['tolerance'])} är negativ (negative tolerance)")
        unit_id = None
        if row["unit_id"]:
            unit = units.get(row["unit_id"].casefold())
            if unit is None:
                raise ImportFailure(path, line, f"enheten {short(row['unit_id'])} finns inte (unknown unit): "
                                                f"importera enhetsregistret först (styrkort import units)")
            if unit[1] != code:
                raise ImportFailure(path, line, f"enheten {unit[0]} hör till kommun {unit[1]}, inte {code} "
                                                f"(unit of another municipality)")
            if kpi_id not in unit_kpis:
                raise ImportFailure(path, line, f"nyckeltalet {kpi_id} mäts inte per enhet (not a unit KPI): "
                                                f"en enhets mål gäller ett enhetsnyckeltal (unit_kpis); lämna "
                                                f"unit_id tomt för ett mål för hela kommunen")
            unit_id = unit[0]
        out.append({"municipality_code": code, "kpi_id": kpi_id, "year": year, "unit_id": unit_id,
                    "target": target, "tolerance": tolerance, "decided_by": row["decided_by"] or None,
                    "comment": row["comment"] or None, "line": line})
    summary.skip("tomt mål (empty target, e.g. a template row left blank)", empty)
    if not out and not empty:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return out


def _key(r: dict) -> tuple:
    return (r["municipality_code"], r["kpi_id"], r["year"], r["unit_id"] or "")


def import_targets(con, paths, log: bool = True) -> ImportSummary:
    """Import target files (one batch, the caller's transaction). Raises ImportFailure."""
    from warehouse.db import apply_schema

    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    apply_schema(con)    # an older warehouse gets the target table and the targets view
    summary = ImportSummary(kind="targets")
    seen: dict[tuple, tuple[Path, dict]] = {}
    per_file: list[tuple[Path, list[dict]]] = []
    for path in paths:
        rows = read_targets(con, path, summary)
        keep = []
        for r in rows:
            k = _key(r)
            if k in seen:
                first_path, first = seen[k]
                if any(first[f] != r[f] for f in TARGET_FIELDS):
                    where = f"rad {first['line']}" + ("" if first_path == path else f" i {first_path.name}")
                    raise ImportFailure(path, r["line"], f"dubblett med annat innehåll (duplicate key with a different "
                                                         f"value): målet för {r['kpi_id']} {r['year']} finns redan på {where}")
                continue
            seen[k] = (path, r)
            keep.append(r)
        per_file.append((path, keep))

    existing = {(m, k, y, u or ""): (t, tol, d, c, demo) for m, k, y, u, t, tol, d, c, demo in con.execute(
        "SELECT municipality_code, kpi_id, year, unit_id, target, tolerance, decided_by, comment, is_demo "
        "FROM target").fetchall()}
    for path, rows in per_file:
        fr = FileResult(str(path), "")
        src = f"Egen import (fil: {path.name})"
        for r in rows:
            new = tuple(r[f] for f in TARGET_FIELDS)
            old = existing.get(_key(r))
            if old is None:
                con.execute("INSERT INTO target (municipality_code, kpi_id, year, unit_id, target, tolerance, "
                            "decided_by, comment, source, is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
                            [r["municipality_code"], r["kpi_id"], r["year"], r["unit_id"], *new, src])
                fr.inserted += 1
            elif tuple(old[:4]) != new or old[4]:
                con.execute("UPDATE target SET target = ?, tolerance = ?, decided_by = ?, comment = ?, source = ?, "
                            "is_demo = false WHERE municipality_code = ? AND kpi_id = ? AND year = ? "
                            "AND coalesce(unit_id, '') = ?", [*new, src, *_key(r)])
                fr.updated += 1
            else:
                fr.unchanged += 1
            existing[_key(r)] = (*new, False)
        fr.sha256 = sha256_file(path)
        summary.files.append(fr)
        summary.inserted += fr.inserted
        summary.updated += fr.updated
        summary.unchanged += fr.unchanged
    if log:
        write_import_log(con, summary)
    return summary
