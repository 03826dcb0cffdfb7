"""The analysis pages (/urval, /kostnad, /statsbidrag, /trender) in a real headless Chromium
against the embedded default warehouse: headings and content render, the selection has 30
rows and downloads as CSV with 30 data rows, the PDF export produces a valid PDF, presentation
mode works from the keyboard, URL state and swap validation.

Server, browser and download folder come from tests/browser/conftest.py."""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from browser_support import table_rows, wait_rendered

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]



# The shared server, browser and download folder of tests/browser/conftest.py, under the
# names these tests use.
@pytest.fixture
def f_server(server_url) -> str:
    return server_url


@pytest.fixture
def f_browser(browser):
    return browser


@pytest.fixture
def f_downloads(download_dir) -> Path:
    return download_dir


def open_page(driver, url: str, timeout: float = 40.0) -> None:
    driver.get(url)
    wait_rendered(driver, timeout=timeout, settle=0.5)


def wait_for(fn, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def wait_file(folder: Path, suffix: str, before: set, timeout: float = 60.0) -> Path:
    def done():
        new = [p for p in folder.iterdir() if p.name not in before and p.suffix == suffix]
        return new[0] if new and new[0].stat().st_size > 0 else None
    return wait_for(done, timeout, f"a {suffix} download")


def text(driver) -> str:
    return driver.execute_script("return document.body.innerText")


def inner_text(driver, element_id: str) -> str:
    """innerText read in one script call (no stale element when Dash re-renders meanwhile)."""
    return driver.execute_script("const e = document.getElementById(arguments[0]); return e ? e.innerText : ''",
                                 element_id)


def grid_rows(driver, wrap_id: str) -> int:
    rows = table_rows(driver, wrap_id)
    return -1 if rows is None else len(rows)


# ------------------------------------------------------------------------------------ tests


def test_urval_renders_rankings_selection_and_runs(f_server, f_browser):
    open_page(f_browser, f_server + "/urval")
    body = text(f_browser)
    assert f_browser.find_element("css selector", "h1").text == "Rangordning och urval"
    for heading in ("Urvalet 15/15", "Tabell 1: rangplatser i urvalet", "Rangordning per storleksgrupp",
                    "Sparade urvalskörningar"):
        assert heading in body
    assert wait_for(lambda: grid_rows(f_browser, "urval-selection-wrap") == 30, 20, "30 selection rows")
    # Table 1: the three size groups with 6/6, 6/6 and 3/3 municipalities
    t1 = table_rows(f_browser, "urval-table1-wrap")
    assert len(t1) == 3
    # labelled controls
    for control in ("urval-year", "urval-maxcounty", "urval-swap-reason"):
        assert f_browser.find_elements("css selector", f"label[for='{control}']"), control


def test_urval_csv_download_has_30_rows(f_server, f_browser, f_downloads):
    open_page(f_browser, f_server + "/urval")
    wait_for(lambda: grid_rows(f_browser, "urval-selection-wrap") == 30, 20, "30 selection rows")
    before = {p.name for p in f_downloads.iterdir()}
    button = f_browser.find_element("xpath", "//div[@id='urval-selection-wrap']//button[contains(., 'CSV')]")
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
    path = wait_file(f_downloads, ".csv", before)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 30
    header = rows[0]
    assert "Kod" in header and "Rang" in header
    codes = [r[header.index("Kod")] for r in rows[1:]]
    assert len(set(codes)) == 30 and all(len(c) == 4 and c.isdigit() for c in codes)
    # the same table as Excel
    from openpyxl import load_workbook

    before = {p.name for p in f_downloads.iterdir()}
    button = f_browser.find_element("xpath", "//div[@id='urval-selection-wrap']//button[contains(., 'Excel')]")
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
    xlsx = wait_file(f_downloads, ".xlsx", before)
    sheet = load_workbook(xlsx, read_only=True).active
    xrows = list(sheet.iter_rows(values_only=True))
    assert len(xrows) == 1 + 30
    assert sorted(str(r[list(xrows[0]).index("Kod")]) for r in xrows[1:]) == sorted(codes)


def test_urval_query_string_state_and_swap_validation(f_server, f_browser):
    from dashboard.data import Warehouse  # noqa: F401 - import check only

    open_page(f_browser, f_server + "/urval?max_per_county=1")
    # county rule: at most one municipality per county in each of the high and low lists
    rows = f_browser.execute_script(
        "return [...document.querySelectorAll('#urval-selection-wrap tbody tr')].filter(r => !r.hidden)"
        ".map(r => [...r.cells].map(c => c.innerText))")
    assert len(rows) == 30
    value = f_browser.find_element("id", "urval-maxcounty").get_attribute("value")
    assert value == "1"
    # adding a swap without choosing municipalities gives a clear message, nothing else changes
    f_browser.find_element("id", "urval-swap-add").click()
    msg = wait_for(lambda: inner_text(f_browser, "urval-swap-msg"), 15, "swap message")
    assert "Välj både en kommun som ska ut och en som ska in" in msg


def test_urval_swap_from_url_is_applied(f_server, f_browser, built_db):
    import duckdb

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        year = con.execute("SELECT max(year) FROM composite_index WHERE is_default").fetchone()[0]
        sel = con.execute(
            "SELECT i.municipality_code, i.size_group FROM selection_items i JOIN selections s USING (selection_id) "
            "WHERE s.is_default AND s.year = ? AND i.result = 'high' ORDER BY i.rank LIMIT 1", [year]).fetchone()
        chosen = {r[0] for r in con.execute(
            "SELECT i.municipality_code FROM selection_items i JOIN selections s USING (selection_id) "
            "WHERE s.is_default AND s.year = ?", [year]).fetchall()}
        cand = con.execute(
            "SELECT municipality_code, m.name FROM composite_index c JOIN municipalities m USING (municipality_code) "
            "WHERE c.is_default AND c.year = ? AND c.size_group = ? ORDER BY c.rank", [year, sel[1]]).fetchall()
    finally:
        con.close()
    in_code, in_name = next((c, n) for c, n in cand if c not in chosen)
    open_page(f_browser, f"{f_server}/urval?year={year}&swaps={sel[0]}:{in_code}:testskäl")
    wait_for(lambda: grid_rows(f_browser, "urval-selection-wrap") == 30, 20, "30 rows")
    body = inner_text(f_browser, "urval-selection-wrap")
    assert in_name in body and "testskäl" in body
    # a swap whose IN is in another size group is refused with an explanation
    other = {"small": "large", "medium": "small", "large": "small"}[sel[1]]
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        wrong = next(c for (c,) in con.execute(
            "SELECT municipality_code FROM composite_index WHERE is_default AND year = ? "
            "AND size_group = ? ORDER BY rank", [year, other]).fetchall() if c not in chosen)
    finally:
        con.close()
    open_page(f_browser, f"{f_server}/urval?year={year}&swaps={sel[0]}:{wrong}:fel")
    assert "ett byte måste ske inom storleksgruppen" in text(f_browser)


def test_kostnad_renders_scatter_diagram1_model_and_tests(f_server, f_browser):
    open_page(f_browser, f_server + "/kostnad")
    body = text(f_browser)
    assert f_browser.find_element("css selector", "h1").text == "Kvalitet och kostnad"
    assert "Diagram 1" in body and "Kostnadsmodellen" in body and "Samband med struktur" in body
    words = inner_text(f_browser, "kostnad-words")
    assert "samband" in words and "r = " in words and "p" in words
    # Diagram 1 is below the scatter: an empty frame until scrolled to, then drawn
    assert not f_browser.execute_script("return document.querySelectorAll('#kostnad-diagram1 .bartext').length")
    f_browser.execute_script("document.getElementById('kostnad-diagram1').scrollIntoView({block: 'center'})")
    # Diagram 1 has 20 bars with labels that carry the meaning in text
    labels = wait_for(lambda: f_browser.execute_script(
        "return [...document.querySelectorAll('#kostnad-diagram1 .bartext')].map(t => t.textContent)"),
        15, "Diagram 1 drawn once in view")
    assert len(labels) == 20
    assert all(("över standardkostnad" in s) or ("under standardkostnad" in s) or ("lika med" in s) for s in labels)


def test_kostnad_year_in_query_string(f_server, f_browser, built_db):
    import duckdb

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT c.year FROM composite_index c JOIN cost_deviation d USING (year) ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert years, "no year with both index and cost deviation"
    open_page(f_browser, f"{f_server}/kostnad?year={years[0]}")
    assert f"för de 20 kommunerna med bäst index {years[0]}" in text(f_browser)


def test_statsbidrag_renders(f_server, f_browser):
    open_page(f_browser, f_server + "/statsbidrag")
    body = text(f_browser)
    assert f_browser.find_element("css selector", "h1").text == "Statsbidrag till värdighetsgarantier"
    assert "Tabell 2" in body and "Stockholms återbetalda stimulansbidrag" in body
    assert "Uppgifter per kommun finns bara för 2013" in body


def test_statsbidrag_in_english(f_server, f_browser):
    open_page(f_browser, f_server + "/statsbidrag?lang=en")
    assert f_browser.find_element("css selector", "h1").text == "State grants for dignity guarantees"


def test_trender_presentation_mode_by_keyboard(f_server, f_browser):
    from selenium.webdriver.common.keys import Keys

    open_page(f_browser, f_server + "/trender?code=1480")
    assert f_browser.find_element("css selector", "h1").text == "Trender för nämnden"
    cards = f_browser.find_elements("css selector", ".sk-trend-chart")
    assert len(cards) >= 2
    assert f_browser.find_element("id", "trender-code").get_attribute("value") == "1480"
    f_browser.find_element("id", "trender-present").click()
    deck = f_browser.find_element("id", "trender-deck")
    wait_for(lambda: "sk-presenting" in deck.get_attribute("class"), 10, "presentation mode")
    current = lambda: f_browser.execute_script(  # noqa: E731
        "return [...document.querySelectorAll('.sk-trend-chart')].findIndex(c => c.classList.contains('sk-current'))")
    wait_for(lambda: current() == 0, 10, "first chart")
    assert f_browser.find_element("id", "trender-next").is_displayed()
    f_browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    wait_for(lambda: current() == 1, 10, "second chart after ArrowRight")
    f_browser.switch_to.active_element.send_keys(Keys.ARROW_LEFT)
    wait_for(lambda: current() == 0, 10, "first chart after ArrowLeft")
    f_browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(lambda: "sk-presenting" not in deck.get_attribute("class"), 10, "presentation closed")


def test_trender_pdf_export_is_a_valid_pdf(f_server, f_browser, f_downloads, built_db):
    import duckdb
    from pypdf import PdfReader

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        kpis = [r[0] for r in con.execute(
            "SELECT kpi_id FROM kpis WHERE perspective IS NOT NULL ORDER BY kpi_id LIMIT 2").fetchall()]
    finally:
        con.close()
    open_page(f_browser, f"{f_server}/trender?code=1480&kpis={','.join(kpis)}")
    assert len(f_browser.find_elements("css selector", ".sk-trend-chart")) == 2
    before = {p.name for p in f_downloads.iterdir()}
    f_browser.find_element("id", "trender-pdf").click()
    # long work shows progress: a visible status while the charts are rendered
    wait_for(lambda: f_browser.find_element("id", "trender-pdf-busy").is_displayed(), 10, "progress message")
    # ... inside a live region that was there before (so a screen reader announces it)
    assert f_browser.find_elements("xpath", "//*[@id='trender-pdf-busy']/ancestor::*[@role='status'][@aria-live='polite']")
    path = wait_file(f_downloads, ".pdf", before, timeout=120)
    data = path.read_bytes()
    assert data[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(data))
    # cover, scorecard summary (one or more pages), one page per chart, sources
    assert len(reader.pages) >= 5
    assert "Göteborg" in reader.pages[0].extract_text()
    assert "Källor" in reader.pages[-1].extract_text()
    assert sum(1 for p in reader.pages if len(p.images) > 0) == 2
    pdf_text = "\n".join(p.extract_text() for p in reader.pages)
    for perspective in ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"):
        assert perspective in pdf_text
    wait_for(lambda: "klar" in inner_text(f_browser, "trender-pdf-status"), 20, "done message")


def test_trender_reads_right_for_a_committee(f_server, f_browser):
    """Göteborg's N20896 (a percentage with the 2009 definition change) and N20014 (net cost,
    no direction): the break drawn as a dashed line with its words and named in the verdict;
    the percentage axis from 0; the cost in plain words with the arrow-free wording and a note
    where its axis starts; the national line's n and the < 90 % years (223 of 290 in 1999)."""
    open_page(f_browser, f_server + "/trender?code=1480&kpis=N20896,N20014")
    cards = f_browser.find_elements("css selector", ".sk-trend-chart")
    assert len(cards) == 2
    wait_for(lambda: len(f_browser.find_elements("css selector", ".sk-trend-chart .main-svg")) >= 2, 30, "two charts")
    # the second chart is drawn once it is in view
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cards[1])
    wait_for(lambda: f_browser.execute_script(
        "return document.querySelectorAll('.sk-trend-chart .js-plotly-plot')[1].data.length"), 15, "the second chart")
    time.sleep(0.5)   # drawn (the traces are set, the SVG follows in the same task)
    pct, cost = (c.text for c in f_browser.find_elements("css selector", ".sk-trend-chart"))
    # the break: the words in the chart, the note under it, the verdict says the trend spans it
    svg_texts = f_browser.execute_script(
        "return [...document.querySelectorAll('.sk-trend-chart')].map(c => "
        "[...c.querySelectorAll('.annotation-text')].map(a => a.textContent))")
    assert "Ändrad definition 2009" in svg_texts[0] and "Ändrad definition 2009" not in svg_texts[1]
    dashed = f_browser.execute_script(
        "const c = document.querySelectorAll('.sk-trend-chart')[0];"
        "return [...c.querySelectorAll('.shapelayer path')].map(p => p.style.strokeDasharray || '')")
    assert any(d and d != "none" for d in dashed), "no dashed break line drawn"
    assert "spänner över en ändrad definition 2009" in pct
    assert "Ändrad definition 2009 (streckad lodrät linje):" in pct and "18,7 → 23,3" in pct
    # axes: the percentage from 0; the cost not from 0, and the chart says where it starts
    ranges = f_browser.execute_script(
        "return [...document.querySelectorAll('.sk-trend-chart .js-plotly-plot')].map(g => g._fullLayout.yaxis.range)")
    assert ranges[0][0] == 0
    assert ranges[1][0] > 0
    start = f"{int(ranges[1][0]):,}".replace(",", " ")      # WebDriver's text has plain spaces
    assert f"Axeln börjar vid {start} kr/inv, inte vid 0." in cost.replace("\u00a0", " ")
    assert any(x.startswith("Axeln börjar vid") for x in svg_texts[1])      # in the chart (and its PNG) too
    # the cost in plain words: a direction of change and its size per year, no "ingen riktning"
    verdicts = [v.text for v in f_browser.find_elements("css selector", ".sk-trend-chart .sk-verdict")]
    assert verdicts[1].startswith("Trend 2007–2011: ökar med ") or verdicts[1].startswith("Trend 2007–2011: minskar med ")
    assert "kr/inv per år" in verdicts[1]
    assert "ingen riktning" not in cost and "bakgrundsuppgift" not in cost
    assert "spänner över en ändrad definition 2009" in verdicts[0]
    # the national line: n on hover (the trace's hover texts), the < 90 % years marked open
    riket = f_browser.execute_script(
        "const g = document.querySelectorAll('.sk-trend-chart .js-plotly-plot')[1];"
        "const t = g._fullData.find(d => d.name === 'Riket (medel)');"
        "return [Array.from(t.x), Array.from(t.customdata), Array.from(t.marker.symbol)]")
    years, hover, symbols = riket
    i1999 = years.index(1999)
    assert "medel över 223 av 290 kommuner" in hover[i1999] and "färre än 90 %" in hover[i1999]
    assert symbols[i1999] == "square-open"
    i2011 = years.index(2011)
    assert "färre än 90 %" not in hover[i2011] and symbols[i2011] == "square"
    assert "1999" in cost and "färre än 90 % av kommunerna" in cost


