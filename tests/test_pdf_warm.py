"""`styrkort serve --prod`: every gunicorn worker starts its PDF chart renderer (headless
Chromium, dashboard.report.warm_after_fork) on its own right after the fork, before any
request, so the first nämndrapport a worker builds does not wait for a browser start; the
master (which forks the workers) starts none, and the server still stops promptly."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from layout_support import free_port

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow




def _children() -> dict[int, list[int]]:
    """pid -> child pids, from /proc."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _descendants(tree: dict[int, list[int]], pid: int) -> list[int]:
    out, todo = [], list(tree.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo += tree.get(p, [])
    return out


def _name(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def test_each_worker_starts_its_chromium_without_a_request(built_db):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "STYRKORT_PDF_WARM"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "styrkort.cli", "serve", "--prod", "--workers", "2", "--port", str(port),
         "--db", str(built_db)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 120
        browsers: dict[int, list[int]] = {}
        while time.time() < deadline:
            assert proc.poll() is None, "the server stopped"
            tree = _children()
            workers = tree.get(proc.pid, [])
            # choreographer starts Chromium through a small Python wrapper: look at descendants
            browsers = {w: [c for c in _descendants(tree, w) if "chrom" in _name(c)] for w in workers}
            if len(workers) == 2 and all(browsers.values()):
                break
            time.sleep(0.5)
        assert len(browsers) == 2 and all(browsers.values()), browsers
        # the master itself runs no browser (only its workers' descendants do)
        tree = _children()
        assert all(c in tree.get(proc.pid, []) for c in browsers)
        assert not [c for c in _children().get(proc.pid, []) if "chrom" in _name(c)]
        # stopping is not held up by the browsers (gunicorn would kill a worker after 30 s)
        proc.terminate()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
