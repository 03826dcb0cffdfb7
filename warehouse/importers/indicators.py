"""`styrkort import indicators FILE... [--kpis META.csv]`: users' own indicators (e.g. real
Öppna jämförelser results) as a long CSV, through the same bulk path as Kolada files.

FILE (CSV, also .xlsx/.xls)::

    municipality_code,kpi_id,year,value[,gender]
    0180,OJ_HT_HELHET,2012,88.5
    1480,OJ_HT_HELHET,2012,"91,2"

META (optional; describes KPIs the warehouse does not know, or updates ones it does)::

    kpi_id,title,higher_is_better,area[,perspective,unit]
    OJ_HT_HELHET,"Brukarbedömning hemtjänst – helhetssyn, andel (%)",true,Brukarbedömning,omsorgstagare,%

higher_is_better: true/false (also ja/nej, 1/0); empty = no direction. perspective: one of
Balansen's four (omsorgstagare, ekonomi, medarbetare, verksamhet) or empty. A kpi_id in FILE
must be in the warehouse (`kpis`), Kolada's catalogue, or META; otherwise the import stops
(or, with --allow-unmapped, skips those rows and lists them).
"""
from __future__ import annotations

import csv
from pathlib import Path

from warehouse.importers.common import (
    ImportFailure, ImportSummary, Roles, detect_encoding, missing_columns_failure,
    read_csv_header, sniff_kind, write_import_log,
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
    optional={"gender_raw": ("gender", "kön", "kon")},
)
META_ROLES = Roles(
    required={"kpi_id": ("kpi id",), "title": ("title", "titel"),
              "higher_is_better": ("higher is better",), "area": ("area", "område")},
    optional={"perspective": ("perspective", "perspektiv"), "unit": ("unit", "enhet"),
              "description": ("description", "beskrivning")},
)
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
_TRUE = {"true", "ja", "yes", "1", "sant", "t"}
_FALSE = {"false", "nej", "no", "0", "falskt", "f"}


def read_meta(path: Path) -> list[dict]:
    """META rows, validated (file/line in every error)."""
    path = Path(path)
    if sniff_kind(path) != "csv":
        raise ImportFailure(path, None, "META ska vara en CSV-fil (wrong file type)")
    enc = detect_encoding(path)
    header, delim = read_csv_header(path, enc)
    found, missing = META_ROLES.match(header)
    if missing:
        raise missing_columns_failure(path, 1, META_ROLES, missing, header)
    out, seen = [], {}
    with open(path, encoding=enc, newline="") as f:
        reader = csv.reader(f, delimiter=delim)
        next(reader, None)
        start = reader.line_num + 1
        for row in reader:
            line, start = start, None
            start = reader.line_num + 1
            if not row:
                continue
            if len(row) != len(header):
                raise ImportFailure(path, line, f"fel antal kolumner (wrong number of columns): {len(row)} i stället för {len(header)}")
            get = lambda role: row[found[role]].strip() if role in found else ""
            kid, title = get("kpi_id"), get("title")
            if not kid:
                raise ImportFailure(path, line, "kpi_id saknas (missing KPI id)")
            if not title:
                raise ImportFailure(path, line, f"titel saknas för {kid} (missing title)")
            hib = get("higher_is_better").casefold()
            if hib in _TRUE:
                hib_v = True
            elif hib in _FALSE:
                hib_v = False
            elif hib == "":
                hib_v = None
            else:
                raise ImportFailure(path, line, f"higher_is_better {hib!r} ska vara true/false eller tomt (invalid boolean)")
            persp = get("perspective").casefold() or None
            if persp is not None and persp not in PERSPECTIVES:
                raise ImportFailure(path, line, f"perspektivet {persp!r} är inte ett av {', '.join(PERSPECTIVES)} (invalid perspective)")
            rec = {"kpi_id": kid, "title": title, "higher_is_better": hib_v, "area": get("area") or None,
                   "perspective": persp, "unit": get("unit") or None, "description": get("description") or None}
            if kid in seen:
                if seen[kid][0] != rec:
                    raise ImportFailure(path, line, f"dubblett med annat värde (duplicate key with a different value): {kid} finns redan på rad {seen[kid][1]}")
                continue
            seen[kid] = (rec, line)
            out.append(rec)
    if not out:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return out


def apply_meta(con, meta: list[dict], source: str) -> tuple[int, int]:
    """Insert new KPIs, update changed ones. Returns (inserted, updated)."""
    ins = upd = 0
    cols = ("title", "higher_is_better", "area", "perspective", "unit", "description")
    for m in meta:
        old = con.execute(f"SELECT {', '.join(cols)} FROM kpi WHERE kpi_id = ?", [m["kpi_id"]]).fetchall()
        old = old[0] if old else None
        if old is None:
            con.execute("INSERT INTO kpi (kpi_id, title, description, unit, higher_is_better, perspective, area, source, is_demo) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)",
                        [m["kpi_id"], m["title"], m["description"], m["unit"], m["higher_is_better"],
                         m["perspective"], m["area"], source])
            ins += 1
        else:
            new = tuple(m[c] if (m[c] is not None or c in ("higher_is_better", "perspective")) else old[i]
                        for i, c in enumerate(cols))
            if new != tuple(old):
                con.execute(f"UPDATE kpi SET {', '.join(c + ' = ?' for c in cols)}, source = ? WHERE kpi_id = ?",
                            [*new, source, m["kpi_id"]])
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
        ins, upd = apply_meta(con, meta, source or f"Egen import (fil: {Path(kpis_meta).name})")
        if ins or upd:
            summary.warnings.append(f"Nyckeltal från {Path(kpis_meta).name}: {ins} nya, {upd} ändrade (KPIs new/updated).")
    staged = []
    try:
        for p in paths:
            staged.append(stage_kolada_file(con, p, roles=INDICATOR_ROLES, prefix="ind"))
        import_values(
            con, staged, summary,
            resolve_areas=AreaResolver(con),
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
