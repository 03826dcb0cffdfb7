"""Helpers shared by the browser tests (importable; fixtures live in tests/browser/conftest.py):
waiting until a Dash page has rendered and settled, and axe-core injection and reporting."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
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


# Row texts of a table_with_downloads inside the element with id arguments[0] (the table's
# '<id>-wrap'), whether it is a grid (long tables) or a plain HTML table (short ones).
TABLE_ROWS_JS = """
const w = document.getElementById(arguments[0]);
if (!w) return null;
const rows = [...w.querySelectorAll('table tbody tr')].filter(r => !r.hidden);
return rows.map(r => r.innerText.replace(/\\s+/g, ' ').trim());
"""


def table_rows(driver, wrap_id: str) -> list[str] | None:
    """The shown rows' texts of the table in #wrap_id, hidden rows (other pages, filtered out)
    left out (None while it is not on the page)."""
    return driver.execute_script(TABLE_ROWS_JS, wrap_id)
