"""Economy pipelines: how long the steps take, and the two design choices measured against a
baseline in the same run.

  1. Trends: closed-form vectorised OLS over every (KPI, municipality) series vs the baseline
     of one statsmodels OLS fit per series (timed on a sample, scaled to all series).
  2. Scorecard read (/kommun page): one municipality's rows from the mart stored sorted by
     municipality_code (as the pipeline writes it) vs the same rows from an unsorted copy
     (zone maps cannot skip row groups). Median and p95 over all 290 codes.
  3. The whole `economy.run_default` on a copy of the warehouse.

    .venv/bin/python benchmarks/economy.py [--db PATH] [--scale K]

--db defaults to /tmp/styrkort_bench.duckdb (built with `styrkort build` if missing).
--scale K replicates the KPI series K times (as pseudo-KPIs) for the trends measurement, to
see Kolada-scale behaviour (default 1 = the embedded data)."""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_DB = Path("/tmp/styrkort_bench.duckdb")


def _ensure(db: Path) -> None:
    if not db.exists():
        from styrkort.build import build

        print(f"building {db} …", flush=True)
        build(db, quiet=True)


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q / 100 * len(xs)) - 1))]


def bench_trends(con, scale: int) -> None:
    import numpy as np
    import statsmodels.api as sm

    from pipelines.trends import compute, load_inputs

    values = load_inputs(con)
    if scale > 1:
        import pandas as pd

        parts = []
        for k in range(scale):
            p = values.copy()
            p["kpi_id"] = p["kpi_id"] + f"_x{k}"
            parts.append(p)
        values = pd.concat(parts, ignore_index=True)
    t0 = time.perf_counter()
    res = compute(values)
    t_vec = time.perf_counter() - t0
    n_series = len(res)
    # Baseline: statsmodels per series, on a sample of series in the same windows.
    from pipelines.trends import window

    w = window(values)
    groups = list(w.groupby(["kpi_id", "municipality_code"]))
    groups = [g for g in groups if len(g[1]) >= 3]
    rng = np.random.default_rng(1)
    sample = [groups[i] for i in rng.choice(len(groups), size=min(400, len(groups)), replace=False)]
    t0 = time.perf_counter()
    for _, g in sample:
        fit = sm.OLS(g["value"].to_numpy(), sm.add_constant(g["year"].to_numpy(float))).fit()
        fit.conf_int(0.05)
    t_loop = (time.perf_counter() - t0) / len(sample) * n_series
    print(f"trends: {n_series:,} series  vectorised {t_vec:.3f} s  |  baseline statsmodels per series "
          f"≈ {t_loop:.1f} s (from {len(sample)} fits)  →  {t_loop / t_vec:.0f}× faster")


def bench_scorecard_read(con, reps: int = 1) -> None:
    codes = [r[0] for r in con.execute("SELECT DISTINCT municipality_code FROM scorecard ORDER BY 1").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE scorecard_unsorted AS SELECT * FROM mart_scorecard ORDER BY random()")
    n_rows = con.execute("SELECT count(*) FROM mart_scorecard").fetchall()[0][0]
    out = {}
    for name, table in (("sorted mart", "mart_scorecard"), ("unsorted copy (baseline)", "scorecard_unsorted")):
        times = []
        for _ in range(reps):
            for code in codes:
                t0 = time.perf_counter()
                con.execute(f"SELECT kpi_id, year, value, group_mean, national_mean, group_rank, group_n, status "
                            f"FROM {table} WHERE municipality_code = ?", [code]).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
        out[name] = (statistics.median(times), _pct(times, 95))
        print(f"scorecard read, {name}: {n_rows:,} rows, median {out[name][0]:.2f} ms, p95 {out[name][1]:.2f} ms "
              f"({len(times)} reads)")
    s, u = out["sorted mart"], out["unsorted copy (baseline)"]
    print(f"scorecard read: sorted/unsorted median ratio {s[0] / u[0]:.2f}")


def bench_run_default(db: Path) -> None:
    import duckdb

    from pipelines import economy

    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "w.duckdb"
        shutil.copy(db, copy)
        con = duckdb.connect(str(copy))
        steps = {}
        from pipelines.cost import run_cost
        from pipelines.economy_associations import run_associations
        from pipelines.grants import run_grants
        from pipelines.scorecard import run_scorecard
        from pipelines.trends import run_trends

        for name, fn in (("cost", run_cost), ("associations", run_associations), ("trends", run_trends),
                         ("scorecard", run_scorecard), ("grants", run_grants)):
            t0 = time.perf_counter()
            fn(con)
            steps[name] = time.perf_counter() - t0
        t0 = time.perf_counter()
        economy.run_default(con)
        total = time.perf_counter() - t0
        con.close()
    print("economy steps: " + ", ".join(f"{k} {v:.2f} s" for k, v in steps.items())
          + f"; run_default total {total:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=DEFAULT_DB)
    ap.add_argument("--scale", type=int, default=1)
    args = ap.parse_args()
    _ensure(args.db)
    import duckdb

    bench_run_default(args.db)
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "r.duckdb"
        shutil.copy(args.db, copy)
        con = duckdb.connect(str(copy))
        bench_trends(con, args.scale)
        bench_scorecard_read(con)
        con.close()


if __name__ == "__main__":
    main()
