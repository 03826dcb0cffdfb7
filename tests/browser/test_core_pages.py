"""The core pages in a real headless Chromium against `styrkort serve` on the embedded default:
/, /kommun/<code>, /jamfor, /om, unknown paths, downloads, the language switch, the CSP and
hostile input. Expected values come from plain SQL on the same warehouse."""
from __future__ import annotations

import csv
import io
import re
import shutil
import urllib.parse

import importlib.util
from pathlib import Path

import duckdb
import pytest
from layout_support import sql

# The helpers live in this folder's conftest.py; load it under its own name (a bare
# `import conftest` could pick up tests/conftest.py).
_spec = importlib.util.spec_from_file_location("_browser_helpers", Path(__file__).with_name("conftest.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
body_text, http_get, wait_for = _helpers.body_text, _helpers.http_get, _helpers.wait_for
wait_for_download, wait_for_text, wait_rendered = (_helpers.wait_for_download, _helpers.wait_for_text,
                                                   _helpers.wait_rendered)

pytestmark = pytest.mark.browser

PERSPECTIVES_SV = ["Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"]
PERSPECTIVES_EN = ["Care recipients", "Finances", "Staff and development", "Operations and processes"]


def h1(driver) -> str:
    return driver.find_element("css selector", "h1").text


_PAGE_404 = re.compile(r"^https?://[^/]+(?!/assets/|/_dash)/\S* - Failed to load resource: the server "
                       r"responded with a status of 404")


def severe_console(driver) -> list[str]:
    """SEVERE browser-console messages, except the 404 of a page document itself (unknown
    codes and paths answer 404 on purpose; the log keeps them across page loads)."""
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not _PAGE_404.match(e["message"])]


def click(driver, element):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()",
                          element)


# -- pages render -------------------------------------------------------------------------------------

def test_start_page_search_map_and_table(open_page, built_db):
    d = open_page("/")
    assert h1(d) == "Styrkort för äldreomsorgen"
    label = d.find_element("css selector", "label[for='home-search']")
    assert "Sök kommun" in label.text
    # the map draws one shape per municipality (290)
    n = wait_for(lambda: d.execute_script(
        "return document.querySelectorAll('#home-map .choroplethlocation').length") or None,
        20, "map shapes")
    assert n == 290
    assert "Så läser du" in body_text(d)
    assert d.find_elements("xpath", "//div[@id='karta-wrap']//button[contains(., 'CSV')]")
    # hits appear under the box while typing (ranked, forgiving: see test_search_forgives)
    d.find_element("id", "home-search").send_keys("gotebor")
    wait_for(lambda: "Göteborg" in d.find_element("id", "home-search-results").text, 20, "a hit list")
    assert not severe_console(d)


def test_search_by_name_opens_the_scorecard(open_page, server_url):
    d = open_page("/")
    box = d.find_element("id", "home-search")
    box.send_keys("göteborg")
    d.find_element("id", "home-search-go").click()
    wait_for(lambda: d.current_url.endswith("/kommun/1480"), 20, "navigation to /kommun/1480")
    wait_rendered(d)
    assert h1(d) == "Göteborg"


def test_search_by_code_with_enter_and_unknown_name(open_page):
    from selenium.webdriver.common.keys import Keys

    d = open_page("/")
    box = d.find_element("id", "home-search")
    box.send_keys("0180" + Keys.ENTER)
    wait_for(lambda: d.current_url.endswith("/kommun/0180"), 20, "navigation to /kommun/0180")
    d = open_page("/")
    box = d.find_element("id", "home-search")
    box.send_keys("Atlantis" + Keys.ENTER)
    wait_for_text(d, "Hittade ingen kommun som heter")
    assert "/kommun/" not in d.current_url  # stayed on the start page


@pytest.mark.parametrize("query,code,name", [("goteborg", "1480", "Göteborg"), ("odeshog", "0509", "Ödeshög"),
                                              ("malu", "2023", "Malung-Sälen"), ("0509", "0509", "Ödeshög"),
                                              ("MALMO", "1280", "Malmö")])
