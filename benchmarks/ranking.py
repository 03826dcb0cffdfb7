"""Ranking benchmark (issue 3).

A. Index + ranks + selection for every year of the warehouse (default config), read from
   the public views — target ≤ 1 s. Baseline in the same run: a bare DuckDB scan of
   kpi_values (gender 'T') into pandas. Also timed: the same with the marts written
   (run_index + run_select on a scratch copy), as `styrkort build` does it.
B. Rank uncertainty, 1 000 draws for 290 municipalities × 40 KPIs × 15 years (synthetic
   data in memory) — target ≤ 5 s on 2 cores. Baseline in the same run: a bare numpy argsort
   of the same 290 × 1 000 composite matrix for each of the 15 years.

Figures are the median of --repeat runs.

    .venv/bin/python benchmarks/ranking.py [--db data/warehouse.duckdb] [--repeat 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def open_warehouse(db: Path | None):
    """The given warehouse, or a synthetic one (290 × 7 years) in memory if there is none."""
    if db is not None and db.exists():
        return duckdb.connect(str(db), read_only=True), str(db)
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # test fixtures
    from ranking_fixtures import synthetic_warehouse

    con = duckdb.connect()
    synthetic_warehouse(con, n=290, years=range(2007, 2014))
    return con, "synthetic in-memory warehouse (290 × 2007–2013; no --db file found)"


def bench_index(db: Path | None, repeat: int) -> None:
    from pipelines.ranking.pipeline import index_years, load_inputs
    from pipelines.ranking.config import load_config
    from pipelines.ranking.index import compute_index
    from pipelines.ranking.selection import select

    con, label = open_warehouse(db)
    config = load_config()
    years = index_years(con, config)

    def all_years():
        for y in years:
            inp = load_inputs(con, y, config)
            res = compute_index(inp.values, inp.municipalities, inp.kpi_meta, config)
            ranked = res.composite.merge(inp.municipalities[["municipality_code", "name", "county_code",
                                                              "county_name"]], on="municipality_code")
            select(ranked)
            select(ranked, max_per_county=1)

    def scan():
        con.execute("SELECT * FROM kpi_values WHERE gender = 'T'").df()

    t_index = timed(all_years, repeat)
    t_scan = timed(scan, repeat)
    n_rows = con.execute("SELECT count(*) FROM kpi_values WHERE gender = 'T'").fetchone()[0]
    print(f"A. index + ranks + selection (plain and county rule), {len(years)} years "
          f"({years[0]}–{years[-1]}), {label}")
    print(f"   in memory from the views : {t_index * 1000:8.1f} ms   (target ≤ 1000 ms)"
          f"  {'OK' if t_index <= 1 else 'OVER TARGET'}")
    print(f"   baseline: bare scan of kpi_values ({n_rows} rows) : {t_scan * 1000:8.1f} ms"
          f"   ratio {t_index / t_scan:5.1f}×")

    if db is not None and db.exists():
        con.close()
        from pipelines.ranking.pipeline import run_index, run_select

        with tempfile.TemporaryDirectory() as tmp:
            scratch = Path(tmp) / "w.duckdb"
            shutil.copy(db, scratch)
            wcon = duckdb.connect(str(scratch))

            def stored():
                for y in years:
                    idx = run_index(wcon, y, config)
                    run_select(wcon, y, index=idx)

            t_stored = timed(stored, repeat)
            wcon.close()
        print(f"   with marts written (run_index + run_select) : {t_stored * 1000:8.1f} ms"
              f"   ratio {t_stored / t_scan:5.1f}×")
    else:
        con.close()


def bench_uncertainty(repeat: int, draws: int = 1000, n: int = 290, k: int = 40, years: int = 15) -> None:
    from pipelines.ranking.uncertainty import simulate, summarise

    rng = np.random.default_rng(0)
    data = [rng.normal(50, 10, size=(n, k)) for _ in range(years)]
    area_matrix = np.kron(np.eye(8), np.full((5, 1), 1 / 5))       # 8 areas × 5 KPIs
    weights = np.array([2.0, 1, 1, 1, 1, 1, 1, 1])
    groups = rng.choice(np.array(["small", "medium", "large"], dtype=object), size=n, p=[0.4, 0.45, 0.15])
    codes = [f"{i:04d}" for i in range(n)]

    def mc():
        for y, X in enumerate(data):
            summarise(simulate(X, area_matrix, weights, groups, draws, seed=y), codes)

    C = [rng.normal(size=(draws, n)) for _ in range(years)]

    def baseline():
        for c in C:   # one sort per draw over contiguous memory, numpy's default quicksort
            np.argsort(c, axis=1)

    t_mc = timed(mc, repeat)
    t_base = timed(baseline, repeat)
    print(f"B. rank uncertainty: {draws} draws × {n} municipalities × {k} KPIs × {years} years (synthetic)")
    print(f"   Monte Carlo + summary    : {t_mc * 1000:8.1f} ms   (target ≤ 5000 ms)"
          f"  {'OK' if t_mc <= 5 else 'OVER TARGET'}")
    print(f"   baseline: bare numpy argsort of {years} × ({draws} draws × {n}) : {t_base * 1000:8.1f} ms"
          f"   ratio {t_mc / t_base:5.1f}×")


def main() -> None:
    from styrkort.paths import REPO_ROOT, default_db

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="warehouse (default: STYRKORT_DB or data/warehouse.duckdb)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    db = args.db or default_db()
    if not db.is_absolute() and not db.exists():
        db = REPO_ROOT / db
    bench_index(db, args.repeat)
    bench_uncertainty(args.repeat)


if __name__ == "__main__":
    main()