def test_trender_png_export(f_server, f_browser, f_downloads):
    open_page(f_browser, f_server + "/trender?code=0180")
    before = {p.name for p in f_downloads.iterdir()}
    button = f_browser.find_elements("xpath", "//button[contains(., 'Ladda ner PNG')]")[0]
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", button)
    kid = json.loads(button.get_attribute("id"))["index"]
    path = wait_file(f_downloads, ".png", before, timeout=90)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # named like the file the server used to make: styrkort_<code>_<kpi>.png, 1400 x 800 px
    assert path.name == f"styrkort_0180_{kid}.png"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1400, 800)
    # a real chart (many colours), and nothing drawn in the outer 20 px: the title keeps off the edge
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    assert len(img.getcolors(maxcolors=1_000_000) or []) > 20
    edge = [img.getpixel((x, y)) for x in range(20) for y in range(0, 800, 4)]
    assert all(min(p) > 240 for p in edge), "something is drawn on the image's left edge"
    # drawn in the browser: no error shown under the button
    assert not inner_text(f_browser, json.dumps({"index": kid, "type": "trender-png-msg"},
                                                 separators=(",", ":"))).strip()


def test_trender_charts_below_the_first_are_drawn_when_scrolled_to(f_server, f_browser, f_downloads):
    """Charts after the first wait until they are in view (pages/trender.py _graph, styrkort.js):
    the last chart is an empty placeholder at first, has its traces once scrolled to, its PNG is
    the real chart, and after another municipality it shows that municipality's line."""
    open_page(f_browser, f_server + "/trender?code=0180")
    traces = lambda i: f_browser.execute_script(  # noqa: E731
        "const p = document.querySelectorAll('.sk-trend-chart .js-plotly-plot')[arguments[0]];"
        "return p && p.data ? p.data.map(t => t.name) : null", i)
    n = len(f_browser.find_elements("css selector", ".sk-trend-chart"))
    assert n >= 3 and traces(0)
    assert traces(n - 1) == []            # not in view yet: nothing drawn
    last = f_browser.find_elements("css selector", ".sk-trend-chart")[n - 1]
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", last)
    drawn = wait_for(lambda: traces(n - 1) or None, 15, "the last chart drawn once in view")
    assert "Stockholm" in drawn
    before = {p.name for p in f_downloads.iterdir()}
    button = last.find_element("xpath", ".//button[contains(., 'Ladda ner PNG')]")
    f_browser.execute_script("arguments[0].click()", button)
    path = wait_file(f_downloads, ".png", before, timeout=90)
    from PIL import Image

    assert len(Image.open(path).convert("RGB").getcolors(maxcolors=1_000_000) or []) > 20   # a real chart
    # another municipality: the chart in view is redrawn with its line
    from selenium.webdriver.support.ui import Select
    f_browser.execute_script("window.scrollTo(0, 0)")
    Select(f_browser.find_element("id", "trender-code")).select_by_value("1480")
    wait_for(lambda: "Göteborg" in (traces(0) or []), 20, "the first chart for Göteborg")
    f_browser.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                             f_browser.find_elements("css selector", ".sk-trend-chart")[n - 1])
    wait_for(lambda: "Göteborg" in (traces(n - 1) or []), 20, "the last chart for Göteborg")


