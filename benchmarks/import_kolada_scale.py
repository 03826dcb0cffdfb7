"""Benchmark: `styrkort import kolada` at Kolada scale, against a bare DuckDB read_csv of the
same file in the same run.

    .venv/bin/python benchmarks/import_kolada_scale.py              # 5 100 KPIs: 25 143 000 values
    .venv/bin/python benchmarks/import_kolada_scale.py --kpis 200   # quick check (~1 M values)

1. Generates a long Kolada extract ``Variabelkod,Kommun,År,Värde`` (municipalities by their
   Kolada/SCB *name*, 17 years 1998–2014, 0.5 % empty values) under benchmarks/out/ (gitignored).
2. Baseline: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` into a fresh DuckDB file
   (parse + type + store; no validation, no mapping, no keys).
3. Importer: a fresh warehouse (schema, the 290 municipalities and aliases, one `kpi` row per
   KPI — every 10th with a Balansen perspective), then ``import_kolada`` in one transaction:
   encoding check, staging, validation, name/id mapping, duplicate check, insert, commit.
4. Prints rows/s for both and the ratio importer ÷ baseline (target ≥ 0.5), and leaves the
   warehouse at benchmarks/out/kolada_scale.duckdb (used by the dashboard benchmarks). Also the
   CPU seconds of each (all threads of this process): on a busy machine the wall-clock ratio
   swings with the load, the CPU ratio much less.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

OUT = REPO / "benchmarks" / "out"
YEARS = range(1998, 2015)
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")


def kpi_id(k: int) -> str:
    return f"B{k:05d}"


def generate(path: Path, n_kpis: int) -> int:
    """Write the CSV with DuckDB (deterministic values). Returns the number of data rows."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE m AS SELECT row_number() OVER (ORDER BY municip_code) - 1 AS i, municip_name AS name
                   FROM (SELECT DISTINCT municip_code, municip_name FROM read_csv(?, all_varchar=true))""",
                [str(REPO / "warehouse" / "sources" / "scb_municipality_panel.csv")])
    n_m = con.execute("SELECT count(*) FROM m").fetchone()[0]
    con.execute(f"""
        COPY (
          SELECT printf('B%05d', k) AS "Variabelkod", m.name AS "Kommun", y AS "År",
                 CASE WHEN hash(k, m.i, y) % 200 = 0 THEN NULL
                      ELSE round((hash(k, m.i, y) % 1000000) / 100.0, 2) END AS "Värde"
          FROM range({n_kpis}) t1(k), m, range({YEARS.start}, {YEARS.stop}) t3(y)
          ORDER BY k, m.i, y
        ) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()
    return n_kpis * n_m * len(YEARS)


PK_COLUMNS = "kpi_id, municipality_code, year, gender"
KPI_VALUE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS kpi_value \((?P<body>.*?)\n\);", re.S)
PK_RE = re.compile(r"^[ \t]*PRIMARY KEY \(kpi_id, municipality_code, year, gender\),?[ \t]*(\n|$)", re.M)


def kpi_value_has_pk(tables: str) -> bool:
    m = KPI_VALUE_TABLE.search(tables)
    if m is None:
        raise SystemExit("CREATE TABLE kpi_value not found in 01_tables.sql; update the benchmark")
    return PK_RE.search(m.group("body")) is not None


def tables_with_pk(tables: str, want: bool) -> str:
    """01_tables.sql with kpi_value's PRIMARY KEY added (want) or removed (not want): found by
    its table block, not by an exact line, so comments and column order may change."""
    m = KPI_VALUE_TABLE.search(tables)
    if m is None:
        raise SystemExit("CREATE TABLE kpi_value not found in 01_tables.sql; update the benchmark")
    body = m.group("body")
    has = PK_RE.search(body) is not None
    if want and not has:
        body = body.rstrip() + f",\n    PRIMARY KEY ({PK_COLUMNS})"
        body = body.replace(",,", ",")
    elif not want and has:
        body = PK_RE.sub("", body)
        body = re.sub(r",(\s*(--[^\n]*\n\s*)*)$", r"\1", body.rstrip())
    return tables[:m.start("body")] + body + tables[m.end("body"):]