def test_search_forgives(open_page, query, code, name):
    """The issue's queries: the first hit is the municipality and Enter opens its scorecard."""
    from selenium.webdriver.common.keys import Keys

    d = open_page("/")
    box = d.find_element("id", "home-search")
    box.send_keys(query)
    first = wait_for(lambda: d.find_elements("css selector", "#home-search-results a"), 20, "hits")[0]
    assert first.text.startswith(name) and f"/kommun/{code}" in first.get_attribute("href")
    assert "Enter öppnar " + name in d.find_element("id", "home-search-msg").text
    box.send_keys(Keys.ENTER)
    wait_for(lambda: d.current_url.endswith(f"/kommun/{code}"), 20, f"navigation to /kommun/{code}")
    wait_rendered(d)
    assert h1(d) == name


def test_search_by_keyboard_and_units(open_page, built_db):
    """↓ moves from the box into the hits, ↑ back; a unit is found by part of its name."""
    from selenium.webdriver.common.keys import Keys

    d = open_page("/")
    box = d.find_element("id", "home-search")
    box.send_keys("mal")
    hits = wait_for(lambda: (lambda h: h if len(h) >= 3 else None)(
        d.find_elements("css selector", "#home-search-results a")), 20, "three hits for 'mal'")
    assert [h.text.split(" (")[0] for h in hits[:3]] == ["Malå", "Malmö", "Malung-Sälen"]
    box.send_keys(Keys.ARROW_DOWN)
    assert d.switch_to.active_element == hits[0]
    d.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert d.switch_to.active_element == hits[1]
    d.switch_to.active_element.send_keys(Keys.ARROW_UP, Keys.ARROW_UP)
    assert d.switch_to.active_element == box
    d.switch_to.active_element.send_keys(Keys.ARROW_DOWN, Keys.ARROW_DOWN, Keys.ENTER)
    wait_for(lambda: d.current_url.endswith("/kommun/1280"), 20, "navigation to Malmö")
    # units by name (demo unit in Göteborg)
    unit_id, unit_name = sql(built_db, "SELECT unit_id, name FROM org_units WHERE name LIKE '%Linné%'")[0]
    d = open_page("/")
    d.find_element("id", "home-search").send_keys("linnestaden")
    hit = wait_for(lambda: d.find_elements("css selector", "#home-search-results a"), 20, "unit hit")[0]
    assert hit.text.startswith(unit_name) and "enhet" in hit.text and unit_id in hit.get_attribute("href")


@pytest.mark.parametrize("code,name", [("1480", "Göteborg"), ("0180", "Stockholm")])
def test_scorecard_shows_four_perspectives(open_page, built_db, code, name):
    d = open_page(f"/kommun/{code}")
    assert h1(d) == name
    headings = [e.text for e in d.find_elements("css selector", ".sk-perspective h2")]
    assert headings == PERSPECTIVES_SV
    text = body_text(d)
    # a status in words (not colour only), demo labels, place among all and in the size group
    assert "bland de 25 %" in text and "DEMO" in text and "plats " in text and " av " in text
    # one value from the warehouse, formatted by hand (sv-SE: decimal comma, no-break space, %)
    year, value = sql(built_db, "SELECT year, value FROM scorecard WHERE municipality_code = ? "
                                "AND kpi_id = 'DEMO_HT_BEMOT' AND value IS NOT NULL "
                                "ORDER BY year DESC LIMIT 1", [code])[0]
    shown = f"{value:.1f}".replace(".", ",") + "\u00a0%"
    assert shown in d.execute_script("return document.body.textContent")
    # header: composite rank "N av 290" and the rank interval, cost deviation labelled
    rank = sql(built_db, "SELECT rank FROM composite_index WHERE municipality_code = ? AND year = ?",
               [code, year])[0][0]
    assert f"{rank} av 290" in text
    assert "90 %-intervall" in text
    assert "(modellerad)" in text or "(officiell)" in text
    assert not severe_console(d)


