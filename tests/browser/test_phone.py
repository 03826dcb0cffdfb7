"""A phone (390 × 844, mobile emulation) in real headless Chromium: the scorecards show each
indicator's value, references, status and trend without sideways scrolling (stacked cards below
the breakpoint), the main menu collapses behind a button, tables that must scroll say so, and
axe-core finds no serious WCAG 2.1 A/AA violation at this width."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import BLOCKING_IMPACTS, axe_source, format_violations, run_axe, wait_rendered  # noqa: E402
from conftest import make_browser, wait_for  # noqa: E402

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844

# Elements sticking out of the viewport that are not inside a box that scrolls or clips them.
OVERFLOW_JS = """
const vw = document.documentElement.clientWidth; const out = [];
for (const el of document.querySelectorAll('main *, header *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= vw + 1) continue;
  let p = el.parentElement, held = false;
  while (p && p !== document.body) {
    const s = getComputedStyle(p);
    if (s.overflowX !== 'visible' && p.getBoundingClientRect().right <= vw + 1) { held = true; break; }
    p = p.parentElement;
  }
  if (!held) out.push(el.tagName + '.' + String(el.className).slice(0, 40) + ' right=' + Math.round(r.right));
}
return out.slice(0, 10);
"""


@pytest.fixture(scope="module")
def phone():
    driver = make_browser(None, WIDTH, HEIGHT)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    yield driver
    driver.quit()


def open_phone(phone, url):
    phone.get(url)
    wait_rendered(phone)
    return phone


def widths(d):
    return d.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")


def test_municipality_scorecard_fits_a_phone(phone, server_url):
    d = open_phone(phone, server_url + "/kommun/0509")
    doc, view = widths(d)
    assert view == WIDTH and doc <= view, (doc, view)
    assert d.execute_script(OVERFLOW_JS) == []
    # every indicator row of the first panel: value, size group, country, status and trend are
    # on screen (inside the viewport), with their column name beside them
    cells = d.execute_script("""
        const vw = document.documentElement.clientWidth;
        const rows = [...document.querySelectorAll("section[aria-labelledby='persp-omsorgstagare'] tbody tr")];
        return rows.map(tr => [...tr.querySelectorAll('td')].map(td => {
            const r = td.getBoundingClientRect();
            return [td.dataset.label, td.innerText.trim(), r.left >= -1 && r.right <= vw + 1 && r.height > 0];
        }));""")
    assert cells, "no indicator rows in the first panel"
    for row in cells:
        labels = [label for label, _text, _inside in row]
        assert {"Värde", "Storleksgruppen", "Riket", "Trend"} <= set(labels), labels
        assert all(inside for _l, _t, inside in row), row
    statuses = d.execute_script("""
        const vw = document.documentElement.clientWidth;
        return [...document.querySelectorAll("section[aria-labelledby='persp-omsorgstagare'] .sk-status")]
          .filter(s => { const r = s.getBoundingClientRect(); return r.right <= vw + 1 && r.height > 0; })
          .map(s => s.innerText.trim());""")
    # position statuses and target statuses (icon + words: uppnått / nära / ej uppnått)
    words = ("gruppen", "bästa", "sämsta", "mittersta", "riktning", "saknas", "uppnått", "nära")
    assert statuses and all(any(w in s for w in words) for s in statuses), statuses


def test_menu_collapses_behind_a_button(phone, server_url):
    from selenium.webdriver.common.keys import Keys

    d = open_phone(phone, server_url + "/kommun/0509")
    header_h = d.execute_script("return document.querySelector('header.sk-navbar').getBoundingClientRect().height")
    assert header_h < 120, header_h       # was ~190 px with the menu spread out
    button = d.find_element("id", "sk-menu-button")
    assert button.is_displayed() and button.get_attribute("aria-expanded") == "false"
    links = d.find_elements("css selector", "#sk-nav-menu a")
    assert links and not any(a.is_displayed() for a in links)
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    wait_for(lambda: all(a.is_displayed() for a in d.find_elements("css selector", "#sk-nav-menu a")), 5, "menu open")
    assert d.switch_to.active_element.text == "Start"      # focus moved into the menu
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert button.get_attribute("aria-expanded") == "false"
    assert d.switch_to.active_element == button
    button.click()
    d.find_element("xpath", "//nav[@id='sk-nav-menu']//a[normalize-space()='Om data']").click()
    wait_for(lambda: d.current_url.endswith("/om"), 20, "navigation to /om")
    wait_rendered(d)
    assert not any(a.is_displayed() for a in d.find_elements("css selector", "#sk-nav-menu a"))  # closed again


def test_menu_is_spread_out_on_a_wide_screen(browser, server_url):
    browser.get(server_url + "/om")
    wait_rendered(browser)
    assert not browser.find_element("id", "sk-menu-button").is_displayed()
    assert all(a.is_displayed() for a in browser.find_elements("css selector", "#sk-nav-menu a"))


def test_compare_page_fits_and_grids_that_scroll_say_so(phone, server_url):
    d = open_phone(phone, server_url + "/jamfor?a=0180&b=1480")
    doc, view = widths(d)
    assert doc <= view, (doc, view)
    assert d.execute_script(OVERFLOW_JS) == []
    hints = [h for h in d.find_elements("css selector", ".sk-scroll-hint") if h.is_displayed()]
    assert hints and "svep i sidled" in hints[0].text


@pytest.mark.parametrize("path", ["/enhet/1480-HT-LINNE", "/enheter?kommun=1480"])
def test_unit_pages_fit_a_phone_with_status_texts(phone, server_url, path):
    """A unit's Balansen and a municipality's units: no sideways scrolling, every status text
    (icon + words) and every unit card inside the screen."""
    d = open_phone(phone, server_url + path)
    doc, view = widths(d)
    assert view == WIDTH and doc <= view, (doc, view)
    assert d.execute_script(OVERFLOW_JS) == []
    shown = d.execute_script("""
        const vw = document.documentElement.clientWidth;
        return [...document.querySelectorAll('.sk-unit-kpi .sk-status, .sk-unit-card')].map(s => {
            const r = s.getBoundingClientRect(); return [s.innerText.trim(), r.right <= vw + 1 && r.height > 0]; });""")
    assert shown and all(text and inside for text, inside in shown), shown


@pytest.mark.parametrize("path", ["/kommun/0509", "/jamfor?a=0180&b=1480", "/", "/enhet/1480-HT-LINNE",
                                  "/enheter?kommun=1480"])
def test_no_serious_wcag_violations_on_a_phone(phone, server_url, path):
    source = axe_source()
    if source is None:
        pytest.skip("node_modules/axe-core is absent: run `npm install` in the repository root")
    d = open_phone(phone, server_url + path)
    result = run_axe(d, source)
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, format_violations(f"{path} at {WIDTH}px", blocking)
