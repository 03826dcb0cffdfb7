"""Server-side time of the scorecard behind /kommun/<code>.

Measures, in one process on one read-only connection (dashboard.data.Warehouse):
  * scorecard_data(db, code, year, lang)     – the data fetch of the scorecard callback
  * the page's layout function (if dashboard/pages/kommun.py has one), i.e. data + components
  * baseline: a bare DuckDB point query on the same connection
    (SELECT value FROM scorecard WHERE municipality_code=? AND kpi_id=? AND year=?)
over all municipality codes × --reps repetitions, alternating the latest year and an earlier
one. Targets: p95 ≤ 50 ms on the embedded default (issue 4), ≤ 25 ms on the Kolada-scale
warehouse (issue 11, item 7). The layout is measured uncached: each code once, so every render
misses the page cache (the rendered layouts it keeps stay in memory, as in the server).

    .venv/bin/python benchmarks/dashboard_callback.py [--db PATH] [--kolada PATH] [--reps 3]

--db defaults to /tmp/styrkort_bench.duckdb (built with `styrkort build` if missing).

The Kolada-scale warehouse must hold the marts (the scorecard page reads the `scorecard` mart),
so it is the embedded default plus a Kolada-scale import, refreshed:
  --build-kolada N   copies --db to benchmarks/out/dashboard_kolada_scale.duckdb, imports the
                     synthetic Kolada file of benchmarks/import_kolada_scale.py with N KPIs
                     (N × 290 × 17 values; every 10th KPI has a Balansen perspective) through
                     `import_kolada`, runs every pipeline (as `styrkort refresh`), then measures.
--kolada PATH        measure an existing Kolada-scale warehouse (default: that file if present).
A warehouse without the `scorecard` mart (e.g. benchmarks/out/kolada_scale.duckdb of the import
benchmark, which has no population and so no marts) is skipped with a message."""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_common import DEFAULT_BENCH_DB, OUT, REPO, ensure_db, summary  # noqa: E402

sys.path.insert(0, str(REPO))
TARGET_P95_MS = {"embedded default": 50.0, "Kolada-scale": 25.0}


def _page_renderer(db_path: Path):
    """The /kommun page's layout function inside a Flask app context, or None."""
    try:
        from dashboard.app import create_app
        app = create_app(db_path)
        import dash
        page = next((p for p in dash.page_registry.values()
                     if (p.get("path_template") or "").startswith("/kommun/")
                     or (p.get("module") or "").endswith(".kommun")), None)
    except Exception as exc:  # the page may not exist yet
        print(f"  (page layout not measured: {exc!r})")
        return None
    if page is None or not callable(page.get("layout")):
        print("  (page layout not measured: no /kommun/<code> page registered)")
        return None
    layout = page["layout"]
    errors = _ErrorCounter()
    logging.getLogger("dashboard").addHandler(errors)   # also keeps tracebacks off the screen

    def render(code, year, lang):
        with app.server.test_request_context(f"/kommun/{code}"):
            return layout(code=code, year=None if year is None else str(year), lang=lang)

    render.errors = errors
    return render


