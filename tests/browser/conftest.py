"""Shared browser-test fixtures: the dashboard on the embedded default warehouse, served by the
real `styrkort serve` in a subprocess on 127.0.0.1, and a real headless Debian Chromium.

Fixtures
    server_url        session: 'http://127.0.0.1:PORT' of a server on `built_db` (tests/conftest.py)
    start_dashboard   session: factory start_dashboard(db_path, prod=False) -> url; stopped at the end,
                      when the session fails if any server logged an HTTP 5xx (server_errors) or
                      a callback that raised (callback_failures: answered 400 by dashboard/hardening.py)
                      or a callback request of the browser's was refused as malformed
    download_dir      session: the folder Chromium saves downloads into (emptied per test by
                      `clean_downloads`)
    browser           session: selenium Chrome (headless, downloads allowed into download_dir)
    open_page         function: open_page(path) -> driver, loads server_url+path, waits for <h1>

Helpers (import from conftest): wait_for_text(driver, text, timeout), wait_for(fn, timeout, what),
wait_rendered(driver), wait_for_download(folder, suffix, timeout), free_port(), http_get(url).
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import wait_rendered  # shared with the test modules (re-exported as before)

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run")


# -- helpers ------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 10.0):
    """(status, headers, body text) without raising on 4xx/5xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def wait_for(fn, timeout: float = 20.0, what: str = "condition", interval: float = 0.1):
    """Poll fn() until it returns something truthy; return it, or fail naming `what`."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - stale elements while Dash re-renders
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                         + (f" (last error: {last_exc!r})" if last_exc else ""))


def body_text(driver) -> str:
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def wait_for_text(driver, text: str, timeout: float = 20.0) -> str:
    """Wait until `text` is visible in the page body; returns the body text."""
    return wait_for(lambda: (lambda b: b if text in b else None)(body_text(driver)), timeout,
                    f"text {text!r} on {driver.current_url}")






def wait_for_download(folder: Path, suffix: str, timeout: float = 20.0) -> Path:
    """A finished download (no .crdownload) with this suffix in folder."""
    def done():
        files = [p for p in Path(folder).iterdir() if p.name.endswith(suffix)]
        partial = list(Path(folder).glob("*.crdownload"))
        return files[0] if files and not partial and files[0].stat().st_size > 0 else None
    return wait_for(done, timeout, f"a {suffix} download in {folder}")


def _start(db: Path, port: int, prod: bool, log_path: Path) -> subprocess.Popen:
    exe = REPO / ".venv" / "bin" / "styrkort"
    cmd = ([str(exe)] if exe.exists() else [sys.executable, "-m", "styrkort.cli"])
    cmd += ["serve", "--db", str(db), "--port", str(port), "--host", "127.0.0.1"]
    if prod:
        cmd += ["--prod", "--workers", "2"]
    env = dict(os.environ)
    env.pop("STYRKORT_DB", None)
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError(f"dashboard exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.25)
    _stop(proc)
    raise RuntimeError(f"dashboard did not answer on {url}:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # gunicorn: the master stops its workers on TERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- fixtures ----------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_REQUEST = re.compile(r'"([A-Z]+) (\S+) HTTP/\d\.\d" (\d{3}) ')


def server_errors(log_text: str) -> list[str]:
    """The request lines of a dashboard server's log (werkzeug's, colours stripped, or
    gunicorn's access log) that answered HTTP 5xx: 'POST /_dash-update-component -> 500'."""
    out = []
    for line in log_text.splitlines():
        m = _REQUEST.search(_ANSI.sub("", line))
        if m and m.group(3).startswith("5"):
            out.append(f"{m.group(1)} {m.group(2)} -> {m.group(3)}")
    return out


# dashboard/hardening.py answers a callback that raised with HTTP 400 (so a hostile body is not a
# 5xx) and logs the traceback under this marker: in the browser suite every request is the app's
# own, so any such line is a page bug.
CALLBACK_FAILED = "callback failed on a request"
# ... and refuses a callback body that is not what the pages send (400, one log line with the
# reason): the browser's own requests must never be refused.
CALLBACK_REFUSED = "callback request refused"


def callback_failures(log_text: str) -> list[str]:
    """Each 'callback failed on a request' entry of a server log with the lines after it (its
    traceback) up to the next request line or entry, at most 80 lines each."""
    lines = _ANSI.sub("", log_text).splitlines()
    out = []
    for i, line in enumerate(lines):
        if CALLBACK_FAILED not in line:
            continue
        entry = [line]
        for nxt in lines[i + 1:i + 80]:
            if CALLBACK_FAILED in nxt or _REQUEST.search(nxt):
                break
            entry.append(nxt)
        out.append("\n".join(entry).rstrip())
    return out


@pytest.fixture(scope="session")
def start_dashboard(tmp_path_factory):
    """Factory: start_dashboard(db_path, prod=False) -> base URL; all stopped at session end.
    Each server's output goes to a log file; at the end of the session the logs are checked:
    any HTTP 5xx answered during the browser suite, or any callback that raised (logged by
    dashboard/hardening.py, answered 400), fails it (with the request and traceback)."""
    procs, logs = [], []

    def start(db: Path, prod: bool = False) -> str:
        port = free_port()
        log = tmp_path_factory.mktemp("serve") / "serve.log"
        procs.append(_start(Path(db), port, prod, log))
        logs.append(log)
        return f"http://127.0.0.1:{port}"

    yield start
    for p in procs:
        _stop(p)
    problems = []
    for log in logs:
        text = log.read_text("utf-8", "replace") if log.exists() else ""
        errors = server_errors(text)
        if errors:
            tail = text[text.find("Traceback"):][:3000] if "Traceback" in text else ""
            problems.append(f"{log}: {len(errors)} HTTP 5xx: {errors[:10]}\n{tail}")
        refused = [line for line in _ANSI.sub("", text).splitlines() if CALLBACK_REFUSED in line]
        if refused:
            problems.append(f"{log}: {len(refused)} of the browser's callback requests refused: {refused[:5]}")
        failed = callback_failures(text)
        if failed:
            problems.append(f"{log}: {len(failed)} callback(s) raised:\n" + "\n---\n".join(failed[:5])[:6000])
    if problems:
        pytest.fail("the dashboard server answered HTTP 5xx, refused or failed a callback during the browser tests:\n"
                    + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def server_url(built_db, start_dashboard) -> str:
    """The dashboard on the embedded default warehouse (`styrkort serve --db built_db`)."""
    return start_dashboard(built_db)


@pytest.fixture(scope="session")
def download_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


def make_browser(download_dir: Path | None = None, width: int = 1400, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if download_dir is not None:
        opts.add_experimental_option("prefs", {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "download.directory_upgrade": True,
            "safebrowsing.enabled": False,
        })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    if download_dir is not None:
        # headless Chromium needs the download behaviour set explicitly
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(download_dir)})
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="session")
def browser(download_dir):
    driver = make_browser(download_dir)
    yield driver
    driver.quit()


@pytest.fixture
def clean_downloads(download_dir) -> Path:
    for p in download_dir.iterdir():
        p.unlink()
    return download_dir


@pytest.fixture
def open_page(browser, server_url):
    """open_page(path) loads server_url + path in the shared browser and waits for the render."""
    def _open(path: str):
        browser.get(server_url + path)
        wait_rendered(browser)
        return browser
    return _open