def test_urval_year_change_updates_url_and_back_button_restores(f_server, f_browser, built_db):
    import duckdb
    from selenium.webdriver.support.ui import Select

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT year FROM composite_index WHERE is_default ORDER BY year").fetchall()]
    finally:
        con.close()
    first_year, other = years[-1], years[0]
    open_page(f_browser, f"{f_server}/urval?year={first_year}")
    caption = lambda: f_browser.execute_script(  # noqa: E731 - one atomic read (the page re-renders)
        "const w = document.getElementById('urval-selection-wrap'); return w ? w.innerText.split('\\n')[0] : ''")
    assert caption() == f"Urvalet 15/15 {first_year}"
    Select(f_browser.find_element("id", "urval-year")).select_by_value(str(other))
    wait_for(lambda: f"year={other}" in f_browser.current_url, 15, "year in the URL")
    wait_for(lambda: caption() == f"Urvalet 15/15 {other}", 20, "selection of the other year")
    f_browser.back()
    wait_for(lambda: f"year={first_year}" in f_browser.current_url, 15, "previous URL")
    wait_for(lambda: caption() == f"Urvalet 15/15 {first_year}", 20, "selection restored by the back button")


def test_statsbidrag_history_follows_the_url(f_server, f_browser):
    from selenium.webdriver.support.ui import Select

    open_page(f_browser, f_server + "/statsbidrag?code=1480")
    assert f_browser.find_element("id", "statsbidrag-code").get_attribute("value") == "1480"
    Select(f_browser.find_element("id", "statsbidrag-code")).select_by_value("0180")
    wait_for(lambda: "code=0180" in f_browser.current_url, 15, "code in the URL")
    wait_for(lambda: "Stockholm" in inner_text(f_browser, "statsbidrag-history-box"), 15, "history")


