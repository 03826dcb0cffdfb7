"""Keyboard navigation through the scorecard (/kommun/0180) in real headless Chromium:
Tab reaches the language switch, the main navigation, the year selector and the controls in
each of the four Balansen perspective panels; every focused element shows a visible focus
indicator (an outline, or a box-shadow/border that differs from the element's unfocused look);
Enter on a navigation link navigates.

Uses the shared fixtures `server_url` and `browser` of tests/browser/conftest.py."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import wait_rendered  # noqa: E402
from conftest import wait_for  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGE = "/kommun/0180"
MAX_TABS = 400
# Swedish headings of the four panels (issue 4, page 2)
PERSPECTIVES = ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer")
# [tabindex] includes -1: widgets such as AG Grid move focus to such cells themselves
FOCUSABLE = ('a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), '
             'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]')

# Remember how every focusable element (and its two ancestors, for :focus-within styles)
# looks unfocused, so a focus indicator is a real change and not a permanent card shadow.
SNAPSHOT_JS = """
const snap = e => e ? (s => ({outline: s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor,
                               shadow: s.boxShadow,
                               border: s.borderTopStyle + ' ' + s.borderTopWidth + ' ' + s.borderTopColor}))(getComputedStyle(e)) : null;
window.__gSnap = new Map();
for (const el of document.querySelectorAll(arguments[0])) {
  const p = el.parentElement, g = p && p.parentElement;
  window.__gSnap.set(el, [snap(el), snap(p), snap(g)]);
}
return window.__gSnap.size;
"""

# Describe document.activeElement: what it is, where it sits, and whether focus is visible.
DESCRIBE_JS = """
const persp = arguments[0];
const a = document.activeElement;
if (!a || a === document.body || a === document.documentElement) return null;
const label = ((a.getAttribute('aria-label') || '') + ' ' + (a.innerText || a.value || '')).trim();
const href = a.getAttribute('href') || '';
// which perspective panel holds the element: the panel is the nearest section/card/region
// around a heading that names the perspective
let panel = null;
for (const h of document.querySelectorAll('h2, h3, h4, [role="heading"]')) {
  const text = h.textContent.trim();
  const idx = persp.findIndex(p => text.startsWith(p));
  if (idx < 0) continue;
  const box = h.closest('section, article, [role="region"], .card, fieldset');
  if (box && box.contains(a)) { panel = persp[idx]; break; }
}
const s = getComputedStyle(a);
const outlineVisible = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0
                       && s.outlineColor !== 'rgba(0, 0, 0, 0)';
const before = (window.__gSnap && window.__gSnap.get(a)) || [null, null, null];
const snap = e => e ? (st => ({outline: st.outlineStyle + ' ' + st.outlineWidth + ' ' + st.outlineColor,
                                 shadow: st.boxShadow,
                                 border: st.borderTopStyle + ' ' + st.borderTopWidth + ' ' + st.borderTopColor}))(getComputedStyle(e)) : null;
const now = [a, a.parentElement, a.parentElement && a.parentElement.parentElement].map(snap);
let shadowVisible = false;
for (let i = 0; i < 3; i++) {
  if (!now[i] || now[i].shadow === 'none') continue;
  // the element itself: any box-shadow counts when not snapshotted (rendered later)
  if (!before[i] ? i === 0 : before[i].shadow !== now[i].shadow) shadowVisible = true;
}
// a border that appears or changes colour on focus (AG Grid's focused cell) also counts,
// but only when the unfocused look is known
const borderVisible = !!before[0] && before[0].border !== now[0].border
                      && s.borderTopStyle !== 'none' && parseFloat(s.borderTopWidth) > 0;
const yearBox = a.closest('[id*="year" i], [aria-label*="år" i], [aria-label*="year" i]');
const ownLabel = a.labels && a.labels.length ? a.labels[0].textContent : '';
return {
  tag: a.tagName.toLowerCase(), id: a.id || '', href: href, label: label.slice(0, 80),
  nav: !!(a.closest('nav') && a.tagName === 'A'),
  navPath: a.closest('nav') && a.tagName === 'A' ? new URL(a.href, location.href).pathname : null,
  lang: /[?&]lang=(en|sv)/.test(href) || /språk|language|english|svenska/i.test(label),
  year: !!yearBox || /^(år|year)\\b/i.test(ownLabel.trim()) || /^(år|year)\\b/i.test(a.getAttribute('aria-label') || ''),
  panel: panel,
  focusVisible: outlineVisible || shadowVisible || borderVisible,
  style: 'outline: ' + s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor + '; box-shadow: ' + s.boxShadow
         + '; border-top: ' + s.borderTopStyle + ' ' + s.borderTopWidth + ' ' + s.borderTopColor,
  key: a.id || (a.tagName + '|' + href + '|' + label.slice(0, 40)),
};
"""

NAV_PATHS_JS = """
return [...document.querySelectorAll('nav a[href]')]
  .map(a => new URL(a.href, location.href)).filter(u => u.origin === location.origin)
  .map(u => u.pathname);
