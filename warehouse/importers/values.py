"""The bulk path shared by `import kolada` and `import indicators`: staged raw rows ->
validated, mapped, de-duplicated values -> kpi_value / benchmark_value, all in DuckDB SQL.

Python only sees the *distinct* municipality names and KPI strings (a few hundred to a few
thousand), resolves them, and hands the result back as small mapping tables; every per-row
step (casts, joins, validation, duplicate check, diff against existing rows, insert/update) is
one set-based statement, so a 25-million-row file costs a few passes over columnar data.

`import_values` walks one batch (all files of one command) through named steps, see
`ValueBatch.run`: open views → map names → validate → drop identical duplicates → new KPIs →
write municipality values → write benchmark rows → summary.

Semantics (documented in the README; the row rules are those of warehouse/importers/common.py,
written in SQL here):
- a year is a whole number from YEAR_MIN to the current year + 1 ("2009.5" is refused, never
  rounded); a value is a finite number (decimal comma or point, thousands spaces, trailing %);
- a row whose value is empty or a Kolada missing marker is skipped and counted;
- the same key (KPI, municipality/benchmark, year, gender) twice in one command with the same
  value: the copy is skipped and counted; with a different value: the import stops;
- a key already in the warehouse with another value is an *update* (counted), with the same
  value it is *unchanged*: importing the same file twice writes nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import duckdb
import pandas as pd

from warehouse.importers.common import (
    FIELD_MAX_CHARS, MISSING_MARKERS, YEAR_MIN, FileResult, ImportFailure, ImportSummary, StagedFile,
    csv_failure, drop_tables, short, tmp_name, year_max,
)
from warehouse.value_source import source_ids

# Problem codes per staged row (0 = good).
(P_AREA_EMPTY, P_KPI_EMPTY, P_YEAR, P_VALUE, P_GENDER, P_AREA_UNKNOWN, P_KPI_UNKNOWN, P_MISSING,
 P_BENCHMARK, P_FIELD_LONG, P_AREA_CONFLICT) = range(1, 12)
# Internal, first pass only: a raw name or KPI string the maps do not hold yet (resolved in
# Python, then the pass is run again; never reported).
P_UNRESOLVED = 12
_POS_SHIFT = 1 << 40        # position = file_no * 2^40 + record: one sortable number for "first"
# Bits of the duplicate bitmap: one per possible key within the good rows' ranges (KPI x area x
# year x gender); 5 100 KPIs x 290 x 17 years x 3 = 75 M bits = 9.4 MB. Larger: an exact GROUP BY
# (DuckDB's bitstring_agg refuses ranges much beyond 2^29).
BITMAP_MAX = 1 << 29


def _gender_sql(col: str) -> str:
    """T/K/M (also Totalt/Kvinnor/Män as Kolada's web export writes them) -> 0/1/2, else NULL."""
    return (f"CASE WHEN {col} IS NULL THEN 0 ELSE CASE upper(trim({col})) "
            "WHEN '' THEN 0 WHEN 'T' THEN 0 WHEN 'TOTALT' THEN 0 WHEN 'TOTAL' THEN 0 "
            "WHEN 'K' THEN 1 WHEN 'KVINNOR' THEN 1 WHEN 'KVINNA' THEN 1 "
            "WHEN 'M' THEN 2 WHEN 'MÄN' THEN 2 WHEN 'MAN' THEN 2 END END")


# A year as text -> INTEGER, or NULL if it is not a whole number written as one. The canonical
# form ("2010") is checked by casting back (cheap; DuckDB's integer cast alone would round
# "2009.5" to 2010 and read "2e03" as 2000); "2010.0" and padded forms go through the regex.
def _year_sql(col: str, as_int: str) -> str:
    return (f"CASE WHEN {as_int}::VARCHAR = {col} THEN {as_int} "
            f"WHEN regexp_full_match({col}, '\\s*[0-9]{{4}}(\\.0*)?\\s*') "
            f"THEN CAST(regexp_extract({col}, '[0-9]{{4}}') AS INTEGER) END")


# A value as text -> DOUBLE (NULL if not a number). DuckDB's own cast first (the bulk case),
# refusing its extension "1_000"; else decimal comma, thousands spaces, trailing %.
_NUMBER_RE = r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?%?"


def _value_sql(col: str) -> str:
    cleaned = f"regexp_replace({col}, '[ \\t\\n\\r\\f\\v\u00a0\u202f]', '', 'g')"
    return (f"CASE WHEN NOT contains({col}, '_') THEN coalesce(TRY_CAST({col} AS DOUBLE), "
            f"CASE WHEN regexp_full_match({cleaned}, '{_NUMBER_RE}') "
            f"THEN TRY_CAST(replace(rtrim({cleaned}, '%'), ',', '.') AS DOUBLE) END) END")


@dataclass
class AreaTarget:
    municipality_code: str | None = None
    benchmark: str | None = None          # aggregate row ("Alla kommuner (ovägt medel)")
    conflict: bool = False                # "0180 Göteborg": code and name disagree

    @property
    def unknown(self) -> bool:
        return self.municipality_code is None and self.benchmark is None


@dataclass
class KpiTarget:
    kpi_id: str | None                     # None = unknown (error unless allowed)
    title: str | None = None               # for a KPI the warehouse does not have yet
    description: str | None = None


def _sql_list(items) -> str:
    return ", ".join("'" + str(s).replace("'", "''") + "'" for s in items)


def import_values(
    con,
    staged: list[StagedFile],
    summary: ImportSummary,
    resolve_areas: Callable[[list[str]], dict[str, AreaTarget]],
    resolve_kpis: Callable[[list[str]], dict[str, KpiTarget]],
    allow_unmapped: bool,
    sources: list[str],
    kpi_source: str,
    allow_benchmarks: bool = True,
    check_area_pair: Callable[[str, str], bool] | None = None,
) -> ImportSummary:
    """Validate and write the staged files (one batch). Raises ImportFailure on bad input;
    writes nothing itself that the caller's rollback would not undo.

    check_area_pair(code_text, name_text) -> bool: for files with both a code and a name column
    (role area_name_raw), whether they name the same municipality."""
    batch = ValueBatch(con, staged, summary, resolve_areas, resolve_kpis, allow_unmapped,
                       sources, kpi_source, allow_benchmarks, check_area_pair)
    try:
        return batch.run()
    finally:
        try:
            drop_tables(con, reversed(batch.temps))
        except Exception:   # the transaction is already aborted; the rollback cleans up
            pass


def close_staged(con, staged) -> None:
    """Drop the staged files' temporary tables; after a failure the transaction is already
    aborted and its rollback cleans up, so errors here are ignored."""
    for sf in staged:
        try:
            sf.close(con)
        except Exception:
            pass


class ValueBatch:
    """One batch of staged files on its way into kpi_value / benchmark_value."""

    def __init__(self, con, staged, summary, resolve_areas, resolve_kpis, allow_unmapped, sources,
                 kpi_source, allow_benchmarks, check_area_pair=None):
        self.con, self.staged, self.summary = con, staged, summary
        self.resolve_areas, self.resolve_kpis = resolve_areas, resolve_kpis
        self.allow_unmapped, self.allow_benchmarks = allow_unmapped, allow_benchmarks
        self.sources, self.kpi_source = sources, kpi_source
        self.check_area_pair = check_area_pair
        self.temps: list[str] = []
        self.markers = _sql_list(MISSING_MARKERS)
        self.area_t: dict[str, AreaTarget] = {}
        self.kpi_t: dict[str, KpiTarget] = {}
        self.area_keys: dict[tuple, int] = {}   # (municipality_code, benchmark) -> area_no
        self.kpi_keys: dict[str, int] = {}      # kpi_id -> kpi_no
        self.arows: list[tuple] = []
        self.krows: list[tuple] = []
        self.per_file_skips: dict[int, int] = {}
        self.per_file = {i: [0, 0, 0] for i in range(len(staged))}   # inserted, updated, unchanged
        self.bench_counts: dict[int, tuple] = {}
        self.bench_gender_per_file: dict[int, int] = {}
        self._numbered: str | None = None
        self.deduped = False                    # identical duplicates were dropped

    def _temp(self, prefix: str) -> str:
        name = tmp_name(prefix)
        self.temps.append(name)
        return name

    def run(self) -> ImportSummary:
        for sf in self.staged:
            self.summary.files.append(FileResult(file=str(sf.path), sha256=""))
        self.open_views()
        self.map_names()
        self.check_every_file_has_rows()
        self.check_code_name_pairs()
        self.validate()
        self.count_skips()
        rows = self.drop_identical_duplicates()
        self.add_new_kpis(rows)
        self.write_municipality_values(rows)
        self.write_benchmark_values(rows)
        self.summarise()
        return self.summary

    # -- 1. views over all files ------------------------------------------------------------------
    def open_views(self) -> None:
        """`fast` without record numbers (the bulk path), `union` with them (used only to locate
        a problem, i.e. on the error path)."""
        self.union, self.fast = self._temp("all"), self._temp("fast")
        for view, numbered in ((self.union, True), (self.fast, False)):
            parts = []
            for i, sf in enumerate(self.staged):
                g = "gender_raw" if "gender_raw" in sf.columns else "NULL::VARCHAR"
                n = "area_name_raw" if "area_name_raw" in sf.columns else "NULL::VARCHAR"
                rel = sf.relation if numbered else (sf.relation_fast or sf.relation)
                rec = "rec" if numbered else "NULL::BIGINT AS rec"
                parts.append(f"SELECT {i} AS file_no, {rec}, area_raw, kpi_raw, year_raw, value_raw, "
                             f"{g} AS gender_raw, {n} AS area_name_raw FROM {rel}")
            self.con.execute(f"CREATE TEMP VIEW {view} AS " + " UNION ALL ".join(parts))

    # -- 2. names -> numbers ----------------------------------------------------------------------
    def map_names(self) -> None:
        """The resolvers' exact keys (codes, SCB names, aliases, KPI ids, unambiguous catalogue
        titles) go in as small mapping tables up front, and one typed pass reads every file.
        Only if that pass meets raw strings the maps do not hold (other spellings, aggregate
        rows, unknown or ambiguous titles) are those listed (one more read), resolved in Python
        and the typed pass run again."""
        self.area_t = dict(getattr(self.resolve_areas, "exact", dict)())
        self.kpi_t = dict(getattr(self.resolve_kpis, "exact", dict)())
        self.amap, self.kmap = self._temp("amap"), self._temp("kmap")
        self.aid, self.kid = self._temp("aid"), self._temp("kid")
        self.typed = self._temp("typed")
        self._build_maps()
        self._typed_pass(first=True)
        self.tally()
        if P_UNRESOLVED not in self.problem_counts:
            return
        miss_areas, miss_kpis = self._unresolved_strings()
        # Over-long strings are never resolved (a 1 MB "title" must not become a KPI).
        self.area_t.update(self.resolve_areas([a for a in miss_areas if len(a) <= FIELD_MAX_CHARS]))
        self.kpi_t.update(self.resolve_kpis([k for k in miss_kpis if len(k) <= FIELD_MAX_CHARS]))
        for a in miss_areas:
            self.area_t.setdefault(a, AreaTarget())
        for k in miss_kpis:
            self.kpi_t.setdefault(k, KpiTarget(None))
        self._build_maps()
        self._typed_pass(first=False)
        self.tally()

    def _unresolved_strings(self) -> tuple[list[str], list[str]]:
        """The distinct raw names and KPI strings the maps do not hold (not NULL)."""
        try:
            with _optimizer_disabled(self.con, "build_side_probe_side"):
                areas, kpis = self.con.execute(f"""
                    SELECT list(DISTINCT u.area_raw) FILTER (WHERE a.state IS NULL AND u.area_raw IS NOT NULL),
                           list(DISTINCT u.kpi_raw) FILTER (WHERE k.state IS NULL AND u.kpi_raw IS NOT NULL)
                    FROM {self.fast} u LEFT JOIN {self.kmap} k ON u.kpi_raw = k.kpi_raw
                    LEFT JOIN {self.amap} a ON u.area_raw = a.area_raw""").fetchall()[0]
        except duckdb.Error as e:
            raise _source_failure(self.staged, str(e)) from None
        return sorted(areas or []), sorted(kpis or [])

    def _build_maps(self) -> None:
        arows, krows = [], []
        for raw, t in self.area_t.items():
            if len(raw) > FIELD_MAX_CHARS:
                arows.append((raw, None, P_FIELD_LONG))
            elif not str(raw).strip():
                arows.append((raw, None, P_AREA_EMPTY))
            elif t.conflict:
                arows.append((raw, None, P_AREA_CONFLICT))
            elif t.unknown:
                arows.append((raw, None, P_AREA_UNKNOWN))
            else:
                key = (t.municipality_code, t.benchmark)
                arows.append((raw, self.area_keys.setdefault(key, len(self.area_keys)), 0))
        for raw, t in self.kpi_t.items():
            if len(raw) > FIELD_MAX_CHARS:
                krows.append((raw, None, P_FIELD_LONG))
            elif not str(raw).strip():
                krows.append((raw, None, P_KPI_EMPTY))
            elif t.kpi_id is None:
                krows.append((raw, None, P_KPI_UNKNOWN))
            else:
                krows.append((raw, self.kpi_keys.setdefault(t.kpi_id, len(self.kpi_keys)), 0))
        self.arows, self.krows = arows, krows
        con = self.con
        _frame_table(con, self.amap, pd.DataFrame(arows, columns=["area_raw", "area_no", "state"]),
                     {"area_raw": "VARCHAR", "area_no": "INTEGER", "state": "TINYINT"})
        _frame_table(con, self.kmap, pd.DataFrame(krows, columns=["kpi_raw", "kpi_no", "state"]),
                     {"kpi_raw": "VARCHAR", "kpi_no": "INTEGER", "state": "TINYINT"})
        _frame_table(con, self.aid, pd.DataFrame([(no, c, b) for (c, b), no in self.area_keys.items()],
                                                 columns=["area_no", "municipality_code", "benchmark"]),
                     {"area_no": "INTEGER", "municipality_code": "VARCHAR", "benchmark": "VARCHAR"})
        _frame_table(con, self.kid, pd.DataFrame([(no, k) for k, no in self.kpi_keys.items()],
                                                 columns=["kpi_no", "kpi_id"]),
                     {"kpi_no": "INTEGER", "kpi_id": "VARCHAR"})
        self.bench_areas = [no for (c, b), no in self.area_keys.items() if b is not None]

    def is_bench(self, col: str = "area_no") -> str:
        """SQL: the area number `col` is an aggregate row (benchmark), not a municipality."""
        return f"{col} IN ({', '.join(map(str, self.bench_areas))})" if self.bench_areas else "false"

    def _typed_pass(self, first: bool) -> None:
        # DuckDB cannot estimate a CSV's row count (it guesses ~40), so it would build the
        # join's hash table on the file and probe it with the tiny maps; keep the maps as the
        # build side. (A malformed CSV shows up here: translated to file/line/problem.)
        try:
            with _optimizer_disabled(self.con, "build_side_probe_side"):
                _create_typed(self.con, self.typed, self.fast, self.kmap, self.amap, self.markers, first_pass=first)
        except duckdb.Error as e:
            raise _source_failure(self.staged, str(e)) from None

    def tally(self) -> None:
        """One pass over the typed rows counts everything the later steps need: rows per file,
        per problem, good rows for municipalities and for aggregate rows (by gender or not), and
        the range of the good rows' KPI, area and year numbers (for the duplicate bitmap)."""
        groups = self.con.execute(
            f"SELECT file_no, problem, {self.is_bench()} AS bench, g <> 0 AS by_gender, count(*), "
            f"min(kpi_no), max(kpi_no), min(area_no), max(area_no), min(year), max(year) "
            f"FROM {self.typed} GROUP BY ALL").fetchall()
        self.rows_per_file: dict[int, int] = {}
        self.problem_counts: dict[int, int] = {}
        self.skips_per_file: dict[int, int] = {}
        self.muni_per_file: dict[int, int] = {}
        self.bench_gender_tally: dict[int, int] = {}
        self.n_good = self.n_good_bench = 0
        lo, hi = [], []
        for f, p, bench, by_gender, n, *ranges in groups:
            self.rows_per_file[f] = self.rows_per_file.get(f, 0) + n
            if p != 0:
                self.problem_counts[p] = self.problem_counts.get(p, 0) + n
                self.skips_per_file[f] = self.skips_per_file.get(f, 0) + n
                continue
            self.n_good += n
            lo.append(ranges[0::2])
            hi.append(ranges[1::2])
            if bench:
                self.n_good_bench += n
                if by_gender:
                    self.bench_gender_tally[f] = self.bench_gender_tally.get(f, 0) + n
            else:
                self.muni_per_file[f] = self.muni_per_file.get(f, 0) + n
        # (min, max) of kpi_no, area_no and year over the good rows.
        self.good_ranges = [(min(x[i] for x in lo), max(x[i] for x in hi)) for i in range(3)] if lo else None

    def numbered(self) -> str:
        """The typed rows again, with record numbers (error and duplicate paths only)."""
        if self._numbered is None:
            t = self._temp("typed_n")
            with _optimizer_disabled(self.con, "build_side_probe_side"):
                _create_typed(self.con, t, self.union, self.kmap, self.amap, self.markers, numbered=True)
            self._numbered = t
        return self._numbered

    # -- 3. validation -------------------------------------------------------------------------------
    def check_every_file_has_rows(self) -> None:
        for i, sf in enumerate(self.staged):
            if i not in self.rows_per_file and not sf.skipped:
                raise ImportFailure(sf.path, None, "filen har inga datarader (empty file: no data rows)")

    def check_code_name_pairs(self) -> None:
        """Files with both a code and a name column: every distinct pair must agree."""
        if self.check_area_pair is None or not any("area_name_raw" in sf.columns for sf in self.staged):
            return
        pairs = self.con.execute(
            f"SELECT DISTINCT area_raw, area_name_raw FROM {self.fast} "
            f"WHERE area_raw IS NOT NULL AND nullif(trim(area_name_raw), '') IS NOT NULL").fetchall()
        bad = [(c, n) for c, n in pairs if not self.check_area_pair(c, n)]
        if not bad:
            return
        first = self.con.execute(
            f"SELECT min(file_no * {_POS_SHIFT} + rec) FROM {self.union} "
            f"WHERE (area_raw, area_name_raw) IN (SELECT * FROM (VALUES {', '.join('(?, ?)' for _ in bad)}))",
            [x for pair in bad for x in pair]).fetchall()[0][0]
        sf, rec, raw = self._raw_row(first)
        raise ImportFailure(sf.path, sf.locate(rec),
                            f"kommunkoden {short(raw['area'])} och namnet {short(raw['area_name'])} pekar på olika "
                            f"kommuner (code and name disagree)")

    def validate(self) -> None:
        """The first row of every problem kind; the earliest one stops the import."""
        con = self.con
        fatal = {P_AREA_EMPTY, P_KPI_EMPTY, P_YEAR, P_GENDER, P_VALUE, P_FIELD_LONG, P_AREA_CONFLICT}
        if not self.allow_unmapped:
            fatal |= {P_AREA_UNKNOWN, P_KPI_UNKNOWN}
        has_bench_rows = not self.allow_benchmarks and self.n_good_bench > 0
        if not (fatal & set(self.problem_counts) or has_bench_rows):
            return
        tn = self.numbered()
        bad = [(pos, p) for p, pos in con.execute(
            f"SELECT problem, min(file_no * {_POS_SHIFT} + rec) FROM {tn} WHERE problem IN "
            f"({', '.join(str(x) for x in fatal)}) GROUP BY problem").fetchall()]
        if has_bench_rows:
            b = con.execute(f"SELECT min(file_no * {_POS_SHIFT} + rec) FROM {tn} "
                            f"WHERE problem = 0 AND {self.is_bench()}").fetchall()[0][0]
            bad.append((b, P_BENCHMARK))
        pos, p = min(bad)
        sf, rec, raw = self._raw_row(pos)
        raise ImportFailure(sf.path, sf.locate(rec), _PROBLEMS[p](raw))

    def count_skips(self) -> None:
        s = self.summary
        counts = self.problem_counts
        s.skip("tomt värde eller saknat-markör (empty value / missing marker)", counts.get(P_MISSING, 0))
        s.skip("okänd kommun, hoppades över (unmapped municipality, --allow-unmapped)", counts.get(P_AREA_UNKNOWN, 0))
        s.skip("okänt nyckeltal, hoppades över (unmapped KPI, --allow-unmapped)", counts.get(P_KPI_UNKNOWN, 0))
        self.per_file_skips = dict(self.skips_per_file)
        for i, sf in enumerate(self.staged):
            for reason, n in sf.skipped.items():
                s.skip(reason, n)
                self.per_file_skips[i] = self.per_file_skips.get(i, 0) + n
        if P_AREA_UNKNOWN in counts or P_KPI_UNKNOWN in counts:
            names = sorted({a for a, _, st in self.arows if st == P_AREA_UNKNOWN}
                           | {k for k, _, st in self.krows if st == P_KPI_UNKNOWN})
            s.unmapped.extend(names)
            s.warnings.append("Okända namn hoppades över (unmapped, skipped): " + ", ".join(names))

    # -- 4. duplicates ----------------------------------------------------------------------------------
    def drop_identical_duplicates(self) -> str:
        """One dense integer key per (KPI, municipality/benchmark, year, gender). Fast path: a
        bitmap over the key range (DuckDB's bitstring_agg, parallel, one pass over four integer
        columns): as many distinct keys as good rows means no duplicates. Otherwise (or if the
        range is too large) an exact GROUP BY. Returns the relation of the rows to write."""
        con, typed = self.con, self.typed
        self.deduped = False
        rows = f"(SELECT * FROM {typed} WHERE problem = 0)"
        if self.n_good < 2:
            return rows
        # Dense over the good rows' ranges (from `tally`); g is 0..2.
        (k0, k1), (a0, a1), (y0, y1) = self.good_ranges
        n_area, n_year = a1 - a0 + 1, y1 - y0 + 1
        k_expr = f"((((kpi_no - {k0})::BIGINT * {n_area} + (area_no - {a0})) * {n_year} + (year - {y0})) * 3 + g)"
        key_range = (k1 - k0 + 1) * n_area * n_year * 3
        if key_range <= BITMAP_MAX:
            distinct = con.execute(f"SELECT bit_count(bitstring_agg({k_expr}, 0::BIGINT, {key_range - 1}::BIGINT)) "
                                   f"FROM {typed} WHERE problem = 0").fetchall()[0][0]
            if distinct == self.n_good:
                return rows
        good = self._temp("good")
        con.execute(f"CREATE TEMP VIEW {good} AS SELECT *, file_no * {_POS_SHIFT} + rec AS pos, {k_expr} AS k "
                    f"FROM {self.numbered()} WHERE problem = 0")
        n_dup_keys = con.execute(
            f"SELECT count(*) FROM (SELECT k FROM {good} GROUP BY k HAVING count(*) > 1)").fetchall()[0][0]
        if not n_dup_keys:
            return rows
        conflict = con.execute(f"""
            SELECT list(pos ORDER BY pos), list(value ORDER BY pos) FROM {good} GROUP BY k
            HAVING count(*) > 1 AND min(value) <> max(value) ORDER BY min(pos) LIMIT 1""").fetchall()
        if conflict:
            positions, values = conflict[0]
            second = next(p for p, v in zip(positions, values) if v != values[0])
            self._raise_duplicate(positions[0], second)
        dup_per_file = dict(con.execute(f"""
            SELECT file_no, count(*) FROM (
                SELECT file_no, row_number() OVER (PARTITION BY k ORDER BY pos) AS rn FROM {good})
            WHERE rn > 1 GROUP BY file_no""").fetchall())
        self.summary.skip("dubblett med samma värde (duplicate row, same value)", sum(dup_per_file.values()))
        for f, n in dup_per_file.items():
            self.per_file_skips[f] = self.per_file_skips.get(f, 0) + n
        self.deduped = True
        return (f"(SELECT * EXCLUDE (pos, k) FROM {good} "
                f"QUALIFY row_number() OVER (PARTITION BY k ORDER BY pos) = 1)")

    # -- 5. writes ---------------------------------------------------------------------------------------
    def add_new_kpis(self, rows: str) -> None:
        """New KPIs first, so every value has its KPI row. Only KPIs the warehouse lacks are
        looked for in the rows (usually none: no pass over the rows)."""
        con = self.con
        existing = {r[0] for r in con.execute("SELECT kpi_id FROM kpi").fetchall()}
        candidates = {no: kid for kid, no in self.kpi_keys.items() if kid not in existing}
        if not candidates:
            return
        used = {r[0] for r in con.execute(
            f"SELECT DISTINCT kpi_no FROM {rows} WHERE kpi_no IN ({', '.join(map(str, candidates))})").fetchall()}
        targets = {t.kpi_id: t for t in self.kpi_t.values() if t.kpi_id}
        for kpi_id in sorted(candidates[no] for no in used):
            t = targets[kpi_id]
            con.execute("INSERT INTO kpi (kpi_id, title, description, source, is_demo) VALUES (?, ?, ?, ?, false)",
                        [kpi_id, t.title or kpi_id, t.description, self.kpi_source])
            self.summary.new_kpis.append(kpi_id)

    def _source_case(self) -> str:
        """SQL: each row's source text by its file (benchmark_value keeps the text per row)."""
        return self._per_file(["'" + s.replace("'", "''") + "'" for s in self.sources])

    def _source_id_case(self, writing: set[int]) -> str:
        """SQL: each row's value_source id by its file (kpi_value stores the id, not the text).
        Source rows are added only for the files that write a value (`writing`)."""
        ids = source_ids(self.con, [(s, False) for i, s in enumerate(self.sources) if i in writing])
        return self._per_file([str(ids[(s, False)]) if i in writing else "NULL" for i, s in enumerate(self.sources)])

    @staticmethod
    def _per_file(literals: list[str]) -> str:
        # One file (the bulk case): a literal, which DuckDB keeps as a constant vector.
        if len(set(literals)) == 1:
            return literals[0]
        return "CASE t.file_no " + " ".join(f"WHEN {i} THEN {q}" for i, q in enumerate(literals)) + " END"

    def write_municipality_values(self, rows: str) -> None:
        """Diff against the warehouse, then insert and update."""
        con = self.con
        # Aggregate rows by gender: benchmark_value holds totals only. (Counted by `tally`
        # unless duplicates were dropped.)
        self.bench_gender_per_file = dict(con.execute(
            f"SELECT file_no, count(*) FROM {rows} WHERE {self.is_bench()} AND g <> 0 GROUP BY file_no").fetchall()
        ) if self.deduped else dict(self.bench_gender_tally)
        self.summary.skip("jämförelserad per kön (aggregate row by gender; benchmarks hold totals)",
                          sum(self.bench_gender_per_file.values()))
        muni = (f"(SELECT t.file_no, kid.kpi_id, aid.municipality_code, t.year, "
                f"CASE t.g WHEN 0 THEN 'T' WHEN 1 THEN 'K' ELSE 'M' END AS gender, t.value "
                f"FROM {rows} t JOIN {self.kid} kid USING (kpi_no) JOIN {self.aid} aid USING (area_no) "
                f"WHERE aid.municipality_code IS NOT NULL)")
        has_existing = bool(self.kpi_keys) and con.execute(
            f"SELECT EXISTS (SELECT 1 FROM kpi_value WHERE kpi_id IN (SELECT kpi_id FROM {self.kid}))").fetchall()[0][0]
        if not has_existing:
            # Fast path (KPIs new to the warehouse): every row is an insert; no join with the big table.
            inserted = dict(con.execute(
                f"SELECT file_no, count(*) FROM {rows} WHERE NOT {self.is_bench()} GROUP BY file_no").fetchall()
            ) if self.deduped else self.muni_per_file
            for f, n in inserted.items():
                self.per_file[f][0] += n
            writing = {f for f, n in inserted.items() if n}
            if not writing:
                return
            # Row order in the table does not matter here: let DuckDB write in parallel.
            with _setting(con, "preserve_insertion_order", "false"):
                con.execute(f"""INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source_id)
                                SELECT kpi_id, municipality_code, year, gender, value, {self._source_id_case(writing)}
                                FROM {muni} t""")
            return
        diff = self._temp("diff")
        con.execute(f"""
            CREATE TEMP TABLE {diff} AS
            SELECT m.*, e.value AS old
            FROM {muni} m LEFT JOIN kpi_value e
              ON e.kpi_id = m.kpi_id AND e.municipality_code = m.municipality_code
             AND e.year = m.year AND e.gender = m.gender""")
        for f, ins, upd, same in con.execute(f"""
                SELECT file_no, count(*) FILTER (WHERE old IS NULL),
                       count(*) FILTER (WHERE old IS NOT NULL AND old <> value),
                       count(*) FILTER (WHERE old = value)
                FROM {diff} GROUP BY file_no""").fetchall():
            self.per_file[f][0] += ins
            self.per_file[f][1] += upd
            self.per_file[f][2] += same
        writing = {f for f, n in self.per_file.items() if n[0] or n[1]}
        if not writing:
            return      # nothing new or changed: no source row either (a re-import writes nothing)
        source_id = self._source_id_case(writing)
        con.execute(f"""INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source_id)
                        SELECT kpi_id, municipality_code, year, gender, value, {source_id}
                        FROM {diff} t WHERE old IS NULL""")
        # The new value's source (never demo: an import is real data) replaces the old one's.
        con.execute(f"""UPDATE kpi_value AS t SET value = d.value, source_id = d.source_id
                        FROM (SELECT *, {source_id} AS source_id FROM {diff} t
                              WHERE old IS NOT NULL AND old <> value) d
                        WHERE t.kpi_id = d.kpi_id AND t.municipality_code = d.municipality_code
                          AND t.year = d.year AND t.gender = d.gender""")

    def write_benchmark_values(self, rows: str) -> None:
        """Aggregate rows (few): the same diff logic against benchmark_value."""
        con = self.con
        if not self.n_good_bench:
            return
        bench = self._temp("bench")
        con.execute(f"""
            CREATE TEMP TABLE {bench} AS
            SELECT t.file_no, kid.kpi_id, aid.benchmark, t.year, t.value, {self._source_case()} AS source, e.value AS old
            FROM (SELECT * FROM {rows} WHERE {self.is_bench()} AND g = 0) t
            JOIN {self.kid} kid USING (kpi_no) JOIN {self.aid} aid USING (area_no)
            LEFT JOIN benchmark_value e ON e.kpi_id = kid.kpi_id AND e.benchmark = aid.benchmark AND e.year = t.year""")
        self.bench_counts = {f: (n, ins, upd) for f, n, ins, upd in con.execute(f"""
            SELECT file_no, count(*), count(*) FILTER (WHERE old IS NULL), count(*) FILTER (WHERE old <> value)
            FROM {bench} GROUP BY file_no""").fetchall()}
        con.execute(f"INSERT INTO benchmark_value SELECT kpi_id, benchmark, year, value, source FROM {bench} WHERE old IS NULL")
        con.execute(f"""UPDATE benchmark_value AS t SET value = d.value, source = d.source
                        FROM (SELECT * FROM {bench} WHERE old IS NOT NULL AND old <> value) d
                        WHERE t.kpi_id = d.kpi_id AND t.benchmark = d.benchmark AND t.year = d.year""")

    # -- 6. summary ------------------------------------------------------------------------------------
    def summarise(self) -> None:
        s = self.summary
        results = s.files[-len(self.staged):]
        for i, (sf, fr) in enumerate(zip(self.staged, results)):
            fr.sha256 = sf.sha256.result() if hasattr(sf.sha256, "result") else sf.sha256
            ins, upd, same = self.per_file[i]
            n, bins, bupd = self.bench_counts.get(i, (0, 0, 0))
            fr.inserted, fr.updated, fr.unchanged = ins, upd, same
            fr.benchmark_rows = n
            fr.skipped = self.per_file_skips.get(i, 0) + self.bench_gender_per_file.get(i, 0)
            s.inserted += ins
            s.updated += upd
            s.unchanged += same
            s.benchmark_rows += n
            s.benchmark_inserted += bins
            s.benchmark_updated += bupd

    # -- error path ------------------------------------------------------------------------------------
    def _raw_row(self, pos):
        file_no, rec = divmod(pos, _POS_SHIFT)
        row = self.con.execute(
            f"SELECT area_raw, kpi_raw, year_raw, value_raw, gender_raw, area_name_raw FROM {self.union} "
            f"WHERE file_no = ? AND rec = ?", [file_no, rec]).fetchall()[0]
        return self.staged[file_no], rec, dict(zip(("area", "kpi", "year", "value", "gender", "area_name"), row))

    def _raise_duplicate(self, first, second):
        sf1, rec1, raw1 = self._raw_row(first)
        sf2, rec2, raw2 = self._raw_row(second)
        where1 = sf1.locate(rec1)
        where1 = f"rad {where1}" if isinstance(where1, int) else where1
        if sf1.path != sf2.path:
            where1 = f"{sf1.path}, {where1}"
        raise ImportFailure(
            sf2.path, sf2.locate(rec2),
            f"dubblett med annat värde (duplicate key with a different value): {short(raw2['kpi'])} / "
            f"{short(raw2['area'])} / {short(raw2['year'])} är {short(raw2['value'])} här men "
            f"{short(raw1['value'])} på {where1}",
        )


def _create_typed(con, typed, source, kmap, amap, markers, *, numbered: bool = False,
                  first_pass: bool = False) -> None:
    """One row per staged row: kpi_no and area_no from the maps, year, g (gender 0 T, 1 K, 2 M),
    value and problem (0 = good, else the first P_* of the row). Only integers and a double are
    stored: raw strings are read again from the file on the error path. numbered: with the
    record number (error and duplicate paths). first_pass: a raw string the maps do not hold
    is P_UNRESOLVED (to be resolved), not unknown."""
    area_unmapped = P_UNRESOLVED if first_pass else P_AREA_UNKNOWN
    kpi_unmapped = P_UNRESOLVED if first_pass else P_KPI_UNKNOWN
    rec = "rec, " if numbered else ""
    # Missing markers via list_position: DuckDB turns `IN (...)` and list_contains of nine
    # constants into a join evaluated for every row; inside the CASE this is only evaluated
    # for the few rows whose value is not a number.
    # The rows' order does not matter (record numbers are explicit): let DuckDB write in parallel.
    with _setting(con, "preserve_insertion_order", "false"):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {typed} AS
            SELECT u.file_no, {rec}k.kpi_no, a.area_no, u.y AS year, u.g, u.v AS value,
                   CASE WHEN a.state IS NULL THEN (CASE WHEN u.area_raw IS NULL THEN {P_AREA_EMPTY} ELSE {area_unmapped} END)
                        WHEN a.state <> 0 THEN a.state
                        WHEN k.state IS NULL THEN (CASE WHEN u.kpi_raw IS NULL THEN {P_KPI_EMPTY} ELSE {kpi_unmapped} END)
                        WHEN k.state <> 0 THEN k.state
                        WHEN u.y IS NULL OR u.y NOT BETWEEN {YEAR_MIN} AND {year_max()} THEN {P_YEAR}
                        WHEN u.g IS NULL THEN {P_GENDER}
                        WHEN u.v IS NOT NULL THEN CASE WHEN isfinite(u.v) THEN 0 ELSE {P_VALUE} END
                        WHEN u.value_raw IS NULL OR list_position([{markers}], trim(u.value_raw)) IS NOT NULL THEN {P_MISSING}
                        WHEN length(u.value_raw) > {FIELD_MAX_CHARS} THEN {P_FIELD_LONG}
                        ELSE {P_VALUE} END::TINYINT AS problem
            FROM (SELECT file_no, {rec}area_raw, kpi_raw, value_raw,
                         {_year_sql('year_raw', 'y0')} AS y,
                         {_gender_sql('gender_raw')} AS g,
                         {_value_sql('value_raw')} AS v
                  FROM (SELECT *, TRY_CAST(year_raw AS INTEGER) AS y0 FROM {source})) u
            LEFT JOIN {kmap} k ON u.kpi_raw = k.kpi_raw
            LEFT JOIN {amap} a ON u.area_raw = a.area_raw
        """)


class _setting:
    """Temporarily change a DuckDB setting on the caller's connection."""

    def __init__(self, con, name: str, value: str):
        self.con, self.name, self.value = con, name, value

    def __enter__(self):
        self.old = self.con.execute(f"SELECT current_setting('{self.name}')").fetchall()[0][0]
        self.con.execute(f"SET {self.name} = {self.value}")

    def __exit__(self, *exc):
        try:
            self.con.execute(f"SET {self.name} = {str(self.old).lower() if isinstance(self.old, bool) else repr(self.old)}")
        except Exception:
            pass
        return False


class _optimizer_disabled:
    """Temporarily add an optimizer to `disabled_optimizers` on the caller's connection."""

    def __init__(self, con, name: str):
        self.con, self.name = con, name

    def __enter__(self):
        self.old = self.con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0] or ""
        names = [n for n in self.old.split(",") if n.strip()]
        if self.name not in names:
            names.append(self.name)
        self.con.execute(f"SET disabled_optimizers = '{','.join(names)}'")

    def __exit__(self, *exc):
        try:
            self.con.execute(f"SET disabled_optimizers = '{self.old}'")
        except Exception:
            pass
        return False