def test_scorecard_year_in_url_and_back_button(open_page, browser, built_db):
    years = [r[0] for r in sql(built_db, "SELECT DISTINCT year FROM scorecard WHERE "
                                          "municipality_code = '1480' ORDER BY 1")]
    first, other = years[-3], years[-1]
    d = open_page(f"/kommun/1480?year={first}")
    from selenium.webdriver.support.ui import Select

    assert Select(d.find_element("id", "kommun-year")).first_selected_option.text == str(first)
    assert f"Balanserat styrkort för {first}" in body_text(d)
    Select(d.find_element("id", "kommun-year")).select_by_visible_text(str(other))
    wait_for(lambda: f"year={other}" in d.current_url, 20, "year in the URL")
    wait_for_text(d, f"Balanserat styrkort för {other}")
    d.back()
    wait_for(lambda: f"year={first}" in d.current_url, 20, "back to the first year")
    wait_for_text(d, f"Balanserat styrkort för {first}")
    assert Select(d.find_element("id", "kommun-year")).first_selected_option.text == str(first)
    # "senaste" is the URL without ?year= (the year goes into the URL in the browser)
    Select(d.find_element("id", "kommun-year")).select_by_value("senaste")
    wait_for(lambda: "year=" not in d.current_url and d.current_url.endswith("/kommun/1480"), 20, "no year")
    d.get(d.current_url + "?lang=en")
    wait_for(lambda: d.find_elements("id", "kommun-year") and "Balanced scorecard" in body_text(d), 20, "English")
    Select(d.find_element("id", "kommun-year")).select_by_visible_text(str(other))
    wait_for(lambda: d.current_url.endswith(f"/kommun/1480?year={other}&lang=en"), 20, "year then lang")


def test_weak_perspective_links_success_factors(open_page, built_db):
    """Find a municipality where a perspective has at least half of its rated KPIs (each at its
    latest year) among the worst 25 % of all municipalities (computed here in SQL) and check the
    success-factor box is shown for it."""
    row = sql(built_db, """
        WITH s AS (SELECT s.municipality_code, k.perspective, p.status FROM scorecard s
              JOIN kpi_positions p USING (kpi_id, municipality_code, year)
              JOIN kpis k USING (kpi_id)
              WHERE s.is_latest AND p.status IN ('best25', 'middle50', 'worst25'))
        SELECT municipality_code, perspective FROM s GROUP BY 1, 2
        HAVING count(*) >= 2 AND 2 * count(*) FILTER (WHERE status = 'worst25') >= count(*)
        ORDER BY 1, 2 LIMIT 1""")
    assert row, "no weak perspective in the embedded default (demo data should have some)"
    code, perspective = row[0]
    d = open_page(f"/kommun/{code}")
    box = d.find_elements("css selector", f"section[aria-labelledby='persp-{perspective}'] .sk-success-factors")
    assert box, f"no success factors shown for {code} {perspective}"
    assert "framgångsfaktorer" in box[0].text.lower()


@pytest.mark.parametrize("path,shown", [
    ("/kommun/9999", "Kommunkoden 9999 finns inte"),
    ("/kommun/abc", "Kommunkoden abc finns inte"),
    ("/kommun/" + urllib.parse.quote("0180';DROP TABLE kpi;--"), "Kommunkoden 0180';DROP TABLE kpi;-- finns inte"),
])
def test_unknown_codes_are_friendly(open_page, built_db, path, shown):
    d = open_page(path)
    assert h1(d) == shown
    link = d.find_element("xpath", "//a[contains(., 'Sök en kommun')]")
    assert link.get_attribute("href").endswith("/")
    assert "Traceback" not in body_text(d) and "Error" not in body_text(d)
    # nothing was dropped: the warehouse still has its KPIs
    assert sql(built_db, "SELECT count(*) FROM kpis")[0][0] > 0


@pytest.mark.parametrize("path", ["/kommun/9999", "/finns/inte", "/kommun/0180?year=1800"])
def test_unknown_things_answer_http_404_with_the_friendly_page(server_url, path):
    status, _headers, body = http_get(server_url + path)
    assert status == 404 and "react-entry-point" in body


def test_out_of_range_year_says_so(open_page, built_db):
    first, last = sql(built_db, "SELECT min(year), max(year) FROM scorecard WHERE municipality_code = '0180' "
                                "AND value IS NOT NULL")[0]
    d = open_page("/kommun/0180?year=1800")
    text = wait_for_text(d, "Det finns inga uppgifter för år 1800")
    notice = d.find_element("css selector", ".sk-year-notice").text
    assert f"Uppgifter finns för {first}–{last}; sidan visar det senaste värdet för varje nyckeltal." in notice
    assert h1(d) == "Stockholm"
    for path in ("/kostnad?year=1800", "/urval?year=1800", "/?year=1800"):
        d = open_page(path)
        wait_for_text(d, "Det finns inga uppgifter för år 1800")
    d = open_page(f"/kommun/0180?year={last}")
    assert "Det finns inga uppgifter" not in body_text(d)