"""


def _tab(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.TAB).perform()


def _walk(driver, stop=None) -> list[dict]:
    """Tab from the top of the page until focus comes back round (or MAX_TABS); return what
    was focused, in order."""
    driver.execute_script("document.activeElement && document.activeElement.blur();"
                          "window.scrollTo(0, 0);")
    seen: list[dict] = []
    first_key = None
    for _ in range(MAX_TABS):
        _tab(driver)
        info = driver.execute_script(DESCRIBE_JS, list(PERSPECTIVES))
        if info is None:           # focus left the document (wrapped to the browser UI)
            if seen:
                break
            continue
        if first_key is not None and info["key"] == first_key:
            break
        first_key = first_key or info["key"]
        seen.append(info)
        if stop and stop(info):
            break
    return seen


@pytest.fixture(scope="module")
def scorecard(browser, server_url):
    browser.get(server_url + PAGE)
    wait_rendered(browser)
    browser.execute_script(SNAPSHOT_JS, FOCUSABLE)
    return _walk(browser)


def _fmt(seen):
    return "\n".join(f"  {i:3d} {s['tag']}#{s['id']} href={s['href']!r} label={s['label']!r} "
                     f"panel={s['panel']} nav={s['nav']} lang={s['lang']} year={s['year']}"
                     for i, s in enumerate(seen))


def test_tab_reaches_language_switch_nav_and_year(scorecard, browser):
    assert scorecard, "Tab never focused anything on the scorecard page"
    assert any(s["lang"] for s in scorecard), "language switch not reachable by Tab:\n" + _fmt(scorecard)
    assert any(s["year"] for s in scorecard), "year selector not reachable by Tab:\n" + _fmt(scorecard)
    nav_paths = set(browser.execute_script(NAV_PATHS_JS))
    for expected in ("/", "/urval", "/kostnad", "/statsbidrag", "/trender", "/om"):
        assert expected in nav_paths, f"main navigation (<nav>) has no link to {expected}: {nav_paths}"
    reached = {s["navPath"] for s in scorecard if s["nav"]}
    assert nav_paths <= reached, (f"nav links not reachable by Tab: {sorted(nav_paths - reached)}\n"
                                  + _fmt(scorecard))


def test_tab_reaches_controls_in_every_perspective_panel(scorecard):
    reached = {s["panel"] for s in scorecard if s["panel"]}
    missing = [p for p in PERSPECTIVES if p not in reached]
    assert not missing, (f"no focusable control reached inside panel(s) {missing}:\n" + _fmt(scorecard))


def test_focus_is_visible_on_every_focused_element(scorecard):
    invisible = [s for s in scorecard if not s["focusVisible"]]
    assert not invisible, "focused element(s) without a visible focus indicator:\n" + "\n".join(
        f"  {s['tag']}#{s['id']} href={s['href']!r} label={s['label']!r}: {s['style']}"
        for s in invisible)


def test_enter_on_nav_link_navigates(browser, server_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server_url + PAGE)
    wait_rendered(browser)
    h1_before = browser.execute_script("return document.querySelector('h1').textContent")
    seen = _walk(browser, stop=lambda s: s["nav"] and s["navPath"] == "/om")
    assert seen and seen[-1]["navPath"] == "/om", "Tab never reached the /om nav link:\n" + _fmt(seen)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return location.pathname") == "/om")
    wait_rendered(browser)
    h1_after = browser.execute_script("return document.querySelector('h1').textContent")
    assert h1_after != h1_before, f"URL changed to /om but the heading stayed {h1_after!r}"


# -- long tables: one Tab stop each, arrows between their links, links open with Enter -----------

# Focus the last visible, tabbable element before long table number arguments[0] (outside it).
FOCUS_BEFORE_GRID_JS = """
const grid = document.querySelectorAll('.sk-keyboard-table')[arguments[0]];
if (!grid) return null;
const tabbable = [...document.querySelectorAll(
    'a[href], button:not([disabled]), select:not([disabled]), input:not([disabled]):not([type="hidden"]), summary, [tabindex="0"]')]
  .filter(e => e.tabIndex >= 0 && !grid.contains(e) && e.checkVisibility()
               && (grid.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_PRECEDING));