def _frame_table(con, name: str, df: pd.DataFrame, types: dict[str, str]) -> None:
    view = name + "_src"
    con.register(view, df)
    try:
        cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {cols} FROM {view}")
    finally:
        con.unregister(view)


def _source_failure(staged, msg: str) -> ImportFailure:
    """A DuckDB read error -> ImportFailure for the file it concerns."""
    culprit = staged[0]
    for sf in staged:
        if sf.read_csv_path and sf.read_csv_path in msg:
            culprit = sf
    if culprit.kind != "csv":
        return ImportFailure(culprit.path, None, f"filen går inte att läsa (unreadable file): {short(msg.splitlines()[0], 200)}")
    return csv_failure(culprit.path, msg)


def _year_problem(r) -> str:
    return (f"året {short(r['year'])} är inte ett årtal {YEAR_MIN}–{year_max()} "
            f"(invalid year: a whole number {YEAR_MIN}–{year_max()})")


_PROBLEMS = {
    P_AREA_EMPTY: lambda r: "kommun saknas (missing municipality)",
    P_KPI_EMPTY: lambda r: "nyckeltal saknas (missing KPI)",
    P_YEAR: _year_problem,
    P_VALUE: lambda r: f"värdet {short(r['value'])} är inte ett tal (non-numeric value)",
    P_GENDER: lambda r: f"könet {short(r['gender'])} är inte T, K eller M (invalid gender)",
    P_AREA_UNKNOWN: lambda r: (f"okänd kommun {short(r['area'])} (unknown municipality); använd kod eller "
                               f"Koladas exakta namn, eller --allow-unmapped för att hoppa över"),
    P_KPI_UNKNOWN: lambda r: (f"okänt nyckeltal {short(r['kpi'])} (unknown KPI); lägg till det med --kpis "
                              f"META.csv, eller --allow-unmapped för att hoppa över"),
    P_BENCHMARK: lambda r: f"{short(r['area'])} är en jämförelserad, inte en kommun (aggregate row not allowed here)",
    P_FIELD_LONG: lambda r: f"ett fält är längre än {FIELD_MAX_CHARS:,} tecken (field too long)".replace(",", " "),
    P_AREA_CONFLICT: lambda r: (f"{short(r['area'])}: kommunkoden och namnet pekar på olika kommuner "
                                f"(code and name disagree)"),
}
