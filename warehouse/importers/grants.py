"""Performance grants (prestationsbidrag) for dignity guarantees: `styrkort import grants FILE`
and the grant seeds of the embedded default (`load_grant_seeds`, called by `styrkort build`).

Award tables are shaped like warehouse/sources/grants_2013_by_municipality.csv (Socialstyrelsen
2014, Bilaga 1)::

    municipality_code,municipality_name,name_in_source,year,pot1_granted_sek,pot2_granted_sek,total_granted_sek
    2506,Arjeplog,Arjeplogs kommun,2013,32146,16320,48466
    1440,Ale,Ale kommun,2013,145302,,145302

One row per applicant municipality. An empty pot means the municipality did not apply to that
pot (applied = false); 0 means it applied and got nothing. Pot p of year Y is stored as round
"Y:p" (2013: "2013:1" pot 1, "2013:2" pot 2) or round "Y" where grant_round knows only that.
Rows are kept exactly as printed: where pot 1 + pot 2 differs from the printed total (three
rows of Bilaga 1 differ by 1 kr), the total goes to grant_award_printed_total and the gap is
reported as a warning, never "fixed". Small files: read row by row in Python.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from warehouse.importers.common import (
    ImportFailure, ImportSummary, FileResult, Roles, detect_encoding, missing_columns_failure,
    read_csv_header, read_excel_rows, sha256_file, sniff_kind, write_import_log, _cell_str,
)

SOURCES = Path(__file__).resolve().parent.parent / "sources"
SOURCE_000 = "Socialstyrelsen 2014, lägesrapport prestationsbidrag värdighetsgarantier"

GRANT_ROLES = Roles(
    required={
        "year": ("year", "år", "ar"),
        "pot1": ("pot1 granted sek", "pott 1", "pott1", "pot1"),
        "pot2": ("pot2 granted sek", "pott 2", "pott2", "pot2"),
    },
    optional={
        "code": ("municipality code", "kommunkod", "kod"),
        "name": ("municipality name", "kommun", "name"),
        "name_in_source": ("name in source",),
        "total": ("total granted sek", "totalt", "summa", "total"),
    },
)


def _rows_with_lines(path: Path, roles: Roles):
    """(header, role->index, [(line, [cells])]) for a CSV or Excel file."""
    kind = sniff_kind(path)
    if kind == "csv":
        enc = detect_encoding(path)
        header, delim = read_csv_header(path, enc)
        with open(path, encoding=enc, newline="") as f:
            reader = csv.reader(f, delimiter=delim)
            next(reader, None)
            rows = []
            start = reader.line_num + 1
            for row in reader:
                if row:
                    rows.append((start, row))
                start = reader.line_num + 1
        header_line = 1
    elif kind in ("xlsx", "xls"):
        raw = read_excel_rows(path, kind)
        header_i = next((i for i, r in enumerate(raw) if any(c not in (None, "") for c in r)), None)
        if header_i is None:
            raise ImportFailure(path, None, "arbetsboken är tom (empty file)")
        header = [_cell_str(c) or "" for c in raw[header_i]]
        rows = [(i + 1, [_cell_str(c) or "" for c in r]) for i, r in enumerate(raw) if i > header_i
                and any(c not in (None, "") for c in r)]
        header_line = header_i + 1
    else:
        raise ImportFailure(path, None, "väntade en CSV- eller Excel-tabell (wrong file type)")
    found, missing = roles.match(header)
    if missing:
        raise missing_columns_failure(path, header_line, roles, missing, header)
    if "code" not in found and "name" not in found:
        raise missing_columns_failure(path, header_line, roles, ["code"], header)
    return header, found, rows


def _amount(path, line, col, s: str) -> int | None:
    s = (s or "").strip().replace("\u00a0", "").replace(" ", "")
    if s == "":
        return None
    if not re.fullmatch(r"-?\d+(\.0+)?", s):
        raise ImportFailure(path, line, f"beloppet {s!r} i kolumnen {col} är inte ett heltal i kronor (non-numeric value)")
    v = int(float(s))
    if v < 0:
        raise ImportFailure(path, line, f"negativt belopp {s!r} i kolumnen {col} (negative amount)")
    return v


def _round_for(con, year: int, pot: int) -> str:
    for cand in (f"{year}:{pot}", str(year)):
        if con.execute("SELECT 1 FROM grant_round WHERE round = ? AND pot = ?", [cand, pot]).fetchall():
            return cand
    return f"{year}:{pot}"


def import_grants(con, paths, source: str | None = None, allow_unmapped: bool = False,
                  log: bool = True) -> ImportSummary:
    """Import award tables (one batch, caller's transaction). Raises ImportFailure."""
    from warehouse.names import build_name_index, resolve

    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    summary = ImportSummary(kind="grants")
    index = build_name_index(con)
    known = {c for (c,) in con.execute("SELECT municipality_code FROM municipality").fetchall()}
    seen: dict[tuple, tuple] = {}          # (code, round, pot) -> (granted, file, line)
    seen_total: dict[tuple, tuple] = {}
    awards, totals = [], []
    for path in paths:
        fr = FileResult(file=str(path), sha256="")
        summary.files.append(fr)
        header, found, rows = _rows_with_lines(path, GRANT_ROLES)
        fr.sha256 = sha256_file(path)
        if not rows:
            raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
        src = source or f"Statsbidrag (fil: {path.name})"
        for line, row in rows:
            cell = lambda role: (row[found[role]].strip() if role in found and found[role] < len(row) else "")
            if len(row) != len(header):
                raise ImportFailure(path, line, f"fel antal kolumner (wrong number of columns): {len(row)} i stället för {len(header)}")
            code, name = cell("code"), cell("name") or cell("name_in_source")
            if code:
                code = code.zfill(4) if code.isdigit() else code
                if code not in known:
                    if allow_unmapped:
                        summary.skip("okänd kommunkod (unknown municipality code)", 1)
                        summary.unmapped.append(code)
                        fr.skipped += 1
                        continue
                    raise ImportFailure(path, line, f"okänd kommunkod {code!r} (unknown municipality)")
                if name and resolve(name, index) not in (None, code):
                    raise ImportFailure(path, line, f"kommunkoden {code} och namnet {name!r} pekar på olika kommuner (code and name disagree)")
            else:
                code = resolve(name, index) if name else None
                if code is None:
                    if allow_unmapped:
                        summary.skip("okänd kommun (unknown municipality)", 1)
                        summary.unmapped.append(name)
                        fr.skipped += 1
                        continue
                    raise ImportFailure(path, line, f"okänd kommun {name!r} (unknown municipality)")
            y = cell("year")
            if not re.fullmatch(r"\d{4}", y):
                raise ImportFailure(path, line, f"året {y!r} är inte ett årtal (invalid year)")
            year = int(y)
            pots = {1: _amount(path, line, "pot1", cell("pot1")), 2: _amount(path, line, "pot2", cell("pot2"))}
            total = _amount(path, line, "total", cell("total")) if "total" in found else None
            for pot, granted in pots.items():
                rnd = _round_for(con, year, pot)
                key = (code, rnd, pot)
                if key in seen:
                    if seen[key][0] != granted:
                        raise ImportFailure(path, line, f"dubblett med annat värde (duplicate key with a different value): "
                                                        f"{code} pott {pot} {year} finns redan på {seen[key][1]}, rad {seen[key][2]}")
                    continue
                seen[key] = (granted, path, line)
                awards.append((code, rnd, pot, granted is not None, granted, src, fr))
            if total is not None:
                tkey = (code, year)
                if tkey in seen_total and seen_total[tkey][0] != total:
                    raise ImportFailure(path, line, "dubblett med annat värde (duplicate key with a different value): "
                                                    f"totalen för {code} {year}")
                seen_total[tkey] = (total, path, line)
                totals.append((code, year, total, src))
                pot_sum = (pots[1] or 0) + (pots[2] or 0)
                if pot_sum != total:
                    summary.warnings.append(
                        f"{path}, rad {line}: {code} {name or ''} pott 1 + pott 2 = {pot_sum} kr men totalen är "
                        f"tryckt som {total} kr (skillnad {total - pot_sum:+d} kr; behålls som tryckt / kept as printed)")
    # Write: diff against what is there (re-import of the same file changes nothing).
    for code, rnd, pot, applied, granted, src, fr in awards:
        old = con.execute("SELECT applied, granted_sek FROM grant_award WHERE municipality_code = ? AND round = ? AND pot = ?",
                          [code, rnd, pot]).fetchall()
        old = old[0] if old else None
        if old is None:
            con.execute("INSERT INTO grant_award (municipality_code, round, pot, applied, granted_sek, source) VALUES (?, ?, ?, ?, ?, ?)",
                        [code, rnd, pot, applied, granted, src])
            fr.inserted += 1
        elif tuple(old) != (applied, granted):
            con.execute("UPDATE grant_award SET applied = ?, granted_sek = ?, source = ? WHERE municipality_code = ? AND round = ? AND pot = ?",
                        [applied, granted, src, code, rnd, pot])
            fr.updated += 1
        else:
            fr.unchanged += 1
    for code, year, total, src in totals:
        old = con.execute("SELECT total_granted_sek FROM grant_award_printed_total WHERE municipality_code = ? AND year = ?",
                          [code, year]).fetchall()
        old = old[0] if old else None
        if old is None:
            con.execute("INSERT INTO grant_award_printed_total VALUES (?, ?, ?, ?)", [code, year, total, src])
        elif old[0] != total:
            con.execute("UPDATE grant_award_printed_total SET total_granted_sek = ?, source = ? WHERE municipality_code = ? AND year = ?",
                        [total, src, code, year])
    for fr in summary.files:
        summary.inserted += fr.inserted
        summary.updated += fr.updated
        summary.unchanged += fr.unchanged
    if log:
        write_import_log(con, summary)
    return summary


def load_grant_seeds(con, sources_dir: Path | str | None = None) -> dict[str, int]:
    """The grant material of the embedded default, from warehouse/sources/: rounds (Tabell 2),
    2013 awards (Bilaga 1), Stockholm's returned stimulus grant (seed 001), grant facts.
    Runs in the caller's transaction. Returns row counts written."""
    src = Path(sources_dir) if sources_dir else SOURCES

    def rows(name):
        with open(src / name, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def mnkr(s):
        return None if s in ("", None) else int(round(float(s) * 1_000_000))

    n = {}
    rounds = rows("grant_rounds_2011_2013.csv")
    for r in rounds:
        pot = 2 if r["round"] == "2013:2" else 1
        con.execute(
            "INSERT OR REPLACE INTO grant_round VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [r["round"], pot, r["performance_required"], mnkr(r["announced_mnkr"]), mnkr(r["paid_mnkr"]),
             float(r["paid_share_pct"]), int(r["municipalities_granted"]), r["allocation_basis"],
             f"{SOURCE_000}, Tabell 2"])
    n["grant_round"] = len(rounds)
    s = import_grants(con, [src / "grants_2013_by_municipality.csv"], source=f"{SOURCE_000}, Bilaga 1", log=False)
    n["grant_award"] = s.inserted + s.updated + s.unchanged
    ret = rows("stimulus_grant_return_stockholm.csv")
    for r in ret:
        con.execute(
            "INSERT OR REPLACE INTO stimulus_grant_return VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [r["municipality_code"], r["grant_type"], r["grant_years"], int(r["received_total_sek"]),
             int(r["spent_sek"]), int(r["returned_sek"]), r["returned_date"] or None,
             f"Stockholms stad, äldreförvaltningen: återbetalning av stimulansbidrag (seed {r['source']})"])
    n["stimulus_grant_return"] = len(ret)
    facts = rows("grant_facts.csv")
    for r in facts:
        con.execute("INSERT OR REPLACE INTO grant_fact VALUES (?, ?, ?)",
                    [r["fact"], float(r["value"]), f"Socialstyrelsen 2014 (seed {r['source']})"])
    n["grant_fact"] = len(facts)
    return n