const before = tabbable.pop();
if (!before) return null;
before.focus();
return before.outerHTML.slice(0, 120);
"""
# Where focus is: 'grid:N:region' on long table N itself, 'grid:N:link' on a link inside it,
# else the element's tag/id/text.
WHERE_JS = """
const a = document.activeElement;
const grids = [...document.querySelectorAll('.sk-keyboard-table')];
const i = grids.findIndex(g => g.contains(a));
if (i >= 0) return 'grid:' + i + ':' + (a === grids[i] ? 'region' : a.tagName === 'A' ? 'link' : a.tagName);
if (!a || a === document.body) return 'body';
const after = grids[arguments[0]] && (grids[arguments[0]].compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING);
return (after ? 'after:' : 'other:') + a.tagName.toLowerCase() + '#' + a.id + ' ' + (a.innerText || '').slice(0, 30);
"""


def _where(driver, i: int, expect) -> str:
    """Where focus is, polled briefly until `expect(where)` holds."""
    deadline = time.monotonic() + 5.0
    while True:
        where = driver.execute_script(WHERE_JS, i)
        if expect(where) or time.monotonic() > deadline:
            return where
        time.sleep(0.05)


def _keys(driver, *keys, shift=False) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    chain = ActionChains(driver)
    if shift:
        chain = chain.key_down(Keys.SHIFT)
    for k in keys:
        chain = chain.send_keys(k)
    if shift:
        chain = chain.key_up(Keys.SHIFT)
    chain.perform()


# pages with long tables (short tables are plain HTML without tools, so /enheter and /om show none)
@pytest.mark.parametrize("path", ["/", "/kostnad", "/statsbidrag", "/urval", "/enhet/1480-HT-LINNE",
                                  "/jamfor?a=0180&b=1480"])
def test_every_grid_is_one_tab_stop(browser, server_url, path):
    """From the element before each long table one Tab lands in the table and the next Tab
    leaves it forwards; the down arrow moves to its first link (if any) and Tab from there also
    leaves; Shift+Tab from the element after it comes back into the table and the next
    Shift+Tab leaves it backwards."""
    from selenium.webdriver.common.keys import Keys

    browser.get(server_url + path)
    wait_rendered(browser)
    count = browser.execute_script("return document.querySelectorAll('.sk-keyboard-table').length")
    assert count > 0, f"{path} shows no long table (test needs one)"
    visible = browser.execute_script("return [...document.querySelectorAll('.sk-keyboard-table')]"
                                     ".map(g => g.checkVisibility())")
    for i in range(count):
        if not visible[i]:      # e.g. inside a closed <details>
            continue
        before = browser.execute_script(FOCUS_BEFORE_GRID_JS, i)
        assert before, f"{path}: nothing focusable before table {i}"
        _keys(browser, Keys.TAB)
        inside = _where(browser, i, lambda w: w == f"grid:{i}:region")
        assert inside == f"grid:{i}:region", f"{path}: Tab from {before} went to {inside}, not table {i}"
        _keys(browser, Keys.TAB)
        out = _where(browser, i, lambda w: w.startswith("after:"))
        assert out.startswith("after:"), f"{path}: second Tab in table {i} stayed/went to {out}"
        _keys(browser, Keys.TAB, shift=True)
        back = _where(browser, i, lambda w: w == f"grid:{i}:region")
        assert back == f"grid:{i}:region", f"{path}: Shift+Tab from {out} went to {back}"
        _keys(browser, Keys.TAB, shift=True)
        left = _where(browser, i, lambda w: not w.startswith("grid:"))
        assert left.startswith("other:") or left == "body", f"{path}: Shift+Tab stayed in table {i}: {left}"
        # the down arrow moves to the first link, Tab from a link leaves
        browser.execute_script(FOCUS_BEFORE_GRID_JS, i)
        _keys(browser, Keys.TAB)
        _where(browser, i, lambda w: w.startswith(f"grid:{i}:"))
        _keys(browser, Keys.ARROW_DOWN)
        links = browser.execute_script(
            "return document.querySelectorAll('.sk-keyboard-table')[arguments[0]]"
            ".querySelectorAll('tbody tr:not([hidden]) a[href]').length", i)
        if links:
            cell = _where(browser, i, lambda w: w == f"grid:{i}:link")
            assert cell == f"grid:{i}:link", f"{path}: the down arrow in table {i} reached {cell}"
        _keys(browser, Keys.TAB)
        out = _where(browser, i, lambda w: w.startswith("after:"))
        assert out.startswith("after:"), f"{path}: Tab from inside table {i} went to {out}"


def test_link_in_grid_cell_opens_with_enter(browser, server_url):
    """Links in a long table are no Tab stops of their own but are reachable: the arrow keys
    move between them, Enter follows one (the municipality list on the start page links to
    scorecards) inside the app."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server_url + "/")
    wait_rendered(browser)
    links = browser.execute_script(
        "return [...document.querySelectorAll('.sk-keyboard-table a[href]')].map(a => a.tabIndex)")
    assert links, "the start page's table shows no links"
    assert all(ti == -1 for ti in links), f"links inside the table are Tab stops: {links[:5]}"
    assert browser.execute_script(FOCUS_BEFORE_GRID_JS, 0)
    _keys(browser, Keys.TAB)
    _where(browser, 0, lambda w: w == "grid:0:region")
    _keys(browser, Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ARROW_UP)
    assert _where(browser, 0, lambda w: w == "grid:0:link") == "grid:0:link"
    target = browser.execute_script("return new URL(document.activeElement.href).pathname")
    first = browser.execute_script("return new URL(document.querySelector("
                                   "'.sk-keyboard-table tbody tr:not([hidden]) a[href]').href).pathname")
    assert target == first and target.startswith("/kommun/"), (target, first)
    browser.execute_script("window.__same_document = true")
    _keys(browser, Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return location.pathname") == target)
    wait_rendered(browser)
    # opened inside the app (no page load: the marker survives), and the CSP refused nothing
    assert browser.execute_script("return window.__same_document === true")
    csp = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert not csp, csp


def test_a_long_grid_pages_by_keyboard_from_the_pager_after_it(browser, server_url):
    """The start page's 290 municipalities: the table shows one page; Tab from the table reaches
    the pager's first usable button ('Nästa sida'); Enter shows the next rows and the status
    (role=status) says so; 'Sista sidan' reaches the end and disables itself and 'Nästa'."""
    from selenium.webdriver.common.keys import Keys

    browser.get(server_url + "/")
    wait_rendered(browser)
    status = lambda: browser.execute_script(  # noqa: E731
        "return document.querySelector('.sk-pager [role=status]').textContent")
    shown = lambda: browser.execute_script(  # noqa: E731
        "const rows = [...document.querySelector('.sk-keyboard-table tbody').rows];"
        "return rows.map((r, i) => r.hidden ? -1 : i).filter(i => i >= 0)")
    assert status() == "Sida 1 av 12 · rader 1–25 av 290"
    assert shown() == list(range(25))
    browser.execute_script(FOCUS_BEFORE_GRID_JS, 0)
    _keys(browser, Keys.TAB)
    _where(browser, 0, lambda w: w.startswith("grid:0:"))
    _keys(browser, Keys.TAB)
    out = _where(browser, 0, lambda w: "Nästa sida" in w)
    assert out.startswith("after:button") and "Nästa sida" in out, out
    _keys(browser, Keys.ENTER)
    wait_for(lambda: status() == "Sida 2 av 12 · rader 26–50 av 290", 10, "page 2")
    assert shown() == list(range(25, 50))
    _keys(browser, Keys.TAB)     # -> 'Sista sidan'
    assert "Sista sidan" in _where(browser, 0, lambda w: "Sista sidan" in w)
    _keys(browser, Keys.ENTER)
    wait_for(lambda: status() == "Sida 12 av 12 · rader 276–290 av 290", 10, "the last page")
    assert shown() == list(range(275, 290))
    disabled = browser.execute_script(
        "return [...document.querySelectorAll('.sk-pager button')].map(b => b.disabled)")
    assert disabled == [False, False, True, True]
