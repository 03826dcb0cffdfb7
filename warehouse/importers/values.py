"""The bulk path shared by `import kolada` and `import indicators`: staged raw rows ->
validated, mapped, de-duplicated values -> kpi_value / benchmark_value, all in DuckDB SQL.

Python only sees the *distinct* municipality names and KPI strings (a few hundred to a few
thousand), resolves them, and hands the result back as small mapping tables; every per-row
step (casts, joins, validation, duplicate check, diff against existing rows, insert/update) is
one set-based statement, so a 25-million-row file costs a few passes over columnar data.

Semantics (documented in the README):
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
import numpy as np
import pandas as pd

from warehouse.importers.common import (
    MISSING_MARKERS, FileResult, ImportFailure, ImportSummary, StagedFile, csv_failure, drop_tables, tmp_name,
)

YEAR_MIN, YEAR_MAX = 1900, 2100
# Problem codes per staged row (0 = good).
P_AREA_EMPTY, P_KPI_EMPTY, P_YEAR, P_VALUE, P_GENDER, P_AREA_UNKNOWN, P_KPI_UNKNOWN, P_MISSING, P_BENCHMARK = range(1, 10)


def _gender_sql(col: str) -> str:
    """T/K/M (also Totalt/Kvinnor/Män as Kolada's web export writes them) -> 0/1/2, else NULL."""
    return (f"CASE WHEN {col} IS NULL THEN 0 ELSE CASE upper(trim({col})) "
            "WHEN '' THEN 0 WHEN 'T' THEN 0 WHEN 'TOTALT' THEN 0 WHEN 'TOTAL' THEN 0 "
            "WHEN 'K' THEN 1 WHEN 'KVINNOR' THEN 1 WHEN 'KVINNA' THEN 1 "
            "WHEN 'M' THEN 2 WHEN 'MÄN' THEN 2 WHEN 'MAN' THEN 2 END END")
_POS_SHIFT = 1 << 40
BITMAP_MAX = 400_000_000   # bytes of the duplicate bitmap (5 100 KPIs x 290 x 17 years x 3 = 75 M)   # position = file_no * 2^40 + record: one sortable number for "first"


@dataclass
class AreaTarget:
    municipality_code: str | None = None
    benchmark: str | None = None          # aggregate row ("Alla kommuner (ovägt medel)")

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
) -> ImportSummary:
    """Validate and write the staged files (one batch). Raises ImportFailure on bad input;
    writes nothing itself that the caller's rollback would not undo."""
    temps: list[str] = []
    try:
        return _import(con, staged, summary, resolve_areas, resolve_kpis, allow_unmapped,
                       sources, kpi_source, allow_benchmarks, temps)
    finally:
        try:
            drop_tables(con, reversed(temps))
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


