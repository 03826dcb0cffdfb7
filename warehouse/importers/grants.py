"""Performance grants (prestationsbidrag) for dignity guarantees: `styrkort import grants FILE
[--rounds ROUNDS.csv]` and the grant seeds of the embedded default (`load_grant_seeds`, called by
`styrkort build`).

Award tables (CSV or Excel) are shaped like warehouse/sources/grants_2013_by_municipality.csv
(Socialstyrelsen 2014, Bilaga 1)::

    municipality_code,municipality_name,name_in_source,year,pot1_granted_sek,pot2_granted_sek,total_granted_sek
    2506,Arjeplog,Arjeplogs kommun,2013,32146,16320,48466
    1440,Ale,Ale kommun,2013,145302,,145302

One row per applicant municipality, named by code, name or both (they must agree). An empty pot
means the municipality did not apply to that pot (applied = false); 0 means it applied and got
nothing. Amounts are whole kronor within the BIGINT column. Pot p of year Y is stored as round
"Y:p" (2013: "2013:1" pot 1, "2013:2" pot 2) or round "Y" where `grant_round` knows only that;
a year/pot with an amount but no round in `grant_round` is refused — a new round is added by
the same command with ``--rounds ROUNDS.csv``::

    round,pot,performance_required,allocation_basis,announced_mnkr,paid_mnkr,paid_share_pct,municipalities_granted
    2014:1,1,Pott 1: ...,fördelningsram (invånare 75+),70,,,

(round ``YYYY`` or ``YYYY:N``; pot 1 or 2; the rest optional). Rows are kept exactly as
printed: where pot 1 + pot 2 differs from the printed total (three rows of Bilaga 1 differ by
1 kr), the total goes to grant_award_printed_total and the gap is reported as a warning, never
"fixed". Small files: read through `read_table` (warehouse/importers/common.py), row by row.

Steps (`import_grants`): read rounds → read each table → validate and map each row → check
duplicates → upsert awards and printed totals → summary.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from warehouse.importers.common import (
    FileResult, ImportFailure, ImportSummary, Roles, Table, parse_amount, parse_number, parse_year,
    read_table, short, write_import_log,
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
    kinds={"year": "year", "pot1": "amount", "pot2": "amount", "total": "amount", "code": "code"},
)
ROUND_ROLES = Roles(
    required={"round": ("round", "omgång"), "pot": ("pot", "pott")},
    optional={"performance_required": ("performance required", "prestation"),
              "allocation_basis": ("allocation basis", "fördelning"),
              "announced_mnkr": ("announced mnkr", "utlyst mnkr"), "paid_mnkr": ("paid mnkr", "utbetalt mnkr"),
              "paid_share_pct": ("paid share pct", "andel utbetald"),
              "municipalities_granted": ("municipalities granted", "kommuner beviljade"),
              "source": ("source", "källa")},
    kinds={"pot": "amount", "announced_mnkr": "number", "paid_mnkr": "number", "paid_share_pct": "number",
           "municipalities_granted": "amount"},
)


@dataclass
class GrantRow:
    """One validated award-table row, mapped to a municipality code."""
    path: Path
    line: int
    code: str
    name: str
    year: int
    pots: dict[int, int | None]        # pot -> granted kronor (None = did not apply)
    total: int | None


@dataclass
class Award:
    code: str
    round: str
    pot: int
    granted: int | None
    source: str
    result: FileResult
    where: tuple[Path, int]

    @property
    def applied(self) -> bool:
        return self.granted is not None


class GrantContext:
    """What the validation looks things up in: municipalities, names, grant rounds."""

    def __init__(self, con):
        from warehouse.names import build_name_index

        self.index = build_name_index(con)
        self.known = {c for (c,) in con.execute("SELECT municipality_code FROM municipality").fetchall()}
        self.rounds = {(r, p) for r, p in con.execute("SELECT round, pot FROM grant_round").fetchall()}

    def round_for(self, year: int, pot: int) -> str | None:
        for cand in (f"{year}:{pot}", str(year)):
            if (cand, pot) in self.rounds:
                return cand
        return None

    def describe_rounds(self) -> str:
        return ", ".join(sorted({r for r, _ in self.rounds})) or "inga (none)"


def import_grants(con, paths, source: str | None = None, allow_unmapped: bool = False,
                  log: bool = True, rounds: Path | str | None = None) -> ImportSummary:
    """Import award tables (one batch, caller's transaction). Raises ImportFailure."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ImportFailure("(inga filer)", None, "ingen fil angiven (no file given)")
    summary = ImportSummary(kind="grants")
    if rounds is not None:
        added = add_rounds(con, read_rounds(Path(rounds)))
        if added:
            summary.warnings.append(f"Bidragsomgångar från {Path(rounds).name}: {added} nya eller ändrade "
                                    f"(grant rounds added or changed).")
    ctx = GrantContext(con)
    awards: list[Award] = []
    totals: list[tuple] = []
    for path in paths:
        table = read_grant_table(path)
        fr = FileResult(file=str(path), sha256=table.sha256)
        summary.files.append(fr)
        src = source or f"Statsbidrag (fil: {path.name})"
        for row in table.rows:
            g = validate_grant_row(ctx, table, row, summary, fr, allow_unmapped)
            if g is None:
                continue
            awards.extend(awards_of(ctx, g, src, fr))
            if g.total is not None:
                totals.append((g, src))
                warn_if_total_differs(g, summary)
    awards = drop_duplicate_awards(awards)
    totals = drop_duplicate_totals(totals)
    upsert_awards(con, awards)
    upsert_totals(con, totals)
    for fr in summary.files:
        summary.inserted += fr.inserted
        summary.updated += fr.updated
        summary.unchanged += fr.unchanged
    if log:
        write_import_log(con, summary)
    return summary


# -- read ------------------------------------------------------------------------------------------

def read_grant_table(path: Path) -> Table:
    table = read_table(path, GRANT_ROLES)
    if "code" not in table.columns and "name" not in table.columns:
        raise ImportFailure(path, table.header_line, "kolumn saknas (missing column): code (municipality_code / "
                                                     "kommunkod) eller name (municipality_name / kommun)")
    if not table.rows:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return table


def read_rounds(path: Path) -> list[dict]:
    """A --rounds file: new grant rounds, validated (file and line in every error)."""
    table = read_table(path, ROUND_ROLES)
    out, seen = [], {}
    for row in table.rows:
        rnd = row["round"]
        m = re.fullmatch(r"([0-9]{4})(?::([0-9]))?", rnd)
        if not m:
            raise ImportFailure(path, row.line, f"omgången {short(rnd)} ska skrivas ÅÅÅÅ eller ÅÅÅÅ:N (invalid round)")
        parse_year(path, row.line, m.group(1))
        pot = parse_amount(path, row.line, row["pot"], "pot", lo=1, hi=2)
        if pot is None:
            raise ImportFailure(path, row.line, "pott saknas (missing pot: 1 or 2)")
        mnkr = {k: parse_number(path, row.line, row[k], k) for k in ("announced_mnkr", "paid_mnkr")}
        for k, v in mnkr.items():
            if v is not None and not 0 <= v <= 1e6:
                raise ImportFailure(path, row.line, f"{k} {v} ligger utanför 0–1 000 000 mnkr (amount out of range)")
        share = parse_number(path, row.line, row["paid_share_pct"], "paid_share_pct")
        if share is not None and not 0 <= share <= 100:
            raise ImportFailure(path, row.line, f"paid_share_pct {share} ligger utanför 0–100 (out of range)")
        n_muni = parse_amount(path, row.line, row["municipalities_granted"], "municipalities_granted", hi=290)
        rec = {"round": rnd, "pot": pot,
               "performance_required": row["performance_required"] or None,
               "allocation_basis": row["allocation_basis"] or None,
               "announced_sek": None if mnkr["announced_mnkr"] is None else int(round(mnkr["announced_mnkr"] * 1_000_000)),
               "paid_sek": None if mnkr["paid_mnkr"] is None else int(round(mnkr["paid_mnkr"] * 1_000_000)),
               "paid_share_pct": share, "municipalities_granted": n_muni,
               "source": row["source"] or f"Egen import (fil: {path.name})"}
        key = (rnd, pot)
        if key in seen:
            raise ImportFailure(path, row.line, f"omgången {rnd} pott {pot} finns redan på rad {seen[key]} "
                                                f"(duplicate key)")
        seen[key] = row.line
        out.append(rec)
    if not out:
        raise ImportFailure(path, None, "filen har inga datarader (empty file: no data rows)")
    return out


def add_rounds(con, rounds: list[dict]) -> int:
    cols = ("round", "pot", "performance_required", "announced_sek", "paid_sek", "paid_share_pct",
            "municipalities_granted", "allocation_basis", "source")
    changed = 0
    for r in rounds:
        old = con.execute(f"SELECT {', '.join(cols)} FROM grant_round WHERE round = ? AND pot = ?",
                          [r["round"], r["pot"]]).fetchall()
        new = tuple(r[c] for c in cols)
        if not old or tuple(old[0]) != new:
            con.execute(f"INSERT OR REPLACE INTO grant_round ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        list(new))
            changed += 1
    return changed


# -- validate and map -------------------------------------------------------------------------------

def validate_grant_row(ctx: GrantContext, table: Table, row, summary: ImportSummary, fr: FileResult,
                       allow_unmapped: bool) -> GrantRow | None:
    """One row -> GrantRow (None if skipped with --allow-unmapped). Refuses an unknown or
    disagreeing municipality, a year outside 1990–next year, amounts that are not whole kronor
    within the column, a year/pot with an amount but no grant round."""
    from warehouse.names import resolve

    path, line = table.path, row.line
    code = row["code"]
    name = row["name"] or row["name_in_source"]
    if code:
        code = code.zfill(4) if code.isdigit() else code
        if code not in ctx.known:
            if allow_unmapped:
                _skip_unmapped(summary, fr, "okänd kommunkod (unknown municipality code)", code)
                return None
            raise ImportFailure(path, line, f"okänd kommunkod {short(code)} (unknown municipality)")
        if name and resolve(name, ctx.index) != code:
            raise ImportFailure(path, line, f"kommunkoden {code} och namnet {short(name)} pekar på olika kommuner "
                                            f"(code and name disagree)")
    else:
        code = resolve(name, ctx.index) if name else None
        if code is None:
            if allow_unmapped and name:
                _skip_unmapped(summary, fr, "okänd kommun (unknown municipality)", name)
                return None
            raise ImportFailure(path, line, f"okänd kommun {short(name)} (unknown municipality)")
    year = parse_year(path, line, row["year"])
    pots = {1: parse_amount(path, line, row["pot1"], "pot1"), 2: parse_amount(path, line, row["pot2"], "pot2")}
    total = parse_amount(path, line, row["total"], "total") if "total" in table.columns else None
    for pot, granted in pots.items():
        if granted is not None and ctx.round_for(year, pot) is None:
            raise ImportFailure(path, line, f"ingen bidragsomgång {year} pott {pot} i lagret (unknown grant round); "
                                            f"kända omgångar: {ctx.describe_rounds()}; en ny omgång läggs till med "
                                            f"--rounds ROUNDS.csv")
    return GrantRow(path, line, code, name, year, pots, total)


def _skip_unmapped(summary: ImportSummary, fr: FileResult, reason: str, what: str) -> None:
    summary.skip(reason, 1)
    summary.unmapped.append(what)
    fr.skipped += 1


def awards_of(ctx: GrantContext, g: GrantRow, source: str, fr: FileResult) -> list[Award]:
    """The row's award per pot that has a round (an empty pot without a round is no award)."""
    out = []
    for pot, granted in g.pots.items():
        rnd = ctx.round_for(g.year, pot)
        if rnd is not None:
            out.append(Award(g.code, rnd, pot, granted, source, fr, (g.path, g.line)))
    return out


def warn_if_total_differs(g: GrantRow, summary: ImportSummary) -> None:
    pot_sum = (g.pots[1] or 0) + (g.pots[2] or 0)
    if pot_sum != g.total:
        summary.warnings.append(
            f"{g.path}, rad {g.line}: {g.code} {g.name or ''} pott 1 + pott 2 = {pot_sum} kr men totalen är "
            f"tryckt som {g.total} kr (skillnad {g.total - pot_sum:+d} kr; behålls som tryckt / kept as printed)")


def drop_duplicate_awards(awards: list[Award]) -> list[Award]:
    """The same (municipality, round, pot) twice: an identical copy is dropped, a different
    amount stops the import at the second row."""
    seen: dict[tuple, Award] = {}
    out = []
    for a in awards:
        key = (a.code, a.round, a.pot)
        first = seen.get(key)
        if first is None:
            seen[key] = a
            out.append(a)
        elif first.granted != a.granted:
            raise ImportFailure(a.where[0], a.where[1],
                                f"dubblett med annat värde (duplicate key with a different value): {a.code} pott "
                                f"{a.pot} omgång {a.round} finns redan på {first.where[0]}, rad {first.where[1]}")
    return out


def drop_duplicate_totals(totals: list[tuple]) -> list[tuple]:
    seen: dict[tuple, GrantRow] = {}
    out = []
    for g, src in totals:
        key = (g.code, g.year)
        first = seen.get(key)
        if first is None:
            seen[key] = g
            out.append((g.code, g.year, g.total, src))
        elif first.total != g.total:
            raise ImportFailure(g.path, g.line, "dubblett med annat värde (duplicate key with a different value): "
                                                f"totalen för {g.code} {g.year} finns redan på rad {first.line}")
    return out


# -- write ------------------------------------------------------------------------------------------

def upsert_awards(con, awards: list[Award]) -> None:
    """Diff against what is there (re-import of the same file changes nothing)."""
    for a in awards:
        old = con.execute("SELECT applied, granted_sek FROM grant_award WHERE municipality_code = ? AND round = ? "
                          "AND pot = ?", [a.code, a.round, a.pot]).fetchall()
        if not old:
            con.execute("INSERT INTO grant_award (municipality_code, round, pot, applied, granted_sek, source) "
                        "VALUES (?, ?, ?, ?, ?, ?)", [a.code, a.round, a.pot, a.applied, a.granted, a.source])
            a.result.inserted += 1
        elif tuple(old[0]) != (a.applied, a.granted):
            con.execute("UPDATE grant_award SET applied = ?, granted_sek = ?, source = ? "
                        "WHERE municipality_code = ? AND round = ? AND pot = ?",
                        [a.applied, a.granted, a.source, a.code, a.round, a.pot])
            a.result.updated += 1
        else:
            a.result.unchanged += 1


def upsert_totals(con, totals: list[tuple]) -> None:
    for code, year, total, src in totals:
        old = con.execute("SELECT total_granted_sek FROM grant_award_printed_total WHERE municipality_code = ? "
                          "AND year = ?", [code, year]).fetchall()
        if not old:
            con.execute("INSERT INTO grant_award_printed_total VALUES (?, ?, ?, ?)", [code, year, total, src])
        elif old[0][0] != total:
            con.execute("UPDATE grant_award_printed_total SET total_granted_sek = ?, source = ? "
                        "WHERE municipality_code = ? AND year = ?", [total, src, code, year])


def load_grant_seeds(con, sources_dir: Path | str | None = None) -> dict[str, int]:
    """The grant material of the embedded default, from warehouse/sources/: rounds (Tabell 2),
    2013 awards (Bilaga 1), Stockholm's return of unspent stimulus grant 2012–2013, grant facts.
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
