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

import pandas as pd

from warehouse.importers.common import (
    MISSING_MARKERS, FileResult, ImportFailure, ImportSummary, StagedFile, drop_tables, tmp_name,
)

YEAR_MIN, YEAR_MAX = 1900, 2100
_POS_SHIFT = 1 << 40   # position = file_no * 2^40 + record: one sortable number for "first"


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


def _import(con, staged, summary, resolve_areas, resolve_kpis, allow_unmapped, sources,
            kpi_source, allow_benchmarks, temps):
    for sf in staged:
        summary.files.append(FileResult(file=str(sf.path), sha256=sf.sha256))
        if sf.rows == 0:
            raise ImportFailure(sf.path, None, "filen har inga datarader (empty file: no data rows)")

    # 1. One view over all staged files of this command.
    union = tmp_name("all")
    temps.append(union)
    parts = []
    for i, sf in enumerate(staged):
        cols = {r for (r,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND database_name = 'temp'",
            [sf.table]).fetchall()}
        g = "gender_raw" if "gender_raw" in cols else "NULL::VARCHAR"
        # Inside a transaction DuckDB numbers new rows from a large offset (transaction-local
        # row ids), in insertion order: the record number is the distance from the first.
        base = con.execute(f"SELECT coalesce(min(rowid), 0) FROM {sf.table}").fetchone()[0]
        parts.append(f"SELECT {i} AS file_no, rowid - {base} AS rec, area_raw, kpi_raw, year_raw, value_raw, "
                     f"{g} AS gender_raw FROM {sf.table}")
    con.execute(f"CREATE TEMP VIEW {union} AS " + " UNION ALL ".join(parts))

    # 2. Distinct names -> Python resolvers -> mapping tables.
    areas = [r[0] for r in con.execute(f"SELECT DISTINCT area_raw FROM {union} WHERE area_raw IS NOT NULL").fetchall()]
    kpis = [r[0] for r in con.execute(f"SELECT DISTINCT kpi_raw FROM {union} WHERE kpi_raw IS NOT NULL").fetchall()]
    area_t = resolve_areas(areas)
    kpi_t = resolve_kpis(kpis)
    area_keys: dict[tuple, int] = {}
    arows = []
    for raw in areas:
        t = area_t[raw]
        no = None
        if not t.unknown:
            no = area_keys.setdefault((t.municipality_code, t.benchmark), len(area_keys))
        arows.append((raw, t.municipality_code, t.benchmark, no, t.unknown))
    kpi_keys: dict[str, int] = {}
    krows = []
    for raw in kpis:
        t = kpi_t[raw]
        no = None if t.kpi_id is None else kpi_keys.setdefault(t.kpi_id, len(kpi_keys))
        krows.append((raw, t.kpi_id, no))
    amap, kmap = tmp_name("amap"), tmp_name("kmap")
    temps += [amap, kmap]
    _frame_table(con, amap, pd.DataFrame(arows, columns=["area_raw", "municipality_code", "benchmark", "area_no", "unknown"]),
                 {"area_raw": "VARCHAR", "municipality_code": "VARCHAR", "benchmark": "VARCHAR", "area_no": "BIGINT", "unknown": "BOOLEAN"})
    _frame_table(con, kmap, pd.DataFrame(krows, columns=["kpi_raw", "kpi_id", "kpi_no"]),
                 {"kpi_raw": "VARCHAR", "kpi_id": "VARCHAR", "kpi_no": "BIGINT"})
    n_area = max(1, len(area_keys))

    # 3. Typed rows: casts and joins in one pass.
    markers = _sql_list(MISSING_MARKERS)
    typed = tmp_name("typed")
    temps.append(typed)
    con.execute(f"""
        CREATE TEMP TABLE {typed} AS
        SELECT u.file_no, u.rec, u.file_no * {_POS_SHIFT} + u.rec AS pos,
               k.kpi_id, k.kpi_no, a.municipality_code, a.benchmark, a.area_no,
               (u.area_raw IS NULL OR trim(u.area_raw) = '') AS area_empty,
               coalesce(a.unknown, false) AS area_unknown,
               (u.kpi_raw IS NULL OR trim(u.kpi_raw) = '') AS kpi_empty,
               (u.kpi_raw IS NOT NULL AND trim(u.kpi_raw) <> '' AND k.kpi_id IS NULL) AS kpi_unknown,
               TRY_CAST(trim(u.year_raw) AS INTEGER) AS year,
               CASE upper(trim(coalesce(u.gender_raw, '')))
                    WHEN '' THEN 'T' WHEN 'T' THEN 'T' WHEN 'TOTALT' THEN 'T' WHEN 'TOTAL' THEN 'T'
                    WHEN 'K' THEN 'K' WHEN 'KVINNOR' THEN 'K' WHEN 'KVINNA' THEN 'K'
                    WHEN 'M' THEN 'M' WHEN 'MÄN' THEN 'M' WHEN 'MAN' THEN 'M' END AS gender,
               (u.value_raw IS NULL OR trim(u.value_raw) IN ({markers})) AS is_missing,
               coalesce(TRY_CAST(u.value_raw AS DOUBLE),
                        TRY_CAST(replace(replace(replace(replace(trim(u.value_raw), ' ', ''), chr(160), ''), '%', ''), ',', '.') AS DOUBLE)
               ) AS value
        FROM {union} u
        LEFT JOIN {kmap} k ON u.kpi_raw = k.kpi_raw
        LEFT JOIN {amap} a ON u.area_raw = a.area_raw
    """)

    # 4. Validation: the first offending row of each kind, then the earliest of those.
    y0, y1 = YEAR_MIN, YEAR_MAX
    checks = {
        "area_empty": "area_empty",
        "kpi_empty": "kpi_empty",
        "year": f"(year IS NULL OR year NOT BETWEEN {y0} AND {y1})",
        "value": "(NOT is_missing AND (value IS NULL OR NOT isfinite(value)))",
        "gender": "gender IS NULL",
    }
    if not allow_unmapped:
        checks["area_unknown"] = "area_unknown"
        checks["kpi_unknown"] = "kpi_unknown"
    if not allow_benchmarks:
        checks["benchmark"] = "benchmark IS NOT NULL"
    sel = ", ".join(f"min(pos) FILTER (WHERE {cond})" for cond in checks.values())
    firsts = con.execute(f"SELECT {sel} FROM {typed}").fetchone()
    bad = [(p, name) for p, name in zip(firsts, checks) if p is not None]
    if bad:
        pos, name = min(bad)
        _raise_row_problem(con, staged, union, pos, name)

    ok = (f"NOT area_empty AND NOT kpi_empty AND NOT area_unknown AND NOT kpi_unknown "
          f"AND NOT is_missing")
    counts = con.execute(f"""
        SELECT count(*) FILTER (WHERE is_missing AND NOT area_unknown AND NOT kpi_unknown),
               count(*) FILTER (WHERE area_unknown),
               count(*) FILTER (WHERE kpi_unknown AND NOT area_unknown)
        FROM {typed}""").fetchone()
    summary.skip("tomt värde eller saknat-markör (empty value / missing marker)", counts[0])
    summary.skip("okänd kommun, hoppades över (unmapped municipality, --allow-unmapped)", counts[1])
    summary.skip("okänt nyckeltal, hoppades över (unmapped KPI, --allow-unmapped)", counts[2])
    per_file_skips = dict(con.execute(
        f"SELECT file_no, count(*) FROM {typed} WHERE NOT ({ok}) GROUP BY file_no").fetchall())
    if counts[1] or counts[2]:
        unknown_names = [a for a in areas if area_t[a].unknown] + [k for k in kpis if kpi_t[k].kpi_id is None]
        summary.unmapped.extend(sorted(set(unknown_names)))
        summary.warnings.append("Okända namn hoppades över (unmapped, skipped): " + ", ".join(sorted(set(unknown_names))))

    # 5. Duplicates: one integer key per (KPI, area, year, gender); fast check first.
    key = (f"((kpi_no * {n_area} + area_no) * {y1 - y0 + 1} + (year - {y0})) * 3 "
           f"+ CASE gender WHEN 'T' THEN 0 WHEN 'K' THEN 1 ELSE 2 END")
    good = tmp_name("good")
    temps.append(good)
    con.execute(f"CREATE TEMP VIEW {good} AS SELECT *, {key} AS k FROM {typed} WHERE {ok}")
    n_dup_keys = con.execute(
        f"SELECT count(*) FROM (SELECT k FROM {good} GROUP BY k HAVING count(*) > 1)").fetchone()[0]
    rows_src = good
    if n_dup_keys:
        conflict = con.execute(f"""
            SELECT list(pos ORDER BY pos), list(value ORDER BY pos) FROM {good} GROUP BY k
            HAVING count(*) > 1 AND min(value) <> max(value) ORDER BY min(pos) LIMIT 1""").fetchone()
        if conflict:
            positions, values = conflict
            second = next(p for p, v in zip(positions, values) if v != values[0])
            _raise_duplicate(con, staged, union, positions[0], second)
        n_copies = con.execute(
            f"SELECT sum(n - 1) FROM (SELECT count(*) AS n FROM {good} GROUP BY k HAVING count(*) > 1)").fetchone()[0]
        summary.skip("dubblett med samma värde (duplicate row, same value)", int(n_copies))
        dedup = tmp_name("dedup")
        temps.append(dedup)
        con.execute(f"CREATE TEMP VIEW {dedup} AS SELECT * FROM {good} QUALIFY row_number() OVER (PARTITION BY k ORDER BY pos) = 1")
        rows_src = dedup
        dup_per_file = dict(con.execute(f"""
            SELECT file_no, count(*) FROM (
                SELECT file_no, row_number() OVER (PARTITION BY k ORDER BY pos) AS rn FROM {good})
            WHERE rn > 1 GROUP BY file_no""").fetchall())
        for f, n in dup_per_file.items():
            per_file_skips[f] = per_file_skips.get(f, 0) + n

    # Aggregate rows by gender: benchmark_value holds totals only.
    n_bench_gender = con.execute(
        f"SELECT count(*) FROM {rows_src} WHERE benchmark IS NOT NULL AND gender <> 'T'").fetchone()[0]
    summary.skip("jämförelserad per kön (aggregate row by gender; benchmarks hold totals)", n_bench_gender)

    # 6. New KPIs first, so every value has its KPI row.
    used = [r[0] for r in con.execute(f"SELECT DISTINCT kpi_id FROM {rows_src}").fetchall()]
    existing = {r[0] for r in con.execute("SELECT kpi_id FROM kpi").fetchall()}
    targets = {t.kpi_id: t for t in kpi_t.values() if t.kpi_id}
    for kid in sorted(set(used) - existing):
        t = targets[kid]
        con.execute("INSERT INTO kpi (kpi_id, title, description, source, is_demo) VALUES (?, ?, ?, ?, false)",
                    [kid, t.title or kid, t.description, kpi_source])
        summary.new_kpis.append(kid)

    # 7. Municipality values: diff against the warehouse, then insert and update.
    src_case = "CASE file_no " + " ".join(
        f"WHEN {i} THEN '{s.replace(chr(39), chr(39) * 2)}'" for i, s in enumerate(sources)) + " END"
    muni = f"(SELECT * FROM {rows_src} WHERE municipality_code IS NOT NULL)"
    kpi_ids = [r[0] for r in con.execute(f"SELECT kpi_id FROM {kmap} WHERE kpi_id IS NOT NULL").fetchall()]
    has_existing = bool(kpi_ids) and con.execute(
        f"SELECT EXISTS (SELECT 1 FROM kpi_value WHERE kpi_id IN (SELECT kpi_id FROM {kmap}))").fetchone()[0]
    per_file = {i: [0, 0, 0] for i in range(len(staged))}   # inserted, updated, unchanged
    if not has_existing:
        # Fast path (fresh KPIs): every row is new; no join against the big table.
        for f, n in con.execute(f"SELECT file_no, count(*) FROM {muni} GROUP BY file_no").fetchall():
            per_file[f][0] += n
        con.execute(f"""INSERT INTO kpi_value (kpi_id, municipality_code, year, gender, value, source, is_demo)
                        SELECT kpi_id, municipality_code, year, gender, value, {src_case}, false FROM {muni}""")
    else:
        diff = tmp_name("diff")
        temps.append(diff)
        con.execute(f"""
            CREATE TEMP TABLE {diff} AS
            SELECT m.file_no, m.kpi_id, m.municipality_code, m.year, m.gender, m.value,
                   {src_case.replace('file_no', 'm.file_no')} AS source, e.value AS old
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
        SELECT b.file_no, b.kpi_id, b.benchmark, b.year, b.value,
               {src_case.replace('file_no', 'b.file_no')} AS source, e.value AS old
        FROM (SELECT * FROM {rows_src} WHERE benchmark IS NOT NULL AND gender = 'T') b
        LEFT JOIN benchmark_value e ON e.kpi_id = b.kpi_id AND e.benchmark = b.benchmark AND e.year = b.year""")
    bench_counts = {f: (n, ins, upd) for f, n, ins, upd in con.execute(f"""
        SELECT file_no, count(*), count(*) FILTER (WHERE old IS NULL), count(*) FILTER (WHERE old <> value)
        FROM {bench} GROUP BY file_no""").fetchall()}
    con.execute(f"INSERT INTO benchmark_value SELECT kpi_id, benchmark, year, value, source FROM {bench} WHERE old IS NULL")
    con.execute(f"""UPDATE benchmark_value AS t SET value = d.value, source = d.source
                    FROM (SELECT * FROM {bench} WHERE old IS NOT NULL AND old <> value) d
                    WHERE t.kpi_id = d.kpi_id AND t.benchmark = d.benchmark AND t.year = d.year""")

    # 9. Summary.
    bench_gender_per_file = dict(con.execute(
        f"SELECT file_no, count(*) FROM {rows_src} WHERE benchmark IS NOT NULL AND gender <> 'T' GROUP BY file_no").fetchall())
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