def test_urval_swap_added_from_the_controls(f_server, f_browser, built_db):
    import duckdb
    from selenium.webdriver.support.ui import Select

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        year = con.execute("SELECT max(year) FROM composite_index WHERE is_default").fetchone()[0]
        chosen = dict(con.execute(
            "SELECT i.municipality_code, i.size_group FROM selection_items i JOIN selections s USING (selection_id) "
            "WHERE s.is_default AND s.year = ? AND i.result = 'low'", [year]).fetchall())
        out_code, group = sorted(chosen.items())[0]
        in_code, in_name = next((c, n) for c, n in con.execute(
            "SELECT c.municipality_code, m.name FROM composite_index c JOIN municipalities m USING (municipality_code) "
            "WHERE c.is_default AND c.year = ? AND c.size_group = ? ORDER BY c.rank DESC", [year, group]).fetchall()
            if c not in chosen and c not in {r[0] for r in con.execute(
                "SELECT i.municipality_code FROM selection_items i JOIN selections s USING (selection_id) "
                "WHERE s.is_default AND s.year = ?", [year]).fetchall()})
    finally:
        con.close()
    open_page(f_browser, f"{f_server}/urval?year={year}")
    Select(f_browser.find_element("id", "urval-swap-out")).select_by_value(out_code)
    wait_for(lambda: f_browser.find_elements("css selector", f"#urval-swap-in option[value='{in_code}']"), 10,
             "the In list for the group")
    Select(f_browser.find_element("id", "urval-swap-in")).select_by_value(in_code)
    f_browser.find_element("id", "urval-swap-reason").send_keys("bättre matchning av kommuntyp")
    f_browser.execute_script("document.getElementById('urval-swap-add').click()")
    wait_for(lambda: "swaps=" in f_browser.current_url, 15, "swap in the URL")
    wait_for(lambda: "bättre matchning av kommuntyp" in inner_text(f_browser, "urval-selection-wrap"), 20,
             "the swap in the selection table")
    body = inner_text(f_browser, "urval-selection-wrap")
    assert in_name in body
    # listed with names: "Vaxholm (0187) → Ödeshög (0509): skäl"
    assert f"({out_code}) → {in_name} ({in_code}): bättre matchning av kommuntyp" in inner_text(f_browser, "urval-swap-list")
    assert wait_for(lambda: grid_rows(f_browser, "urval-selection-wrap") == 30, 10, "still 30 rows")


