"""Demo gives way to real on screen: after importing a Kolada API v3 file with every id of the
preset oj-aldreomsorg for all 290 municipalities in 2009 and `styrkort refresh` (fixture
`real_2009_db`, tests/conftest.py), /kommun/1480?year=2009 shows the real indicators, without a
demo label, and not their demo twins; 2010 still shows the demo twins, labelled."""
from __future__ import annotations

import duckdb
import pytest
from browser_support import wait_rendered

pytestmark = pytest.mark.browser


def _rows(driver) -> dict[str, bool]:
    """Scorecard row title -> whether the row carries a demo badge (the perspectives' KPI tables;
    the what-if section's area table has row headers too, but no KPI rows)."""
    out = {}
    for th in driver.find_elements("css selector", "table.sk-kpi-table th[scope='row']"):
        title = th.find_element("css selector", ".fw-semibold").text.strip()
        out[title] = bool(th.find_elements("css selector", ".sk-demo-badge"))
    return out


@pytest.fixture(scope="module")
def real_url(real_2009_db, start_dashboard):
    return start_dashboard(real_2009_db)


def _titles(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        pairs = con.execute("SELECT d.title, r.title FROM kpis d JOIN kpis r ON r.kpi_id = d.stands_for "
                            "WHERE d.perspective IS NOT NULL").fetchall()
    finally:
        con.close()
    return [d for d, _ in pairs], [r for _, r in pairs]


def test_kommun_1480_2009_shows_real_indicators_without_demo_label(real_2009_db, real_url, browser):
    demo_titles, real_titles = _titles(real_2009_db)
    assert len(real_titles) == 26
    browser.get(real_url + "/kommun/1480?year=2009")
    wait_rendered(browser)
    rows = _rows(browser)
    # a perspective with more than 20 KPIs shows its first 10 (the rest behind "alla"): every
    # row shown is real, none carries a demo label, no demo twin is among them
    assert len(rows) >= 30 and not any(rows.values()), rows
    assert len(set(real_titles) & set(rows)) >= 15
    assert not set(demo_titles) & set(rows), "a demo twin is shown in 2009"
    browser.get(real_url + "/kommun/1480?year=2009&alla=1")
    wait_rendered(browser)
    rows = _rows(browser)
    for title in real_titles:
        assert title in rows, title
        assert rows[title] is False, f"{title} is labelled demo"
    assert not set(demo_titles) & set(rows), "a demo twin is shown in 2009"
    # the header's composite index of 2009 uses only real KPIs: no demo label there either
    header = browser.find_element("css selector", "dl").get_attribute("innerText")
    assert "Sammanvägt kvalitetsindex" in header
    assert not browser.find_elements("css selector", "dl .sk-demo-badge")
    # the what-if section of 2009 follows the real index: no demo label, no demo twin named
    whatif = browser.find_element("css selector", "section[aria-labelledby='kommun-whatif']")
    assert not whatif.find_elements("css selector", ".sk-demo-badge")
    assert not [d for d in demo_titles if d in whatif.get_attribute("innerText")]

    browser.get(real_url + "/kommun/1480?year=2010")
    wait_rendered(browser)
    rows = _rows(browser)
    shown_demo = [t for t in demo_titles if t in rows]
    assert len(shown_demo) >= 20 and all(rows[t] for t in shown_demo)   # labelled demo
    assert not set(real_titles) & set(rows)                            # real twins: no 2010 values
    assert browser.find_elements("css selector", "dl .sk-demo-badge")   # the 2010 index is demo