def _frame_table(con, name: str, df: pd.DataFrame, types: dict[str, str]) -> None:
    view = name + "_src"
    con.register(view, df)
    try:
        cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {cols} FROM {view}")
    finally:
        con.unregister(view)


def _raw_row(con, staged, union, pos):
    file_no, rec = divmod(pos, _POS_SHIFT)
    row = con.execute(
        f"SELECT area_raw, kpi_raw, year_raw, value_raw, gender_raw FROM {union} WHERE file_no = ? AND rec = ?",
        [file_no, rec]).fetchone()
    return staged[file_no], rec, dict(zip(("area", "kpi", "year", "value", "gender"), row))


_PROBLEMS = {
    "area_empty": lambda r: "kommun saknas (missing municipality)",
    "kpi_empty": lambda r: "nyckeltal saknas (missing KPI)",
    "year": lambda r: f"året {r['year']!r} är inte ett årtal (invalid year)",
    "value": lambda r: f"värdet {r['value']!r} är inte ett tal (non-numeric value)",
    "gender": lambda r: f"könet {r['gender']!r} är inte T, K eller M (invalid gender)",
    "area_unknown": lambda r: (f"okänd kommun {r['area']!r} (unknown municipality); använd kod eller "
                               f"Koladas exakta namn, eller --allow-unmapped för att hoppa över"),
    "kpi_unknown": lambda r: (f"okänt nyckeltal {r['kpi']!r} (unknown KPI); lägg till det med --kpis "
                              f"META.csv, eller --allow-unmapped för att hoppa över"),
    "benchmark": lambda r: f"{r['area']!r} är en jämförelserad, inte en kommun (aggregate row not allowed here)",
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
