"""Helper G's browser support for the accessibility and keyboard tests.

Shared fixtures (server on a free port, headless Chromium) live in tests/browser/conftest.py
(helper E). This module holds only what the a11y/keyboard tests need on top: waiting until a
Dash page has rendered, axe-core injection, and fall-back fixtures used only while the shared
conftest does not provide `browser` / a server URL."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
CHROME_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

# True once the whole Dash page is on screen: layout rendered, no pending callback, no
# component in a loading state, and the page's heading present.
RENDERED_JS = """
// #_dash-app-content exists only with dev tools on; #react-entry-point always
const app = document.getElementById('_dash-app-content') || document.getElementById('react-entry-point');
if (!app || !app.firstElementChild) return false;
if (document.querySelector('._dash-loading, ._dash-loading-callback')) return false;
if (document.querySelector('[data-dash-is-loading="true"]')) return false;
const h1 = document.querySelector('h1');
return !!(h1 && h1.textContent.trim().length > 0);
"""


def axe_source() -> str | None:
    """axe-core's script, or None when `npm install` has not been run. In CI a missing
    axe-core is a failure, never a skip."""
    if AXE_JS.is_file():
        return AXE_JS.read_text(encoding="utf-8")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{AXE_JS} is missing in CI: run `npm install` (scripts/test does).")
    return None


def wait_rendered(driver, timeout: float = 20.0, settle: float = 0.3) -> None:
    """Wait until RENDERED_JS holds twice in a row `settle` s apart (Dash fires chained
    callbacks after the first render, so one true reading can be premature)."""
    deadline = time.monotonic() + timeout
    stable_since = None
    while time.monotonic() < deadline:
        ok = bool(driver.execute_script(RENDERED_JS))
        now = time.monotonic()
        if ok:
            stable_since = stable_since or now
            if now - stable_since >= settle:
                return
        else:
            stable_since = None
        time.sleep(0.05)
    h1 = driver.execute_script("const h=document.querySelector('h1');return h&&h.textContent")
    raise AssertionError(
        f"{driver.current_url} did not finish rendering within {timeout} s (h1={h1!r}); "
        f"body starts: {driver.execute_script('return document.body.innerText')[:300]!r}"
    )


def run_axe(driver, source: str) -> dict:
    """Inject axe-core into the current page and run the WCAG 2.1 A/AA rules."""
    if not driver.execute_script("return typeof window.axe !== 'undefined'"):
        driver.execute_script(source)
    driver.set_script_timeout(60)
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
           .then(r => done({violations: r.violations}))
           .catch(e => done({error: String(e)}));
        """,
        WCAG_TAGS,
    )
    if "error" in result:
        raise AssertionError(f"axe-core failed on {driver.current_url}: {result['error']}")
    return result


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} serious/critical WCAG 2.1 A/AA violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v.get("nodes", [])[:8]:
            target = " ".join(json.dumps(t) if not isinstance(t, str) else t for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")[:300]
            html = " ".join((node.get("html") or "").split())[:160]
            lines.append(f"    target {target}: {summary}\n      html: {html}")
        if len(v.get("nodes", [])) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more node(s)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Fall-back fixtures, used only until the shared conftest provides them.

def make_driver(width: int = 1280, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
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


def start_server(db: Path, port: int, prod: bool = False, log=None) -> subprocess.Popen:
    cmd = [str(REPO / ".venv" / "bin" / "styrkort"), "serve", "--db", str(db), "--port", str(port)]
    if prod:
        cmd.append("--prod")
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "styrkort.cli"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log or subprocess.DEVNULL,
                            stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc)
    except Exception:
        stop_server(proc)
        raise
    return proc


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Names the shared conftest may give its fixtures; the first one found is used.
SERVER_FIXTURES = ("server_url", "base_url", "dash_server", "live_server", "app_url", "server")
BROWSER_FIXTURES = ("browser",)


def _shared(request, names):
    from _pytest.fixtures import FixtureLookupError

    for name in names:
        try:
            return request.getfixturevalue(name)
        except FixtureLookupError:
            continue
    return None


def _as_url(value) -> str:
    if isinstance(value, str):
        return value.rstrip("/")
    for attr in ("url", "base_url", "server_url"):
        if hasattr(value, attr):
            return str(getattr(value, attr)).rstrip("/")
    raise TypeError(f"cannot read a URL from the shared server fixture: {value!r}")


@pytest.fixture(scope="module")
def g_url(request, built_db, tmp_path_factory):
    """Base URL of a running dashboard (the shared fixture's, else one started here)."""
    shared = _shared(request, SERVER_FIXTURES)
    if shared is not None:
        yield _as_url(shared)
        return
    port = free_port()
    log = open(tmp_path_factory.mktemp("g_server") / "server.log", "w")
    proc = start_server(built_db, port, log=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc)
        log.close()


@pytest.fixture(scope="module")
def g_driver(request):
    """Headless Chromium (the shared `browser` fixture, else one started here)."""
    shared = _shared(request, BROWSER_FIXTURES)
    if shared is not None:
        yield shared
        return
    driver = make_driver()
    try:
        yield driver
    finally:
        driver.quit()