def test_jamfor_same_municipality_twice_says_so(open_page):
    d = open_page("/jamfor?a=0180&b=0180")
    text = wait_for_text(d, "Stockholm är vald två gånger")
    assert "är bättre på" not in text


def test_trender_menu_opens_the_last_municipality_viewed(open_page, browser, server_url):
    # clear the browser's storage on a same-origin page without the app (a live page's Store could
    # still hold the last code in memory and write it back)
    browser.get(server_url + "/assets/styrkort.css")
    browser.execute_script("window.localStorage.clear()")
    d = open_page("/om")
    link = d.find_element("xpath", "//nav//a[normalize-space()='Trender']")
    assert link.get_attribute("href").endswith("/trender")   # nobody viewed yet: the chooser
    d = open_page("/trender")
    wait_for_text(d, "Välj en kommun för att se dess trenddiagram")
    assert "Göteborg" not in d.find_element("id", "trender-charts").text
    open_page("/kommun/0509")
    link = wait_for(lambda: (lambda a: a if a.get_attribute("href").endswith("/trender?code=0509") else None)(
        d.find_element("xpath", "//nav//a[normalize-space()='Trender']")), 20, "Trender link with code=0509")
    click(d, link)
    wait_for(lambda: d.current_url.endswith("/trender?code=0509"), 20, "navigation to /trender?code=0509")
    wait_rendered(d)
    assert d.find_element("id", "trender-code").get_attribute("value") == "0509"
    # another visit (new page load) still remembers it
    d = open_page("/om")
    assert wait_for(lambda: d.find_element("xpath", "//nav//a[normalize-space()='Trender']")
                    .get_attribute("href").endswith("/trender?code=0509"), 20, "remembered code")


def test_unknown_path_is_a_friendly_404(open_page):
    d = open_page("/finns/inte")
    assert h1(d) == "Sidan finns inte"
    assert d.find_element("xpath", "//a[contains(., 'startsidan')]")


def test_jamfor_two_municipalities(open_page, built_db):
    d = open_page("/jamfor?a=0180&b=1480")
    assert h1(d) == "Jämför två kommuner"
    # independent count of KPIs where Stockholm is better, each KPI at the latest year in which
    # both have a value of it, by direction
    a_better, b_better = sql(built_db, """
        WITH both_years AS (
            SELECT a.kpi_id, max(a.year) AS year FROM scorecard a JOIN scorecard b USING (kpi_id, year)
            WHERE a.municipality_code = '0180' AND b.municipality_code = '1480'
              AND a.value IS NOT NULL AND b.value IS NOT NULL GROUP BY a.kpi_id)
        SELECT count(*) FILTER (WHERE (a.value > b.value AND k.higher_is_better)
                                   OR (a.value < b.value AND NOT k.higher_is_better)),
               count(*) FILTER (WHERE (a.value < b.value AND k.higher_is_better)
                                   OR (a.value > b.value AND NOT k.higher_is_better))
        FROM both_years y JOIN scorecard a USING (kpi_id, year) JOIN scorecard b USING (kpi_id, year)
        JOIN kpis k USING (kpi_id)
        WHERE a.municipality_code = '0180' AND b.municipality_code = '1480'""")[0]
    text = body_text(d)
    assert "Stockholm – Göteborg, senaste gemensamma år per nyckeltal" in text
    assert f"Stockholm är bättre på {a_better} och Göteborg på {b_better}" in text
    assert "Stockholm bättre" in text and "Göteborg bättre" in text   # marked in words
    # the real Kolada net cost (ends 2011) is compared in its own latest year
    row = [r.text for r in d.find_elements("css selector", ".sk-kpi-table tbody tr")
           if r.text.startswith("Nettokostnad äldreomsorg, kr/inv") and "65+" not in r.text]
    assert row and "2011" in row[0], row
    assert not severe_console(d)


def test_jamfor_controls_write_the_url(open_page):
    from selenium.webdriver.support.ui import Select

    d = open_page("/jamfor")
    Select(d.find_element("id", "jamfor-a")).select_by_value("0180")
    wait_for(lambda: "a=0180" in d.current_url, 20, "a in URL")
    wait_rendered(d)
    Select(d.find_element("id", "jamfor-b")).select_by_value("1480")
    wait_for(lambda: "a=0180" in d.current_url and "b=1480" in d.current_url, 20, "a and b in URL")
    wait_for_text(d, "Stockholm – Göteborg")


