"""Small helpers shared by the dashboard benchmarks (dashboard_callback/first_paint/load).
Everything here talks to 127.0.0.1 only."""
from __future__ import annotations

import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
DEFAULT_BENCH_DB = Path("/tmp/styrkort_bench.duckdb")
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
)


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    xs = sorted(values)
    if not xs:
        return float("nan")
    k = max(1, math.ceil(q / 100 * len(xs)))
    return xs[k - 1]


def summary(values) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "max": max(values) if values else float("nan")}


def ensure_db(path: Path) -> Path:
    """The embedded default warehouse at `path`, built with `styrkort build` if missing."""
    path = Path(path)
    if not path.exists():
        print(f"building the embedded default warehouse at {path} …", flush=True)
        from styrkort.build import build

        build(path, quiet=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def start_server(db: Path, port: int, prod: bool = False, workers: int | None = None,
                 log_path: Path | None = None, extra: tuple = ()) -> subprocess.Popen:
    """`styrkort serve` on 127.0.0.1:port (gunicorn with --prod); waits until / answers."""
    exe = REPO / ".venv" / "bin" / "styrkort"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "styrkort.cli"]
    cmd += ["serve", "--db", str(db), "--port", str(port), "--host", "127.0.0.1"]
    if prod:
        cmd.append("--prod")
        if workers:
            cmd += ["--workers", str(workers)]
    cmd += list(extra)
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT if log_path else log)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc, timeout=300 if extra else 120)
    except Exception:
        stop_server(proc)
        raise
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()   # gunicorn: graceful stop of the master and its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def make_driver(width: int = 1280, height: int = 900, capabilities: dict | None = None):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    for key, value in (capabilities or {}).items():
        opts.set_capability(key, value)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
