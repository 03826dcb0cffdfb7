"""axe-core (npm, node_modules/axe-core) run in real headless Chromium on every page of the
dashboard contract: no serious or critical WCAG 2.1 A/AA violation is allowed.

Uses the shared fixtures of tests/browser/conftest.py: `server_url` (styrkort serve on the
embedded default warehouse) and `browser` (headless Chromium)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import (  # noqa: E402
    BLOCKING_IMPACTS,
    axe_source,
    format_violations,
    run_axe,
    wait_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [
    "/",
    "/kommun/0180",          # Stockholm
    "/kommun/1480",          # Göteborg
    "/kommun/9999",          # unknown code: the friendly page must be accessible too
    "/jamfor?a=0180&b=1480",
    "UNITS",                 # /jamfor?unit_a=..&unit_b=.. filled in from org_units
    "/enhet/1480-HT-MAJORNA",  # a (demo) unit's Balansen, with its (demo) targets
    "/enhet/NOPE",           # unknown unit: the friendly page
    "/enheter?kommun=1480",  # a municipality's units
    "/enheter",              # the municipalities with units
    "/urval",
    "/kostnad",
    "/statsbidrag",
    "/trender",
    "/om",
    "/kommun/0180?lang=en",  # the English UI
]


@pytest.fixture(scope="module")
def axe():
    source = axe_source()
    if source is None:
        pytest.skip("node_modules/axe-core is absent: run `npm install` in the repository root")
    return source


@pytest.fixture(scope="module")
def unit_pair_path(built_db) -> str:
    """Seed 004's two units (Linnéstaden vs Bergsjön) looked up in the public view."""
    from warehouse.db import connect

    con = connect(built_db, read_only=True)
    try:
        rows = con.execute(
            "SELECT unit_id, name FROM org_units WHERE municipality_code = '1480' ORDER BY unit_id"
        ).fetchall()
    finally:
        con.close()
    ids = {}
    for unit_id, name in rows:
        low = name.lower()
        if "linné" in low and "linne" not in ids:
            ids["linne"] = unit_id
        if "bergsjö" in low and "bergsjo" not in ids:
            ids["bergsjo"] = unit_id
    assert set(ids) == {"linne", "bergsjo"}, f"Linnéstaden/Bergsjön not in org_units: {rows}"
    return f"/jamfor?unit_a={ids['linne']}&unit_b={ids['bergsjo']}"


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_wcag_violations(path, axe, server_url, browser, request):
    if path == "UNITS":
        path = request.getfixturevalue("unit_pair_path")
    browser.get(server_url + path)
    wait_rendered(browser)
    result = run_axe(browser, axe)
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, format_violations(path, blocking)


def test_axe_detects_a_known_violation(axe, server_url, browser):
    """The harness can fail: an unlabelled input and an image without alt text injected into a
    real page must be reported (otherwise a broken injection would pass every page)."""
    browser.get(server_url + "/om")
    wait_rendered(browser)
    browser.execute_script(
        """
        const box = document.createElement('div');
        box.innerHTML = '<input type="text" id="g-unlabelled"><img src="x.png" id="g-noalt">';
        document.body.appendChild(box);
        """
    )
    result = run_axe(browser, axe)
    found = {v["id"]: v for v in result["violations"]}
    assert "label" in found and "image-alt" in found, sorted(found)
    targets = [t for n in found["label"]["nodes"] for t in n["target"]]
    assert "#g-unlabelled" in targets
    assert found["image-alt"]["impact"] in BLOCKING_IMPACTS


def test_start_page_with_search_hits_is_accessible(axe, server_url, browser):
    """The hit list under the search box (links, status text, highlighted first hit)."""
    browser.get(server_url + "/")
    wait_rendered(browser)
    browser.find_element("id", "home-search").send_keys("mal")
    import time
    deadline = time.monotonic() + 20
    while not browser.find_elements("css selector", "#home-search-results a") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert browser.find_elements("css selector", "#home-search-results a")
    result = run_axe(browser, axe)
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, format_violations("/ (search hits)", blocking)