def _import(con, staged, summary, resolve_areas, resolve_kpis, allow_unmapped, sources,
            kpi_source, allow_benchmarks, temps):
    for sf in staged:
        summary.files.append(FileResult(file=str(sf.path), sha256=""))

    # 1. Views over all files of this command: `fast` without record numbers (the bulk path),
    #    `union` with them (used only to locate a problem, i.e. on the error path).
    union, fast = tmp_name("all"), tmp_name("fast")
    temps += [union, fast]
    for view, numbered in ((union, True), (fast, False)):
        parts = []
        for i, sf in enumerate(staged):
            g = "gender_raw" if "gender_raw" in sf.columns else "NULL::VARCHAR"
            rel = sf.relation if numbered else (sf.relation_fast or sf.relation)
            rec = "rec" if numbered else "NULL::BIGINT AS rec"
            parts.append(f"SELECT {i} AS file_no, {rec}, area_raw, kpi_raw, year_raw, value_raw, "
                         f"{g} AS gender_raw FROM {rel}")
        con.execute(f"CREATE TEMP VIEW {view} AS " + " UNION ALL ".join(parts))

    # 2. Names -> numbers. The resolvers' exact keys (codes, SCB names, aliases, KPI ids,
    #    unambiguous catalogue titles) go in as small mapping tables up front; only raw strings
    #    the first pass could not map (other spellings, aggregate rows, unknown or ambiguous
    #    titles) go through the Python resolvers, and then the typed pass is run again.
    area_t: dict[str, AreaTarget] = dict(getattr(resolve_areas, "exact", dict)())
    kpi_t: dict[str, KpiTarget] = dict(getattr(resolve_kpis, "exact", dict)())
    area_keys: dict[tuple, int] = {}
    kpi_keys: dict[str, int] = {}
    amap, kmap, aid, kid = tmp_name("amap"), tmp_name("kmap"), tmp_name("aid"), tmp_name("kid")
    temps += [amap, kmap, aid, kid]
    markers = _sql_list(MISSING_MARKERS)
    typed = tmp_name("typed")
    temps.append(typed)

    def build_maps():
        arows, krows = [], []
        for raw, t in area_t.items():
            if not str(raw).strip():
                arows.append((raw, None, P_AREA_EMPTY))
            elif t.unknown:
                arows.append((raw, None, P_AREA_UNKNOWN))
            else:
                arows.append((raw, area_keys.setdefault((t.municipality_code, t.benchmark), len(area_keys)), 0))
        for raw, t in kpi_t.items():
            if not str(raw).strip():
                krows.append((raw, None, P_KPI_EMPTY))
            elif t.kpi_id is None:
                krows.append((raw, None, P_KPI_UNKNOWN))
            else:
                krows.append((raw, kpi_keys.setdefault(t.kpi_id, len(kpi_keys)), 0))
        _frame_table(con, amap, pd.DataFrame(arows, columns=["area_raw", "area_no", "state"]),
                     {"area_raw": "VARCHAR", "area_no": "INTEGER", "state": "TINYINT"})
        _frame_table(con, kmap, pd.DataFrame(krows, columns=["kpi_raw", "kpi_no", "state"]),
                     {"kpi_raw": "VARCHAR", "kpi_no": "INTEGER", "state": "TINYINT"})
        _frame_table(con, aid, pd.DataFrame([(no, c, b) for (c, b), no in area_keys.items()],
                                            columns=["area_no", "municipality_code", "benchmark"]),
                     {"area_no": "INTEGER", "municipality_code": "VARCHAR", "benchmark": "VARCHAR"})
        _frame_table(con, kid, pd.DataFrame([(no, k) for k, no in kpi_keys.items()], columns=["kpi_no", "kpi_id"]),
                     {"kpi_no": "INTEGER", "kpi_id": "VARCHAR"})
        return arows, krows

    def typed_pass():
        bench = [no for (c, b), no in area_keys.items() if b is not None]
        is_b = f"a.area_no IN ({', '.join(map(str, bench))})" if bench else "false"
        # DuckDB cannot estimate a CSV's row count (it guesses ~40), so it would build the
        # join's hash table on the file and probe it with the tiny maps; keep the maps as the
        # build side. (A malformed CSV shows up here: translated to file/line/problem.)
        try:
            with _optimizer_disabled(con, "build_side_probe_side"):
                _create_typed(con, typed, fast, kmap, amap, is_b, markers, misses=True)
        except duckdb.Error as e:
            raise _source_failure(staged, str(e)) from None
        return bench, is_b

    arows, krows = build_maps()
    bench_areas, is_bench = typed_pass()
    missed = con.execute(f"SELECT list(DISTINCT area_miss) FILTER (WHERE area_miss IS NOT NULL), "
                         f"list(DISTINCT kpi_miss) FILTER (WHERE kpi_miss IS NOT NULL) FROM {typed}").fetchall()[0]
    miss_areas, miss_kpis = sorted(missed[0] or []), sorted(missed[1] or [])
    if miss_areas or miss_kpis:
        area_t.update(resolve_areas(miss_areas))
        kpi_t.update(resolve_kpis(miss_kpis))
        arows, krows = build_maps()
        bench_areas, is_bench = typed_pass()
    numbered_cache: list[str] = []

    def numbered() -> str:
        """The typed rows again, with record numbers (error and duplicate paths only)."""
        if not numbered_cache:
            t = tmp_name("typed_n")
            temps.append(t)
            with _optimizer_disabled(con, "build_side_probe_side"):
                _create_typed(con, t, union, kmap, amap, is_bench, markers)
            numbered_cache.append(t)
        return numbered_cache[0]

    per_file_rows = {f: n for f, n in con.execute(
        f"SELECT file_no, count(*) FROM {typed} GROUP BY file_no").fetchall()}
    for i, sf in enumerate(staged):
        if i not in per_file_rows:
            raise ImportFailure(sf.path, None, "filen har inga datarader (empty file: no data rows)")

    # 4. Validation: the first row of every problem kind; the earliest one stops the import.
    firsts = {p: (None, n) for p, n in con.execute(
        f"SELECT problem, count(*) FROM {typed} WHERE problem <> 0 GROUP BY problem").fetchall()}
    fatal = {P_AREA_EMPTY, P_KPI_EMPTY, P_YEAR, P_GENDER, P_VALUE}
    if not allow_unmapped:
        fatal |= {P_AREA_UNKNOWN, P_KPI_UNKNOWN}
    has_bench_rows = not allow_benchmarks and bench_areas and con.execute(
        f"SELECT count(*) FROM {typed} WHERE problem = 0 AND is_bench").fetchall()[0][0] > 0
    if fatal & set(firsts) or has_bench_rows:
        tn = numbered()
        bad = [(pos, p) for p, pos in con.execute(
            f"SELECT problem, min(file_no * {_POS_SHIFT} + rec) FROM {tn} WHERE problem IN "
            f"({', '.join(str(x) for x in fatal)}) GROUP BY problem").fetchall()]
        if has_bench_rows:
            b = con.execute(f"SELECT min(file_no * {_POS_SHIFT} + rec) FROM {tn} WHERE problem = 0 AND is_bench").fetchall()[0][0]
            bad.append((b, P_BENCHMARK))
        pos, p = min(bad)
        _raise_row_problem(con, staged, union, pos, p)

    summary.skip("tomt värde eller saknat-markör (empty value / missing marker)", firsts.get(P_MISSING, (0, 0))[1])
    summary.skip("okänd kommun, hoppades över (unmapped municipality, --allow-unmapped)", firsts.get(P_AREA_UNKNOWN, (0, 0))[1])
    summary.skip("okänt nyckeltal, hoppades över (unmapped KPI, --allow-unmapped)", firsts.get(P_KPI_UNKNOWN, (0, 0))[1])
    per_file_skips = dict(con.execute(
        f"SELECT file_no, count(*) FROM {typed} WHERE problem <> 0 GROUP BY file_no").fetchall())
    if P_AREA_UNKNOWN in firsts or P_KPI_UNKNOWN in firsts:
        unknown_names = sorted({a for a, _, st in arows if st == P_AREA_UNKNOWN}
                               | {k for k, _, st in krows if st == P_KPI_UNKNOWN})
        summary.unmapped.extend(unknown_names)
        summary.warnings.append("Okända namn hoppades över (unmapped, skipped): " + ", ".join(unknown_names))

    # 5. Duplicates. One dense integer key per (KPI, municipality/benchmark, year, gender).
    #    Fast path: a bitmap over the key range (numpy, one scatter): as many distinct keys as
    #    rows means no duplicates. Otherwise (or if the range is too large) an exact GROUP BY.
    ys = con.execute(f"SELECT min(year), max(year), count(*) FROM {typed} WHERE problem = 0").fetchall()[0]
    y0, n_year, n_good = (ys[0] or 0), ((ys[1] or 0) - (ys[0] or 0) + 1), ys[2]
    n_area, n_kpi = max(1, len(area_keys)), max(1, len(kpi_keys))
    k_kpi = f"(((kpi_no::BIGINT * {n_area} + area_no) * {n_year} + (year - {y0})) * 3 + g)"
    key_range = n_kpi * n_area * n_year * 3
    unique = n_good < 2
    if not unique and key_range <= BITMAP_MAX:
        keys = con.execute(f"SELECT {k_kpi} AS k FROM {typed} WHERE problem = 0").fetchnumpy()["k"]
        seen = np.zeros(key_range, dtype=np.bool_)
        seen[np.asarray(keys, dtype=np.int64)] = True
        unique = int(np.count_nonzero(seen)) == len(keys)
        del seen, keys
    rows_src = f"(SELECT * FROM {typed} WHERE problem = 0)"
    if not unique:
        good = tmp_name("good")
        temps.append(good)
        con.execute(f"CREATE TEMP VIEW {good} AS SELECT *, file_no * {_POS_SHIFT} + rec AS pos, {k_kpi} AS k "
                    f"FROM {numbered()} WHERE problem = 0")
        n_dup_keys = con.execute(
            f"SELECT count(*) FROM (SELECT k FROM {good} GROUP BY k HAVING count(*) > 1)").fetchall()[0][0]
        if n_dup_keys:
            conflict = con.execute(f"""
                SELECT list(pos ORDER BY pos), list(value ORDER BY pos) FROM {good} GROUP BY k
                HAVING count(*) > 1 AND min(value) <> max(value) ORDER BY min(pos) LIMIT 1""").fetchall()
            conflict = conflict[0] if conflict else None
            if conflict:
                positions, values = conflict
                second = next(p for p, v in zip(positions, values) if v != values[0])
                _raise_duplicate(con, staged, union, positions[0], second)
            dup_per_file = dict(con.execute(f"""
                SELECT file_no, count(*) FROM (
                    SELECT file_no, row_number() OVER (PARTITION BY k ORDER BY pos) AS rn FROM {good})
                WHERE rn > 1 GROUP BY file_no""").fetchall())
            summary.skip("dubblett med samma värde (duplicate row, same value)", sum(dup_per_file.values()))
            for f, n in dup_per_file.items():
                per_file_skips[f] = per_file_skips.get(f, 0) + n
            rows_src = (f"(SELECT * EXCLUDE (pos, k) FROM {good} "
                        f"QUALIFY row_number() OVER (PARTITION BY k ORDER BY pos) = 1)")

    # Aggregate rows by gender: benchmark_value holds totals only.
    bench_gender_per_file = dict(con.execute(
        f"SELECT file_no, count(*) FROM {rows_src} WHERE is_bench AND g <> 0 GROUP BY file_no").fetchall())
    summary.skip("jämförelserad per kön (aggregate row by gender; benchmarks hold totals)",
                 sum(bench_gender_per_file.values()))

    # 6. New KPIs first, so every value has its KPI row.
    used = [r[0] for r in con.execute(
        f"SELECT kid.kpi_id FROM (SELECT DISTINCT kpi_no FROM {rows_src}) JOIN {kid} kid USING (kpi_no)").fetchall()]
    existing = {r[0] for r in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    targets = {t.kpi_id: t for t in kpi_t.values() if t.kpi_id}
    for kpi_id in sorted(set(used) - existing):
        t = targets[kpi_id]
        con.execute("INSERT INTO kpi (kpi_id, title, description, source, is_demo) VALUES (?, ?, ?, ?, false)",
                    [kpi_id, t.title or kpi_id, t.description, kpi_source])
        summary.new_kpis.append(kpi_id)

    # 7. Municipality values: diff against the warehouse, then insert and update.
    # One file (the bulk case): a literal, which DuckDB keeps as a constant vector instead of
    # 25 million copies of the same string.
    quoted = ["'" + s.replace("'", "''") + "'" for s in sources]
    src_case = quoted[0] if len(set(sources)) == 1 else (
        "CASE t.file_no " + " ".join(f"WHEN {i} THEN {q}" for i, q in enumerate(quoted)) + " END")
    muni = (f"(SELECT t.file_no, kid.kpi_id, aid.municipality_code, t.year, "
            f"CASE t.g WHEN 0 THEN 'T' WHEN 1 THEN 'K' ELSE 'M' END AS gender, t.value, {src_case} AS source "
            f"FROM {rows_src} t JOIN {kid} kid USING (kpi_no) JOIN {aid} aid USING (area_no) "
            f"WHERE aid.municipality_code IS NOT NULL)")
    has_existing = bool(kpi_keys) and con.execute(
        f"SELECT EXISTS (SELECT 1 FROM kpi_value WHERE kpi_id IN (SELECT kpi_id FROM {kid}))").fetchall()[0][0]
    per_file = {i: [0, 0, 0] for i in range(len(staged))}   # inserted, updated, unchanged
    if not has_existing:
        # Fast path (KPIs new to the warehouse): every row is an insert; no join with the big table.
        for f, n in con.execute(
                f"SELECT file_no, count(*) FROM {rows_src} WHERE NOT is_bench GROUP BY file_no").fetchall():
            per_file[f][0] += n
        # Row order in the table does not matter here: let DuckDB write in parallel.
        with _setting(con, "preserve_insertion_order", "false"):
            con.execute(f"""INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source, is_demo)
                            SELECT kpi_id, municipality_code, year, gender, value, source, false FROM {muni}""")
    else:
        diff = tmp_name("diff")
        temps.append(diff)
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
            per_file[f][0] += ins
            per_file[f][1] += upd
            per_file[f][2] += same
        con.execute(f"""INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source, is_demo)
                        SELECT kpi_id, municipality_code, year, gender, value, source, false
                        FROM {diff} WHERE old IS NULL""")
        con.execute(f"""UPDATE kpi_value AS t SET value = d.value, source = d.source, is_demo = false
                        FROM (SELECT * FROM {diff} WHERE old IS NOT NULL AND old <> value) d
                        WHERE t.kpi_id = d.kpi_id AND t.municipality_code = d.municipality_code
                          AND t.year = d.year AND t.gender = d.gender""")

    # 8. Benchmark rows (few): same diff logic against benchmark_value.
    bench = tmp_name("bench")
    temps.append(bench)
    con.execute(f"""
        CREATE TEMP TABLE {bench} AS
        SELECT t.file_no, kid.kpi_id, aid.benchmark, t.year, t.value, {src_case} AS source, e.value AS old
        FROM (SELECT * FROM {rows_src} WHERE is_bench AND g = 0) t
        JOIN {kid} kid USING (kpi_no) JOIN {aid} aid USING (area_no)
        LEFT JOIN benchmark_value e ON e.kpi_id = kid.kpi_id AND e.benchmark = aid.benchmark AND e.year = t.year""")
    bench_counts = {f: (n, ins, upd) for f, n, ins, upd in con.execute(f"""
        SELECT file_no, count(*), count(*) FILTER (WHERE old IS NULL), count(*) FILTER (WHERE old <> value)
        FROM {bench} GROUP BY file_no""").fetchall()}
    con.execute(f"INSERT INTO benchmark_value SELECT kpi_id, benchmark, year, value, source FROM {bench} WHERE old IS NULL")
    con.execute(f"""UPDATE benchmark_value AS t SET value = d.value, source = d.source
                    FROM (SELECT * FROM {bench} WHERE old IS NOT NULL AND old <> value) d
                    WHERE t.kpi_id = d.kpi_id AND t.benchmark = d.benchmark AND t.year = d.year""")

    # 9. Summary.
    for sf, fr in zip(staged, summary.files[-len(staged):]):
        fr.sha256 = sf.sha256.result() if hasattr(sf.sha256, "result") else sf.sha256
    for i, fr in enumerate(summary.files[-len(staged):]):
        ins, upd, same = per_file[i]
        n, bins, bupd = bench_counts.get(i, (0, 0, 0))
        fr.inserted, fr.updated, fr.unchanged = ins, upd, same
        fr.benchmark_rows = n
        fr.skipped = per_file_skips.get(i, 0) + bench_gender_per_file.get(i, 0)
        summary.inserted += ins
        summary.updated += upd
        summary.unchanged += same
        summary.benchmark_rows += n
        summary.benchmark_inserted += bins
        summary.benchmark_updated += bupd
    return summary



def _create_typed(con, typed, union, kmap, amap, is_bench, markers, misses: bool = False) -> None:
    # area_miss/kpi_miss keep a raw string only where the maps had no entry (mostly NULL).
    miss = ("CASE WHEN a.state IS NULL THEN u.area_raw END AS area_miss, "
            "CASE WHEN k.state IS NULL THEN u.kpi_raw END AS kpi_miss," if misses else "")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {typed} AS
        SELECT u.file_no, u.rec, k.kpi_no, a.area_no, {is_bench} AS is_bench, u.y AS year, u.g, u.v AS value, {miss}
               CASE WHEN a.state IS NULL THEN {P_AREA_EMPTY} WHEN a.state <> 0 THEN a.state
                    WHEN k.state IS NULL THEN {P_KPI_EMPTY} WHEN k.state <> 0 THEN k.state
                    WHEN u.y IS NULL OR u.y NOT BETWEEN {YEAR_MIN} AND {YEAR_MAX} THEN {P_YEAR}
                    WHEN u.g IS NULL THEN {P_GENDER}
                    WHEN u.v IS NOT NULL THEN CASE WHEN isfinite(u.v) THEN 0 ELSE {P_VALUE} END
                    WHEN u.value_raw IS NULL OR trim(u.value_raw) IN ({markers}) THEN {P_MISSING}
                    ELSE {P_VALUE} END::TINYINT AS problem
        FROM (SELECT file_no, rec, area_raw, kpi_raw, value_raw,
                     TRY_CAST(year_raw AS INTEGER) AS y,
                     {_gender_sql('gender_raw')} AS g,
                     coalesce(TRY_CAST(value_raw AS DOUBLE),
                              TRY_CAST(replace(replace(replace(replace(trim(value_raw), ' ', ''), chr(160), ''), '%', ''), ',', '.') AS DOUBLE)) AS v
              FROM {union}) u
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
        return ImportFailure(culprit.path, None, f"filen går inte att läsa (unreadable file): {msg.splitlines()[0]}")
    return csv_failure(culprit.path, msg)


def _raw_row(con, staged, union, pos):
    file_no, rec = divmod(pos, _POS_SHIFT)
    row = con.execute(
        f"SELECT area_raw, kpi_raw, year_raw, value_raw, gender_raw FROM {union} WHERE file_no = ? AND rec = ?",
        [file_no, rec]).fetchall()[0]
    return staged[file_no], rec, dict(zip(("area", "kpi", "year", "value", "gender"), row))


_PROBLEMS = {
    P_AREA_EMPTY: lambda r: "kommun saknas (missing municipality)",
    P_KPI_EMPTY: lambda r: "nyckeltal saknas (missing KPI)",
    P_YEAR: lambda r: f"året {r['year']!r} är inte ett årtal (invalid year)",
    P_VALUE: lambda r: f"värdet {r['value']!r} är inte ett tal (non-numeric value)",
    P_GENDER: lambda r: f"könet {r['gender']!r} är inte T, K eller M (invalid gender)",
    P_AREA_UNKNOWN: lambda r: (f"okänd kommun {r['area']!r} (unknown municipality); använd kod eller "
                               f"Koladas exakta namn, eller --allow-unmapped för att hoppa över"),
    P_KPI_UNKNOWN: lambda r: (f"okänt nyckeltal {r['kpi']!r} (unknown KPI); lägg till det med --kpis "
                              f"META.csv, eller --allow-unmapped för att hoppa över"),
    P_BENCHMARK: lambda r: f"{r['area']!r} är en jämförelserad, inte en kommun (aggregate row not allowed here)",
}


def _raise_row_problem(con, staged, union, pos, name):
    sf, rec, raw = _raw_row(con, staged, union, pos)
    raise ImportFailure(sf.path, sf.locate(rec), _PROBLEMS[name](raw))


def _raise_duplicate(con, staged, union, first, second):
    sf1, rec1, raw1 = _raw_row(con, staged, union, first)
    sf2, rec2, raw2 = _raw_row(con, staged, union, second)
    where1 = sf1.locate(rec1)
    where1 = f"rad {where1}" if isinstance(where1, int) else where1
    if sf1.path != sf2.path:
        where1 = f"{sf1.path}, {where1}"
    raise ImportFailure(
        sf2.path, sf2.locate(rec2),
        f"dubblett med annat värde (duplicate key with a different value): {raw2['kpi']} / "
        f"{raw2['area']} / {raw2['year']} är {raw2['value']!r} här men {raw1['value']!r} på {where1}",
    )