class _ErrorCounter(logging.Handler):
    """Counts errors the pages log (dashboard.components.safe_layout turns a failing layout
    into an error box and logs it): a timing of error boxes is not a timing of the page."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0
        self.last = ""

    def emit(self, record):
        self.count += 1
        self.last = record.getMessage() + (f": {record.exc_info[1]!r}" if record.exc_info else "")


def bench(db_path: Path, reps: int, label: str, page_codes: int = 60) -> dict:
    from dashboard.data import Warehouse, scorecard_data

    db = Warehouse(db_path)
    if not db.has_view("scorecard"):
        print(f"\n== {label}: {db_path} has no `scorecard` mart (no pipelines run on it): skipped; "
              f"use --build-kolada N for a Kolada-scale warehouse with marts")
        db.close()
        return {"label": label, "ok": True, "skipped": True}
    if not db.has_view("scorecard_page"):
        print(f"\n  !! {db_path} was built before the scorecard_page mart: the page joins four marts per "
              f"request (slower); run `styrkort refresh --db {db_path}` (or delete it to rebuild)")
    codes = [r[0] for r in db.rows("SELECT municipality_code FROM municipalities ORDER BY 1")]
    years = db.years("scorecard")
    latest = years[-1] if years else None
    earlier = years[-3] if len(years) >= 3 else latest
    kpi_id = db.rows("SELECT kpi_id FROM scorecard LIMIT 1")[0][0]
    n_rows = db.rows("SELECT count(*) FROM scorecard")[0][0]
    n_values = db.rows("SELECT count(*) FROM kpi_values")[0][0]
    print(f"\n== {label}: {db_path} ({db_path.stat().st_size / 1e6:.1f} MB, "
          f"{len(codes)} municipalities, {n_values:,} kpi_values, {n_rows:,} scorecard rows, "
          f"years {years[:1]}…{years[-1:]})")

    # cold: the first call pays the cached lookups (municipalities, kpis, views)
    t0 = time.perf_counter()
    first = scorecard_data(db, codes[0], None, "sv")
    cold_ms = (time.perf_counter() - t0) * 1000
    assert first["found"], first

    base, data = [], []
    for rep in range(reps):
        year = latest if rep % 2 == 0 else earlier
        for code in codes:
            t0 = time.perf_counter()
            db.rows("SELECT value FROM scorecard WHERE municipality_code = ? AND kpi_id = ? "
                    "AND year = ?", [code, kpi_id, year])
            t1 = time.perf_counter()
            out = scorecard_data(db, code, year, "sv" if rep % 3 else "en")
            t2 = time.perf_counter()
            base.append((t1 - t0) * 1000)
            data.append((t2 - t1) * 1000)
            if not out["found"]:
                raise SystemExit(f"scorecard_data did not find {code}")
    result = {"label": label, "baseline": summary(base), "data": summary(data), "cold_ms": cold_ms}
    b = result["baseline"]
    print(f"  cold first scorecard_data: {cold_ms:.1f} ms")
    print(f"  {'what':<36}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'p95/baseline':>14}", flush=True)

    def line(name, s):
        print(f"  {name:<36}{s['n']:>6}{s['p50']:>9.2f}{s['p95']:>9.2f}{s['max']:>9.2f}"
              f"{s['p95'] / b['p95']:>13.1f}x", flush=True)

    line("baseline: bare point query", b)
    line("scorecard_data (callback data)", result["data"])
    worst = result["data"]["p95"]

    render = _page_renderer(db_path) if page_codes else None
    if render is not None:
        # every k-th code, so the sample spans the alphabet (and sizes) but stays bounded
        sample = codes[:: max(1, len(codes) // page_codes)][:page_codes]
        render(sample[0], None, "sv")  # warm
        page = []
        for code in sample:
            t0 = time.perf_counter()
            render(code, latest, "sv")
            page.append((time.perf_counter() - t0) * 1000)
        result["page"] = summary(page)
        line("kommun page layout (data + UI)", result["page"])
        if render.errors.count:
            print(f"  !! the page layout failed {render.errors.count} time(s) ({render.errors.last}); "
                  f"its figures time the error box, not the page")
            render.errors.count = 0
        else:
            worst = max(worst, result["page"]["p95"])
    db.close()
    target = TARGET_P95_MS[label]
    verdict = "OK" if worst <= target else "OVER TARGET"
    print(f"  target p95 ≤ {target:.0f} ms: {verdict} (worst p95 {worst:.1f} ms)")
    result["ok"] = worst <= target
    return result


def build_kolada(base_db: Path, n_kpis: int, target: Path) -> Path:
    """Embedded default + a synthetic Kolada-scale import + all pipelines, at `target`."""
    import shutil

    import duckdb

    sys.path.insert(0, str(REPO / "benchmarks"))
    from import_kolada_scale import generate  # helper B's file generator (same values)

    from pipelines import run_all
    from warehouse.importers.kolada import import_kolada

    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"kolada_scale_{n_kpis}.csv"
    t0 = time.perf_counter()
    if not csv_path.exists():
        generate(csv_path, n_kpis)
    for p in (target, Path(f"{target}.wal")):
        p.unlink(missing_ok=True)
    shutil.copy(base_db, target)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"""
            INSERT INTO kpi (kpi_id, title, unit, higher_is_better, perspective, area, source, is_demo)
            SELECT printf('B%05d', k), printf('Benchmark-nyckeltal %d (syntetiskt)', k), '%',
                   CASE WHEN k % 3 = 0 THEN NULL ELSE k % 2 = 0 END,
                   CASE WHEN k % 10 = 0 THEN ['omsorgstagare','ekonomi','medarbetare','verksamhet'][(k // 10) % 4 + 1] END,
                   CASE WHEN k % 10 = 0 THEN 'Benchmark' END,
                   'styrkort benchmark (synthetic)', true
            FROM range({n_kpis}) t(k)""")
        con.execute("BEGIN")
        source = "styrkort benchmark (synthetic Kolada-scale file)"
        import_kolada(con, [csv_path], source=source)
        con.execute("COMMIT")
        # Synthetic values: flagged demo through their source row.
        con.execute("UPDATE value_source SET is_demo = true WHERE source = ?", [source])
        t1 = time.perf_counter()
        run_all(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    print(f"built {target}: import {t1 - t0:.0f} s, pipelines {time.perf_counter() - t1:.0f} s")
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=DEFAULT_BENCH_DB, help="embedded default warehouse")
    ap.add_argument("--kolada", type=Path, default=None,
                    help="Kolada-scale warehouse (default: benchmarks/out/dashboard_kolada_scale.duckdb "
                         "if present, else benchmarks/out/kolada_scale.duckdb if present)")
    ap.add_argument("--build-kolada", type=int, metavar="N_KPIS", default=0,
                    help="build the Kolada-scale warehouse first (e.g. 500 or 5100 KPIs)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions over all codes")
    ap.add_argument("--page-codes", type=int, default=60,
                    help="codes sampled for the full page layout (0 = skip it)")
    args = ap.parse_args()

    db = ensure_db(args.db)
    kolada = args.kolada
    if args.build_kolada:
        kolada = build_kolada(db, args.build_kolada, kolada or OUT / "dashboard_kolada_scale.duckdb")
    elif kolada is None:
        kolada = next((p for p in (OUT / "dashboard_kolada_scale.duckdb", OUT / "kolada_scale.duckdb")
                       if p.exists()), OUT / "dashboard_kolada_scale.duckdb")
    results = [bench(db, args.reps, "embedded default", args.page_codes)]
    if kolada.exists():
        results.append(bench(kolada, args.reps, "Kolada-scale", args.page_codes))
    else:
        print(f"\n== Kolada-scale: {kolada} is absent (use --build-kolada N); skipped")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