def _urval_year_and_selection(built_db):
    import duckdb

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        year = con.execute("SELECT max(year) FROM composite_index WHERE is_default").fetchone()[0]
        rows = con.execute(
            "SELECT c.municipality_code, m.name, c.size_group, c.group_rank, c.group_n FROM composite_index c "
            "JOIN municipalities m USING (municipality_code) WHERE c.is_default AND c.year = ?", [year]).fetchall()
        chosen = dict(con.execute(
            "SELECT i.municipality_code, i.result FROM selection_items i JOIN selections s USING (selection_id) "
            "WHERE s.is_default AND s.year = ?", [year]).fetchall())
    finally:
        con.close()
    return year, {r[0]: r[1:] for r in rows}, chosen


def test_urval_in_offers_the_out_group_with_ranks_and_warns_on_a_middle_one(f_server, f_browser, built_db):
    """'In' lists only the swapped-out municipality's size group, each with name, code and
    group rank; a municipality from the middle of its group (a rank neither in the top nor the
    bottom quarter, worked out here from group_rank and group_n) gets a warning with icon and text,
    before and after the swap is added; the swap is listed with names."""
    from selenium.webdriver.support.ui import Select

    year, info, chosen = _urval_year_and_selection(built_db)
    out_code = sorted(c for c, r in chosen.items() if r == "high" and info[c][1] == "medium")[0]
    out_name = info[out_code][0]
    group = {c for c, v in info.items() if v[1] == "medium" and c not in chosen}
    middle = sorted(c for c in group if info[c][3] // 4 < info[c][2] <= info[c][3] - info[c][3] // 4)
    top = sorted(c for c in group if info[c][2] <= info[c][3] // 4)
    in_code = middle[len(middle) // 2]
    in_name, _, in_rank, in_n = info[in_code]
    open_page(f_browser, f"{f_server}/urval?year={year}")
    assert not f_browser.find_elements("css selector", "#urval-swap-in option[value]:not([value=''])")
    Select(f_browser.find_element("id", "urval-swap-out")).select_by_value(out_code)
    wait_for(lambda: len(f_browser.find_elements("css selector", "#urval-swap-in option")) > 5, 10, "In options")
    opts = f_browser.execute_script(
        "return [...document.querySelectorAll('#urval-swap-in option')].filter(o => o.value)"
        ".map(o => [o.value, o.textContent])")
    assert {v for v, _ in opts} == group                      # the group's unselected municipalities, no other
    labels = dict(opts)
    assert labels[in_code].startswith(f"{in_name} ({in_code}), plats {in_rank} av {in_n} i storleksgruppen")
    assert "mitt i gruppen" in labels[in_code] and "mitt i gruppen" not in labels[top[0]]
    # a top-quarter municipality for a high result: no warning
    Select(f_browser.find_element("id", "urval-swap-in")).select_by_value(top[0])
    warning = f_browser.find_element("id", "urval-swap-in-warning")
    wait_for(lambda: not warning.is_displayed(), 10, "no warning for a top-quarter municipality")
    Select(f_browser.find_element("id", "urval-swap-in")).select_by_value(in_code)
    wait_for(lambda: warning.is_displayed(), 10, "the warning for a middle municipality")
    text = warning.text
    assert text.startswith("⚠ Varning:") and f"plats {in_rank} av {in_n}" in text and "mitt i gruppen" in text
    f_browser.find_element("id", "urval-swap-reason").send_keys("samma län")
    f_browser.execute_script("document.getElementById('urval-swap-add').click()")
    wait_for(lambda: "swaps=" in f_browser.current_url, 15, "swap in the URL")
    listed = wait_for(lambda: (lambda x: x if "→" in x else None)(inner_text(f_browser, "urval-swap-list")), 20,
                      "the swap in the list")
    assert f"{out_name} ({out_code}) → {in_name} ({in_code}): samma län" in listed
    assert "⚠" in listed and "Varning:" in listed and "mitt i gruppen" in listed


def test_urval_county_limit_applies_as_it_is_typed(f_server, f_browser, built_db):
    """Typing in the county field applies the limit at once (no Enter, no leaving the field):
    the URL and the selection follow, the field keeps the focus so a second digit extends it."""
    year, _info, _chosen = _urval_year_and_selection(built_db)
    open_page(f_browser, f"{f_server}/urval?year={year}")
    field = f_browser.find_element("id", "urval-maxcounty")
    field.click()
    field.send_keys("1")
    wait_for(lambda: "max_per_county=1" in f_browser.current_url, 15, "the limit in the URL")

    def pairs():
        rows = f_browser.execute_script(
            "return [...document.querySelectorAll('#urval-selection-wrap tbody tr')].filter(r => !r.hidden)"
            ".map(r => [...r.cells].map(c => c.innerText))")
        return [(r[3], r[8]) for r in rows if len(r) > 8]
    got = wait_for(lambda: (lambda p: p if len(p) == 30 and len(set(p)) == 30 else None)(pairs()), 20,
                   "a selection with at most one per county and result")
    assert len(got) == 30
    assert f_browser.execute_script("return document.activeElement.id") == "urval-maxcounty"
    f_browser.switch_to.active_element.send_keys("2")
    wait_for(lambda: "max_per_county=12" in f_browser.current_url, 15, "the second digit applied")
    assert f_browser.find_element("id", "urval-maxcounty").get_attribute("value") == "12"
    # a value out of range says so and changes nothing
    f_browser.switch_to.active_element.send_keys("0")                   # 120
    wait_for(lambda: "Högst antal per län" in inner_text(f_browser, "urval-maxc-msg"), 10, "the limit's message")
    assert "max_per_county=12" in f_browser.current_url


def test_urval_runs_table_shows_human_timestamps(f_server, f_browser):
    import re

    open_page(f_browser, f_server + "/urval")
    cells = wait_for(lambda: f_browser.execute_script(
        "return [...document.querySelectorAll('#urval-runs-wrap [col-id=created_at][role=gridcell], "
        "#urval-runs-wrap td[data-col=created_at]')]"
        ".map(c => c.innerText)"), 15, "the runs' creation times")
    months = "jan|feb|mar|apr|maj|jun|jul|aug|sep|okt|nov|dec"
    assert all(re.fullmatch(rf"\d{{1,2}} ({months}) \d{{4}} \d\d:\d\d", c) for c in cells), cells
    block = f_browser.execute_script(
        "const w = document.getElementById('urval-runs-wrap'); return w.parentElement.innerText")
    assert "`" not in block and "styrkort select" in block
