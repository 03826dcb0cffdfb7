"""`styrkort import indicators FILE... [--kpis META.csv]`: users' own indicators (e.g. real
Öppna jämförelser results) as a long CSV, through the same bulk path as Kolada files.

FILE (CSV, also .xlsx/.xls)::

    municipality_code,kpi_id,year,value[,gender]
    0180,OJ_HT_HELHET,2012,88.5
    1480,OJ_HT_HELHET,2012,"91,2"

META (optional, CSV or Excel; describes KPIs the warehouse does not know, or updates ones it does)::

    kpi_id,title,higher_is_better,area[,perspective,unit,description]
    OJ_HT_HELHET,"Brukarbedömning hemtjänst – helhetssyn, andel (%)",true,Brukarbedömning,omsorgstagare,%

Only kpi_id is required; a META row sets only the fields it has: a column the file lacks, or an
empty cell, leaves a known KPI's field as it is (a new KPI needs a title; its other fields
start empty). higher_is_better: true/false (also ja/nej, 1/0). perspective: one of Balansen's
four (omsorgstagare, ekonomi, medarbetare, verksamhet). KPI ids match whatever their case
("oj_ht_helhet" is OJ_HT_HELHET, spelled as the warehouse has it). A kpi_id in FILE must be in
the warehouse (`kpis`), Kolada's catalogue, or META; otherwise the import stops (or, with
--allow-unmapped, skips those rows and lists them).
"""
from __future__ import annotations

import re
from pathlib import Path

from warehouse.importers.common import (
    ImportFailure, ImportSummary, Roles, parse_bool, read_table, short, write_import_log,
)
from warehouse.importers.kolada import AreaResolver, KpiResolver, stage_kolada_file
from warehouse.importers.values import close_staged, import_values

INDICATOR_ROLES = Roles(
    required={
        "area_raw": ("municipality code", "kommunkod", "municipality"),
        "kpi_raw": ("kpi id", "kpi", "nyckeltal id"),
        "year_raw": ("year", "år", "ar"),
        "value_raw": ("value", "värde", "varde"),
    },
    optional={"gender_raw": ("gender", "kön", "kon"),
              "area_name_raw": ("municipality name", "kommunnamn", "kommun", "municipality")},
    kinds={"area_raw": "code", "year_raw": "year", "value_raw": "number"},
)
META_ROLES = Roles(
    required={"kpi_id": ("kpi id", "kpi", "nyckeltal id")},
    optional={"title": ("title", "titel"), "higher_is_better": ("higher is better", "högre är bättre"),
              "area": ("area", "område"), "perspective": ("perspective", "perspektiv"),
              "unit": ("unit", "enhet"), "description": ("description", "beskrivning")},
    kinds={"higher_is_better": "bool"},
)
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
META_FIELDS = ("title", "higher_is_better", "area", "perspective", "unit", "description")


def read_meta(path: Path) -> list[dict]:
    """META rows, validated (file/line in every error). Each row holds kpi_id, line, and only
    the fields the row gives (a column the file has, a non-empty cell)."""
    path = Path(path)
    table = read_table(path, META_ROLES)
    out, seen = [], {}
    for row in table.rows:
        kid = row["kpi_id"]
        if not kid:
            raise ImportFailure(path, row.line, "kpi_id saknas (missing KPI id)")
        if len(kid) > 64 or not re.fullmatch(r"[A-Za-z0-9_:.\-]+", kid):
            raise ImportFailure(path, row.line, f"kpi_id {short(kid)} får bara ha bokstäver A–Z, siffror och _ : . - "
                                                f"(invalid KPI id)")
        rec = {"kpi_id": kid, "line": row.line}
        for f in META_FIELDS:
            if f in table.columns and row[f] != "":
                rec[f] = row[f]
        if "higher_is_better" in rec:
            rec["higher_is_better"] = parse_bool(path, row.line, rec["higher_is_better"], "higher_is_better")
        if "perspective" in rec:
            rec["perspective"] = rec["perspective"].casefold()
            if rec["perspective"] not in PERSPECTIVES:
                raise ImportFailure(path, row.line, f"perspektivet {short(row['perspective'])} är inte ett av "
                                                    f"{', '.join(PERSPECTIVES)} (invalid perspective)")
        key = kid.casefold()
        if key in seen:
            first = seen[key]
            if {k: v for k, v in first.items() if k != "line"} != {k: v for k, v in rec.items() if k != "line"}:
                raise ImportFailure(path, row.line, f"dubblett med annat värde (duplicate key with a different value): "
                                                    f"{kid} finns redan på rad {first['line']}")
            continue
        seen[key] = rec
        out.append(rec)
    if not out:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return out


def apply_meta(con, meta: list[dict], source: str, path: Path | str = "META") -> tuple[int, int]:
    """Insert new KPIs, update the given fields of known ones. Returns (inserted, updated)."""
    ins = upd = 0
    known = {k.casefold(): k for (k,) in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    for m in meta:
        kpi_id = known.get(m["kpi_id"].casefold())
        given = [f for f in META_FIELDS if f in m]
        if kpi_id is None:
            if "title" not in m:
                raise ImportFailure(path, m["line"], f"titel saknas för det nya nyckeltalet {m['kpi_id']} "
                                                     f"(missing title for a new KPI)")
            con.execute("INSERT INTO kpi (kpi_id, title, description, unit, higher_is_better, perspective, area, source, is_demo) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)",
                        [m["kpi_id"], m["title"], m.get("description"), m.get("unit"), m.get("higher_is_better"),
                         m.get("perspective"), m.get("area"), source])
            known[m["kpi_id"].casefold()] = m["kpi_id"]
            ins += 1
            continue
        if not given:
            continue
        old = con.execute(f"SELECT {', '.join(given)} FROM kpi WHERE kpi_id = ?", [kpi_id]).fetchall()[0]
        if tuple(m[f] for f in given) != tuple(old):
            con.execute(f"UPDATE kpi SET {', '.join(f + ' = ?' for f in given)}, source = ? WHERE kpi_id = ?",
                        [*(m[f] for f in given), source, kpi_id])
            upd += 1
    return ins, upd


def import_indicators(con, paths, kpis_meta: Path | str | None = None, allow_unmapped: bool = False,
                      source: str | None = None, log: bool = True) -> ImportSummary:
    """Import long indicator files (one batch, caller's transaction). Raises ImportFailure."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    summary = ImportSummary(kind="indicators")
    if kpis_meta is not None:
        meta = read_meta(Path(kpis_meta))
        ins, upd = apply_meta(con, meta, source or f"Egen import (fil: {Path(kpis_meta).name})", kpis_meta)
        if ins or upd:
            summary.warnings.append(f"Nyckeltal från {Path(kpis_meta).name}: {ins} nya, {upd} ändrade (KPIs new/updated).")
    staged = []
    try:
        for p in paths:
            staged.append(stage_kolada_file(con, p, roles=INDICATOR_ROLES, prefix="ind"))
        areas = AreaResolver(con)
        import_values(
            con, staged, summary,
            resolve_areas=areas,
            check_area_pair=areas.same,
            resolve_kpis=KpiResolver(con, summary, create_unknown=False),
            allow_unmapped=allow_unmapped,
            sources=[source or f"Egen import (fil: {p.name})" for p in paths],
            kpi_source=source or "Egen import",
            allow_benchmarks=False,
        )
        if log:
            write_import_log(con, summary)
        return summary
    finally:
        close_staged(con, staged)