def test_jamfor_two_units_monthly(open_page, built_db):
    units = dict((n, u) for u, n in sql(built_db, "SELECT unit_id, name FROM org_units WHERE "
                                                   "municipality_code = '1480'"))
    linne = next(u for n, u in units.items() if "Linné" in n)
    bergs = next(u for n, u in units.items() if "Bergsjö" in n)
    d = open_page(f"/jamfor?unit_a={linne}&unit_b={bergs}")
    assert h1(d) == "Jämför två enheter"
    n_kpis = sql(built_db, "SELECT count(DISTINCT kpi_id) FROM unit_values WHERE unit_id IN (?, ?)",
                 [linne, bergs])[0][0]
    graphs = wait_for(lambda: len(d.find_elements("css selector", "[id^='jamfor-unit-graph-'] .main-svg"))
                      >= n_kpis and d.find_elements("css selector", "[id^='jamfor-unit-graph-']"),
                      20, "one chart per KPI")
    assert len(graphs) == n_kpis
    text = body_text(d)
    assert "DEMO" in text and "demodata" in text
    assert "Linnéstaden" in text and "Bergsjön" in text


def test_om_lists_datasets_with_demo_flags(open_page, built_db):
    d = open_page("/om")
    assert h1(d) == "Om data och metoder"
    names = [r[0] for r in sql(built_db, "SELECT dataset FROM datasets")]
    n_demo = sql(built_db, "SELECT count(*) FROM datasets WHERE is_demo")[0][0]
    text = wait_for_text(d, names[0])
    assert f"{len(names)} datamängder, varav {n_demo} är demodata" in text
    for heading in ("Sammanvägt index", "Storleksgrupper", "Kostnad och standardkostnad (modellerad)",
                    "Trender", "Statsbidrag och ramar", "Åtta framgångsfaktorer"):
        assert heading in text


# -- downloads -------------------------------------------------------------------------------------------

def test_csv_download_of_grants_on_the_scorecard(open_page, built_db, clean_downloads):
    d = open_page("/kommun/0180")
    section = d.find_element("css selector", "section[aria-labelledby='kommun-grants']")
    click(d, section.find_element("xpath", ".//button[contains(., 'CSV')]"))
    path = wait_for_download(clean_downloads, ".csv")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Omgång", "År", "Pott"] and rows[0][-1] == "demo"
    expected = sql(built_db, "SELECT round, pot, granted_sek FROM grant_uptake WHERE "
                             "municipality_code = '0180' ORDER BY round, pot")
    assert [(r[0], int(r[rows[0].index("Pott")])) for r in rows[1:]] == [(e[0], e[1]) for e in expected]
    pot, granted_col = rows[0].index("Pott"), rows[0].index("Beviljat (kr)")
    granted = {r[0] + "/" + r[pot]: r[granted_col] for r in rows[1:]}
    for rnd, pot, g in expected:
        assert granted[f"{rnd}/{pot}"] == ("" if g is None else str(g).replace(".", ","))


def test_csv_download_of_datasets(open_page, built_db, clean_downloads):
    d = open_page("/om")
    wait_for(lambda: d.find_elements("css selector", "#datakallor-wrap tbody tr"), 20, "rows")
    click(d, d.find_element("xpath", "//div[@id='datakallor-wrap']//button[contains(., 'CSV')]"))
    path = wait_for_download(clean_downloads, ".csv")
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Datamängd", "Beskrivning", "Källa"]
    expected = sorted(r[0] for r in sql(built_db, "SELECT dataset FROM datasets"))
    assert sorted(r[0] for r in rows[1:]) == expected