def fresh_warehouse(path: Path, n_kpis: int, variant: str = "schema"):
    """variant 'schema': warehouse/schema as it is. 'pk' / 'no-pk': kpi_value with / without a
    PRIMARY KEY (an ART index) on its key, to measure what that index costs a bulk load."""
    from warehouse.db import apply_schema, schema_sql
    from warehouse.loaders import load_aliases, load_municipalities

    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    if variant in ("pk", "no-pk"):
        con.execute(tables_with_pk(schema_sql("01_tables.sql"), want=(variant == "pk")))
    apply_schema(con)
    load_municipalities(con)
    load_aliases(con)
    con.execute(f"""
        INSERT INTO kpi (kpi_id, title, unit, higher_is_better, perspective, area, source, is_demo)
        SELECT printf('B%05d', k), printf('Benchmark-nyckeltal %d (syntetiskt)', k), '%',
               CASE WHEN k % 3 = 0 THEN NULL ELSE k % 2 = 0 END,
               CASE WHEN k % 10 = 0 THEN ['omsorgstagare','ekonomi','medarbetare','verksamhet'][(k // 10) % 4 + 1] END,
               CASE WHEN k % 10 = 0 THEN 'Benchmark' END,
               'styrkort benchmark (synthetic)', true
        FROM range({n_kpis}) t(k)""")
    con.execute("CHECKPOINT")
    return con


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kpis", type=int, default=5100, help="number of KPIs (× 290 municipalities × 17 years)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--regenerate", action="store_true", help="write the CSV even if it exists")
    ap.add_argument("--repeat", type=int, default=3, help="pairs (baseline, import) per variant; median reported")
    ap.add_argument("--variants", nargs="+", default=["schema", "pk"], choices=["schema", "pk", "no-pk"],
                    help="schema: the warehouse schema as is; pk / no-pk: kpi_value with / without a PRIMARY KEY")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = args.out / f"kolada_scale_{args.kpis}.csv"
    wh_path = args.out / "kolada_scale.duckdb"
    bare_path = args.out / "bare_read_csv.duckdb"

    t = time.perf_counter()
    if args.regenerate or not csv_path.exists():
        generate(csv_path, args.kpis)
        print(f"generated {csv_path} in {time.perf_counter() - t:.1f} s")
    size_mb = csv_path.stat().st_size / 1e6

    from warehouse.importers.kolada import import_kolada

    def bare_read_csv() -> tuple[float, int]:
        """Baseline: bare read_csv into a table of a fresh DuckDB file."""
        for p in (bare_path, Path(f"{bare_path}.wal")):
            p.unlink(missing_ok=True)
        con = duckdb.connect(str(bare_path))
        t, c = time.perf_counter(), time.process_time()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_path}')")
        s, cpu = time.perf_counter() - t, time.process_time() - c
        n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
        con.close()
        for p in (bare_path, Path(f"{bare_path}.wal")):
            p.unlink(missing_ok=True)
        return s, cpu, n

    def importer(variant: str):
        """Fresh warehouse, then import_kolada in one transaction (timed incl. COMMIT)."""
        path = wh_path if variant == "schema" else args.out / f"kolada_scale_{variant}.duckdb"
        con = fresh_warehouse(path, args.kpis, variant)
        t, c = time.perf_counter(), time.process_time()
        con.execute("BEGIN")
        summary = import_kolada(con, [csv_path], source="styrkort benchmark (synthetic Kolada-scale file)")
        con.execute("COMMIT")
        s, cpu = time.perf_counter() - t, time.process_time() - c
        con.close()
        return s, cpu, summary, path

    # The machine is shared: each importer run is paired with a baseline run right before it,
    # all in this one process, and the median of --repeat pairs is reported for each.
    print(f"file: {csv_path.name}, {size_mb:,.0f} MB, {os.cpu_count()} cores")
    from warehouse.db import schema_sql

    schema_has_pk = kpi_value_has_pk(schema_sql("01_tables.sql"))
    print(f"warehouse/schema: kpi_value {'has' if schema_has_pk else 'has no'} PRIMARY KEY")
    for variant in args.variants:
        if variant != "schema" and (variant == "pk") == schema_has_pk:
            print(f"[{variant}] same as the schema as it is: skipped")
            continue
        bare_runs, imp_runs, bare_cpu, imp_cpu = [], [], [], []
        for _ in range(args.repeat):
            bare_s, bare_c, n_rows = bare_read_csv()
            imp_s, imp_c, summary, path = importer(variant)
            bare_runs.append(bare_s)
            imp_runs.append(imp_s)
            bare_cpu.append(bare_c)
            imp_cpu.append(imp_c)
        bare_best, imp_best = statistics.median(bare_runs), statistics.median(imp_runs)
        size = path.stat().st_size / 1e6
        if variant == "schema":
            # Synthetic values: flag them so no screen mistakes them for real data (not timed).
            con = duckdb.connect(str(path))
            con.execute("UPDATE value_source SET is_demo = true")
            con.execute("CHECKPOINT")
            con.close()
        else:
            for p in (path, Path(f"{path}.wal")):
                p.unlink(missing_ok=True)
        bare_rps, imp_rps = n_rows / bare_best, n_rows / imp_best
        label = {"schema": "kpi_value as in the schema", "pk": "kpi_value with a PRIMARY KEY",
                 "no-pk": "kpi_value without PRIMARY KEY"}[variant]
        print(f"[{label}] {n_rows:,} rows, median of {args.repeat} runs (baseline runs "
              + ", ".join(f"{x:.2f}" for x in bare_runs) + " s; importer " + ", ".join(f"{x:.2f}" for x in imp_runs) + " s)")
        print(f"  bare DuckDB read_csv -> table : {bare_best:7.2f} s  {bare_rps:12,.0f} rows/s")
        print(f"  styrkort import kolada        : {imp_best:7.2f} s  {imp_rps:12,.0f} rows/s  "
              f"(inserted {summary.inserted:,}, skipped {summary.skipped:,}; warehouse {size:,.0f} MB)")
        print(f"  ratio importer / bare read_csv: {imp_rps / bare_rps:.2f}  (target >= 0.5)")
        bc, ic = statistics.median(bare_cpu), statistics.median(imp_cpu)
        print(f"  CPU seconds (all threads)     : bare {bc:.2f}, importer {ic:.2f}; CPU ratio {bc / ic:.2f}")
    if "schema" in args.variants:
        print(f"warehouse left at {wh_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
