"""The nämndrapport PDF of /trender alone: where its time goes, and what a user waits for.

1. In-process (one fresh Python process, like a worker): per PDF the steps the PDF button runs
   (`report_content`: data + figures; `build_report`: rendering the charts in the kept-open
   Chromium while the text pages are laid out, then the chart pages) and, separately, each
   step on its own (render alone, assemble alone). The first PDF is "cold" (Chromium not yet
   started: what a worker's first PDF costs without the warm start); then one PDF per
   municipality ("warm"), then the same municipalities again ("repeat": chart images reused).
   Baseline: one bare one-trace figure rendered by the same warm renderer.
2. `--server`: `styrkort serve --prod` (gunicorn, 2 workers) started by the benchmark; the PDF
   callback is POSTed as the browser does (JSON in, base64 PDF out). "Cold": a fresh server's
   first PDF, at once after it answered `/` (the workers' Chromium, started at the fork, may
   still be starting) and, on another fresh server, 5 s later; then one per municipality
   ("warm"). No browser: the page benchmark times the click to the saved file.

    .venv/bin/python benchmarks/report_pdf.py [--db PATH] [-n 10] [--server] [--workers 2]
        [--cold-waits 0,5]

Target (issue 11): PDF ≤ 2 000 ms p95 for a municipality with 4 charts.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_common import DEFAULT_BENCH_DB, ensure_db, free_port, start_server, stop_server, summary  # noqa: E402

CODES = ["0180", "1480", "1280", "0380", "2480", "0580", "1880", "2281", "0114", "0509", "2583", "1980"]


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def _row(label: str, values: list[float], base_p95: float | None = None) -> None:
    s = summary(values)
    ratio = f"{s['p95'] / base_p95:>8.1f}x" if base_p95 else ""
    print(f"  {label:<44}{s['n']:>4}{s['p50']:>9.0f}{s['p95']:>9.0f}{s['max']:>9.0f}{ratio}", flush=True)


def in_process(db: Path, n: int) -> dict:
    from dashboard.app import create_app

    app = create_app(db)
    trender = sys.modules["pages.trender"]
    from dashboard import report as R
    from dashboard.data import get_db

    codes = (CODES * (n // len(CODES) + 1))[:n]
    steps = {"data+figures": [], "build_report": [], "total": []}
    alone = {"render 4 charts alone": [], "assemble alone": []}
    repeat = []
    cold = None
    with app.server.test_request_context("/trender"):
        wh = get_db(db)
        kpis = trender.default_kpis(wh)
        for i, code in enumerate(codes + codes[: min(3, n)]):
            t0 = time.perf_counter()
            content, figs = trender.report_content(wh, code, kpis, "sv")
            t1 = time.perf_counter()
            pdf = R.build_report(content, figs)
            total = _ms(t0)
            if i == 0:
                cold = {"total": total, "data+figures": (t1 - t0) * 1000, "charts": len(figs), "bytes": len(pdf)}
                continue
            if i >= len(codes):
                repeat.append(total)
                continue
            steps["data+figures"].append((t1 - t0) * 1000)
            steps["build_report"].append(_ms(t1))
            steps["total"].append(total)
            # the steps one after the other, for where the time goes (image cache bypassed)
            R.renderer().cache = R.ByteLRU(0)
            t2 = time.perf_counter()
            R.render_pngs(figs)
            alone["render 4 charts alone"].append(_ms(t2))
            R.renderer().cache = R.ByteLRU(R.CHART_CACHE_BYTES)
            for ch, png in zip(content.charts, R.render_pngs(figs)):
                ch.png = png
            t3 = time.perf_counter()
            R.assemble_pdf(content)
            alone["assemble alone"].append(_ms(t3))
        import plotly.graph_objects as go
        base = []
        for i in range(max(n, 10)):
            fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[1, 3 + i, 2]))
            t0 = time.perf_counter()
            R.render_pngs([fig])
            base.append(_ms(t0))
    return {"cold": cold, "steps": steps, "alone": alone, "repeat": repeat, "baseline": base}


def _callback_body(deps: list, code: str, kpis: list[str], clicks: int) -> bytes:
    cb = next(c for c in deps if any(i["id"] == "trender-pdf" and i["property"] == "n_clicks" for i in c["inputs"]))
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in cb["output"].strip(".").split("...")]
    values = {"trender-code": code, "trender-kpis": kpis, "trender-lang": "sv"}
    return json.dumps({
        "output": cb["output"], "outputs": outputs,
        "inputs": [{"id": "trender-pdf", "property": "n_clicks", "value": clicks}],
        "changedPropIds": ["trender-pdf.n_clicks"],
        "state": [{"id": s["id"], "property": s["property"], "value": values[s["id"]]} for s in cb["state"]],
    }).encode()


def _post(url: str, body: bytes) -> tuple[float, int]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as r:
        data = r.read()
    elapsed = _ms(t0)
    answer = json.loads(data)["response"]
    pdf = answer["trender-download"]["data"]["content"]
    if not pdf:
        raise RuntimeError(f"no PDF in the answer: {str(answer)[:300]}")
    return elapsed, len(pdf) * 3 // 4


def server(db: Path, n: int, workers: int, cold_waits: list[float]) -> dict:
    """A fresh server per entry of `cold_waits`: its first PDF that many seconds after it
    answered `/` (0: at once, while the workers' Chromium may still be starting). The warm
    series and the asset baseline on the last server."""
    from dashboard.app import create_app
    from dashboard.data import get_db

    app = create_app(db)
    with app.server.test_request_context("/trender"):
        kpis = sys.modules["pages.trender"].default_kpis(get_db(db))
    cold, out = {}, {}
    for k, wait in enumerate(cold_waits):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(db, port, prod=True, workers=workers)
        try:
            time.sleep(wait)
            with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as r:
                deps = json.loads(r.read())
            url = base + "/_dash-update-component"
            cold[wait], out["bytes"] = _post(url, _callback_body(deps, CODES[0], kpis, 1))
            if k < len(cold_waits) - 1:
                continue
            out["warm"] = [_post(url, _callback_body(deps, CODES[(i + 1) % len(CODES)], kpis, 1))[0]
                           for i in range(n)]
            out["asset"] = []
            for _ in range(max(n, 10)):
                t0 = time.perf_counter()
                urllib.request.urlopen(base + "/assets/styrkort.css", timeout=30).read()
                out["asset"].append(_ms(t0))
        finally:
            stop_server(proc)
    return {**out, "cold": cold}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=DEFAULT_BENCH_DB)
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--server", action="store_true", help="also time the PDF callback against gunicorn")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cold-waits", default="0,5",
                    help="seconds between a fresh server's start and its first PDF, one server each")
    args = ap.parse_args()
    db = ensure_db(args.db)

    r = in_process(db, args.n)
    base_p95 = summary(r["baseline"])["p95"]
    c = r["cold"]
    print(f"nämndrapport PDF in-process ({db}), {c['charts']} charts, {c['bytes'] // 1024} KiB")
    print(f"  {'ms':<44}{'n':>4}{'p50':>9}{'p95':>9}{'max':>9}{'ratio':>9}")
    _row("baseline: one bare figure, warm renderer", r["baseline"])
    print(f"  cold (first PDF, Chromium not started): {c['total']:.0f} ms (data+figures {c['data+figures']:.0f})")
    for label, values in {**r["steps"], **r["alone"]}.items():
        _row(("warm " if label == "total" else "  ") + label, values, base_p95)
    _row("repeat (same charts: images reused)", r["repeat"], base_p95)
    if args.server:
        waits = [float(w) for w in args.cold_waits.split(",")]
        s = server(db, args.n, args.workers, waits)
        a95 = summary(s["asset"])["p95"]
        print(f"PDF callback over HTTP, gunicorn --prod {args.workers} workers ({s['bytes'] // 1024} KiB PDF)")
        _row("baseline: static asset", s["asset"])
        for wait, ms in s["cold"].items():
            print(f"  cold: a fresh server's first PDF {wait:g} s after it answered /: {ms:.0f} ms")
        _row("warm, one municipality each", s["warm"], a95)
        for wait, ms in s["cold"].items():
            _row(f"warm + cold after {wait:g} s (p95 target 2 000)", [ms, *s["warm"]], a95)


if __name__ == "__main__":
    main()