def test_excel_download_of_the_scorecard(open_page, built_db, clean_downloads):
    import openpyxl

    d = open_page("/kommun/1480")
    wrap = d.find_element("id", "styrkort-1480-download")
    click(d, wrap.find_element("xpath", ".//button[contains(., 'Excel')]"))
    path = wait_for_download(clean_downloads, ".xlsx")
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert "Nyckeltal" in header and "Värde" in header
    year = sql(built_db, "SELECT max(year) FROM scorecard WHERE municipality_code='1480' AND value IS NOT NULL")[0][0]
    value = sql(built_db, "SELECT value FROM scorecard WHERE municipality_code='1480' AND year=? "
                          "AND kpi_id='DEMO_HT_BEMOT'", [year])[0][0]
    title = sql(built_db, "SELECT title FROM kpis WHERE kpi_id='DEMO_HT_BEMOT'")[0][0]
    rows = {r[header.index("Nyckeltal")]: r[header.index("Värde")] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[title] == pytest.approx(value)


# -- language ---------------------------------------------------------------------------------------------

def test_language_switch_to_english_and_back(open_page, browser):
    d = open_page("/kommun/0180?year=2012")
    click(d, d.find_element("id", "sk-lang-switch"))
    wait_for(lambda: "lang=en" in d.current_url and "year=2012" in d.current_url, 20, "lang=en")
    wait_rendered(d)
    wait_for(lambda: [e.text for e in d.find_elements("css selector", ".sk-perspective h2")]
             == PERSPECTIVES_EN, 20, "English perspectives")
    assert d.execute_script("return document.documentElement.lang") == "en"
    text = body_text(d)
    assert "the best 25%" in text or "the worst 25%" in text or "middle 50%" in text
    assert "Rank among all municipalities" in text
    # the menu keeps the language
    hrefs = [a.get_attribute("href") for a in d.find_elements("css selector", ".sk-navbar nav a")]
    assert hrefs and all("lang=en" in h for h in hrefs)
    click(d, d.find_element("id", "sk-lang-switch"))
    wait_for(lambda: "lang=en" not in d.current_url, 20, "back to Swedish")
    wait_rendered(d)
    assert [e.text for e in d.find_elements("css selector", ".sk-perspective h2")] == PERSPECTIVES_SV


# -- security ---------------------------------------------------------------------------------------------

def test_csp_and_nosniff_headers(server_url):
    for path in ("/", "/kommun/0180", "/om", "/_dash-layout", "/assets/styrkort.css"):
        status, headers, _ = http_get(server_url + path)
        assert status == 200, path
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-eval" not in csp
        assert headers.get("X-Content-Type-Options") == "nosniff", path


def test_pages_run_under_the_csp_without_violations(open_page):
    for path in ("/", "/kommun/1480", "/jamfor?a=0180&b=1480", "/om"):
        d = open_page(path)
        bad = [m for m in severe_console(d) if "Content Security Policy" in m or "Refused" in m]
        assert not bad, (path, bad)


@pytest.fixture(scope="module")
def hostile_server(built_db, start_dashboard, tmp_path_factory):
    """A copy of the warehouse whose KPI title and unit name carry HTML/script."""
    path = tmp_path_factory.mktemp("hostile") / "warehouse.duckdb"
    shutil.copy(built_db, path)
    con = duckdb.connect(str(path))
    con.execute("UPDATE kpi SET title = '<script>window.__pwned=1;alert(1)</script><b>Fet</b> titel' "
                "WHERE kpi_id = 'DEMO_HT_BEMOT'")
    con.execute("UPDATE org_unit SET name = '<img src=x onerror=\"window.__pwned=2\">Enhet' "
                "WHERE unit_id = (SELECT min(unit_id) FROM org_unit WHERE municipality_code = '1480')")
    con.execute("CHECKPOINT")
    con.close()
    return start_dashboard(path)


def test_script_in_kpi_title_is_shown_as_text(browser, hostile_server):
    from selenium.common.exceptions import NoAlertPresentException

    browser.get(hostile_server + "/kommun/1480")
    wait_rendered(browser)
    wait_for_text(browser, "<script>window.__pwned=1;alert(1)</script><b>Fet</b> titel")
    wait_for_text(browser, "<img src=x onerror=\"window.__pwned=2\">Enhet")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements("css selector", ".sk-perspective b")  # no markup injected
    browser.get(hostile_server + "/jamfor?a=1480&b=0180")
    wait_rendered(browser)
    wait_for_text(browser, "<script>window.__pwned=1;alert(1)</script>")
    assert browser.execute_script("return window.__pwned === undefined")


def test_prod_server_with_gunicorn_workers(built_db, start_dashboard):
    url = start_dashboard(built_db, prod=True)
    for path in ("/", "/kommun/1480", "/om"):
        status, headers, body = http_get(url + path)
        assert status == 200 and "_dash-config" in body
        assert headers.get("X-Content-Type-Options") == "nosniff"
