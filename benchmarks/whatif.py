"""What-if benchmark (issue 9): the `index_whatif` and `index_contributions` marts' computation
for all 290 municipalities × every KPI of the default index × every index year (two scenarios
each: the size group's median and its best quartile) — target ≤ 5 s on 2 cores.

Baseline in the same run: computing the index itself once per year (read the inputs and
`compute_index`), i.e. what `styrkort build` does anyway; the ratio says how many index
computations the whole what-if costs. Also printed: how many recomputed rankings the what-if
stands for (290 × KPIs × 2 per year), each of which would otherwise be one `compute_index`.

Figures are the median of --repeat runs.

    .venv/bin/python benchmarks/whatif.py [--db data/warehouse.duckdb] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("/tmp/styrkort_bench.duckdb")


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    db = args.db or DEFAULT_DB
    if not db.exists():
        print(f"building the embedded default into {db} …", flush=True)
        subprocess.run([sys.executable, "-m", "styrkort.cli", "build", "--db", str(db)], check=True, cwd=REPO)

    from pipelines.ranking.config import config_from_dict
    from pipelines.ranking.index import compute_index
    from pipelines.whatif import compute_all, default_index_runs, load_year

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = default_index_runs(con)

        def baseline():
            for year, cfg, _ in runs:
                values, munis, meta, resolved = load_year(con, year, config_from_dict(cfg))
                compute_index(values, munis, meta, resolved)

        base_s, _ = timed(baseline, args.repeat)
        whatif_s, (whatif, contrib) = timed(lambda: compute_all(con), args.repeat)
    finally:
        con.close()
    years = sorted(whatif["year"].unique()) if len(whatif) else []
    kpis = whatif.groupby("year")["kpi_id"].nunique().to_dict() if len(whatif) else {}
    rankings = int(len(whatif))
    print(f"warehouse: {db}")
    print(f"index years: {len(years)} ({years[0]}–{years[-1]})" if years else "index years: none")
    print(f"index KPIs per year: {kpis}")
    print(f"what-if rows (municipality × KPI × scenario × year): {rankings:,}".replace(",", " "))
    print(f"contribution rows: {len(contrib):,}".replace(",", " "))
    print(f"baseline, the index once per year (read + compute_index): {base_s:.3f} s")
    print(f"what-if marts, all years (read + compute):                {whatif_s:.3f} s   target <= 5 s")
    print(f"ratio what-if / baseline: {whatif_s / base_s:.1f}x "
          f"(each of the {rankings:,} rows is one recomputed ranking)".replace(",", " "))
    print("OK" if whatif_s <= 5.0 else "SLOWER THAN THE 5 s TARGET")


if __name__ == "__main__":
    main()
