"""Long tables in real headless Chromium (components.table_with_downloads + assets/styrkort.js):
the filter box keeps the rows that contain its text and says how many, the sort choice orders
every row (numbers by their value, not their sv-SE text; empty cells last), paging follows both,
and the downloads still carry every row. The start page's table of the 290 municipalities."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import wait_rendered  # noqa: E402
from conftest import wait_for  # noqa: E402

pytestmark = [pytest.mark.browser]

STATE_JS = """
const w = document.querySelector('.sk-table .sk-keyboard-table').closest('.sk-table');
const rows = [...w.querySelector('tbody').rows];
return {shown: rows.filter(r => !r.hidden).map(r => [...r.cells].map(c => [c.innerText.trim(), c.getAttribute('data-v')])),
        all: rows.map(r => [...r.cells].map(c => [c.innerText.trim(), c.getAttribute('data-v')])),
        status: (w.querySelector('.sk-pager-status') || {}).textContent || '',
        filter: w.querySelector('.sk-filter-status').textContent,
        sort: w.querySelector('select.sk-sort').id, box: w.querySelector('input.sk-filter').id,
        options: [...w.querySelector('select.sk-sort').options].map(o => [o.value, o.text]),
        sorted: [...w.querySelectorAll('thead th')].map(th => th.getAttribute('aria-sort'))};
"""


def _state(d):
    return d.execute_script(STATE_JS)


def test_filter_sort_and_pages_of_a_long_table(browser, server_url):
    from selenium.webdriver.support.ui import Select

    browser.get(server_url + "/")
    wait_rendered(browser)
    s = _state(browser)
    assert len(s["all"]) == 290 and len(s["shown"]) == 25 and s["filter"] == ""
    names = [r[0][0] for r in s["all"]]   # the first column: the municipality

    # filter: every row that contains the text, and only those, on page 1 of their own
    box = browser.find_element("id", s["box"])
    box.send_keys("borg")
    expect = [r[0][0] for r in s["all"] if any("borg" in c[0].lower() for c in r)]   # in any column
    assert 0 < len(expect) < 25
    s = wait_for(lambda: (lambda x: x if x["filter"] else None)(_state(browser)), 10, "the filter status")
    assert [r[0][0] for r in s["shown"]] == expect
    assert s["filter"] == f"{len(expect)} av 290 rader innehåller ”borg”"
    assert s["status"].startswith(f"Sida 1 av 1 · rader 1–{len(expect)} av {len(expect)}")
    box.clear()
    box.send_keys(" ")          # an empty filter (spaces) keeps every row again
    s = wait_for(lambda: (lambda x: x if len(x["shown"]) == 25 and not x["filter"] else None)(_state(browser)),
                 10, "every row back")
    assert s["status"] == "Sida 1 av 12 · rader 1–25 av 290"

    # sort by the last numeric column, descending: by value over all 290 rows, empty last
    col = max(i for i, c in enumerate(s["all"][0]) if c[1] is not None)
    header = s["options"][2 * col + 2][1]
    assert header.endswith(", fallande")
    Select(browser.find_element("id", s["sort"])).select_by_value(f"{col}:desc")
    s = wait_for(lambda: (lambda x: x if x["sorted"][col] == "descending" else None)(_state(browser)), 10, "sorted")
    values = [r[col][1] for r in s["all"]]
    numbers = [float(v) for v in values if v not in (None, "")]
    assert numbers == sorted(numbers, reverse=True)
    assert values[:len(numbers)] == [v for v in values if v not in (None, "")]   # empty cells last
    assert [float(r[col][1]) for r in s["shown"][:3]] == numbers[:3]
    # original order back
    Select(browser.find_element("id", s["sort"])).select_by_value("")
    s = wait_for(lambda: (lambda x: x if not any(x["sorted"]) else None)(_state(browser)), 10, "unsorted")
    assert [r[0][0] for r in s["all"]] == names


def test_the_download_of_a_filtered_table_has_every_row(browser, server_url, tmp_path):
    """What the table shows may be filtered; the CSV is the table's data, all 290 rows."""
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.get(server_url + "/")
    wait_rendered(browser)
    s = _state(browser)
    browser.find_element("id", s["box"]).send_keys("borg")
    wait_for(lambda: _state(browser)["filter"], 10, "the filter")
    button = browser.execute_script(
        "return document.querySelector('.sk-keyboard-table').closest('.sk-table').querySelector('.sk-download-csv')")
    browser.execute_script("arguments[0].click()", button)
    got = wait_for(lambda: next(iter(tmp_path.glob("*.csv")), None), 20, "the CSV")
    text = got.read_text(encoding="utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=";") if r]
    col = rows[0].index("Kommunkod")
    codes = {r[col] for r in rows[1:] if len(r) > col and r[col].isdigit() and len(r[col]) == 4}
    assert len(codes) == 290, (len(codes), rows[:3])
