"""Balansen units end to end in real headless Chromium: a unit register and monthly values written
by this test (no shipped file has them) are imported with `styrkort import units` and
`styrkort import unit-values`, `styrkort refresh` computes the unit marts, and /enhet/<id>,
/enheter?kommun=… and /jamfor?unit_a=..&unit_b=.. show the values computed here by hand; the
demo units' pages, the templates, 404s, a phone and axe-core."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_support import BLOCKING_IMPACTS, axe_source, format_violations, run_axe, wait_rendered  # noqa: E402
from conftest import body_text, http_get, make_browser, wait_for, wait_for_text  # noqa: E402

pytestmark = pytest.mark.browser

MONTHS = [f"2013-{m:02d}" for m in range(1, 13)]
# Gävle (2180): three home-care units; sick leave (lower is better) and cost per care recipient.
SICK = {"GV-HT-1": [7.0, 7.2, 6.8, 6.9, 7.1, 6.6, None, 6.0, 6.2, 6.4, 6.3, 6.5],   # July not reported
        "GV-HT-2": [8.0] * 12,
        "GV-HT-3": [7.0] * 12}
COST = {"GV-HT-1": 21000, "GV-HT-2": 24000, "GV-HT-3": 22500}


def _files(folder: Path) -> tuple[Path, Path]:
    register = folder / "gavle_enheter.csv"
    register.write_text("unit_id;name;municipality_code;kind;district;provider;valid_from\n"
                        "GV-HT-1;Hemtjänst Sätra;Gävle;hemtjänst;Väster;egen regi;2013-01\n"
                        "GV-HT-2;Hemtjänst Brynäs;2180;hemtjänst;Söder;enskild regi;2013-01\n"
                        "GV-HT-3;Hemtjänst Andersberg;2180;Hemtjänst;Söder;egen regi;\n", encoding="utf-8")
    values = folder / "gavle_varden.csv"
    lines = ["unit_id;kpi_id;period;value"]
    for unit, series in SICK.items():
        for month, v in zip(MONTHS, series):
            lines.append(f"{unit};BAL_SJUKFRANVARO;{month};{'' if v is None else str(v).replace('.', ',')}")
        lines.append(f"{unit};BAL_KOSTNAD_VT;2013-12;{COST[unit]}")
    values.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return register, values


@pytest.fixture(scope="module")
def units_server(built_db, start_dashboard, tmp_path_factory):
    from styrkort.cli import app

    folder = tmp_path_factory.mktemp("units")
    db = folder / "warehouse.duckdb"
    shutil.copy(built_db, db)
    register, values = _files(folder)
    runner = CliRunner()
    for args in (["import", "units", str(register)], ["import", "unit-values", str(values)], ["refresh"]):
        r = runner.invoke(app, [*args, "--db", str(db)])
        assert r.exit_code == 0, r.output
    return start_dashboard(db)


@pytest.fixture(scope="module")
def page(units_server, browser):
    def _open(path):
        browser.get(units_server + path)
        wait_rendered(browser)
        return browser
    return _open


def test_unit_page_shows_latest_month_peers_status_and_missing_months(page):
    d = page("/enhet/GV-HT-1")
    assert d.find_element("css selector", "h1").text == "Hemtjänst Sätra"
    text = body_text(d)
    assert "hemtjänst · Gävle · Väster · egen regi" in text
    assert "Balanserat styrkort för december 2013" in text
    for p in ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"):
        assert d.find_element("xpath", f"//section//h2[normalize-space()='{p}']")
    card = d.find_element("id", "enhet-kpi-BAL_SJUKFRANVARO").text
    # December: 6,5 against the others' 8,0 and 7,0 -> median 7,5, range 7,0–8,0; lower is better
    assert "6,5 %" in card and "december 2013" in card
    assert "Övriga enheter (2)" in card and "median 7,5 %, spann 7,0 %–8,0 %" in card
    assert "bättre än medianen" in card
    # July is missing: one of the last 12 months (the unit started in January: 12 months followed)
    assert "1 av 12 månader saknas" in card
    spark = d.find_element("css selector", "#enhet-kpi-BAL_SJUKFRANVARO img.sk-month-spark")
    assert "jul 2013 uppgift saknas" in spark.get_attribute("alt")
    cost = d.find_element("id", "enhet-kpi-BAL_KOSTNAD_VT").text
    # 21 000 against 24 000 and 22 500: median 23 250, lower is better
    assert "21 000 kr/månad" in cost and "median 23 250 kr/månad" in cost and "bättre än medianen" in cost
    # 12-month trend needs a year before: too few months
    assert "för få månader med uppgift för en trend" in card
    assert "DEMO" not in d.find_element("css selector", "h1").text


def test_unit_list_of_a_municipality(page):
    d = page("/enheter?kommun=2180")
    assert d.find_element("css selector", "h1").text == "Enheter i Gävle"
    cards = {c.find_element("css selector", "h3 a").text: c.text
             for c in d.find_elements("css selector", "article.sk-unit-card")}
    assert set(cards) == {"Hemtjänst Sätra", "Hemtjänst Brynäs", "Hemtjänst Andersberg"}
    assert "december 2013: 2 bättre, 0 som, 0 sämre än medianen, 0 saknas" in cards["Hemtjänst Sätra"]
    assert "21 000 kr/månad" in cards["Hemtjänst Sätra"] and "8,0 %" in cards["Hemtjänst Brynäs"]
    link = d.find_element("xpath", "//article//a[normalize-space()='Hemtjänst Brynäs']")
    assert link.get_attribute("href").endswith("/enhet/GV-HT-2")
    link.click()
    wait_for(lambda: d.current_url.endswith("/enhet/GV-HT-2"), 20, "the unit's page")
    wait_rendered(d)
    assert d.find_element("css selector", "h1").text == "Hemtjänst Brynäs"


def test_compare_two_imported_units(page):
    d = page("/jamfor?unit_a=GV-HT-1&unit_b=GV-HT-3")
    assert d.find_element("css selector", "h1").text == "Jämför två enheter"
    text = wait_for_text(d, "Hemtjänst Sätra – Hemtjänst Andersberg")
    assert "Enheterna och deras månadsvärden är demodata" not in text   # real units: no demo notice
    cells = wait_for(lambda: d.execute_script(
        "return [...document.querySelectorAll('.sk-plain-table tbody tr')]"
        ".map(r => r.innerText.replace(/\\s+/g, ' '))") or None,
        20, "monthly table rows")
    assert any("2013-12" in c and "6,5" in c and "7,0" in c for c in cells), cells[:5]


def test_templates_download_and_unknown_units_are_404(units_server):
    status, headers, body = http_get(units_server + "/enheter/mall/enheter.csv")
    assert status == 200 and body.lstrip("\ufeff").startswith("unit_id,name,municipality_code,kind")
    status, headers, _ = http_get(units_server + "/enheter/mall/enhetsvarden.xlsx")
    assert status == 200 and "spreadsheetml" in headers["Content-Type"]
    assert http_get(units_server + "/enhet/GV-HT-9")[0] == 404
    assert http_get(units_server + "/enhet/GV-HT-1")[0] == 200
    assert http_get(units_server + "/jamfor?unit_a=GV-HT-1&unit_b=NOPE")[0] == 404


def test_templates_are_linked_from_the_unit_list(page):
    d = page("/enheter?kommun=2180")
    links = {a.get_attribute("href").rsplit("/", 1)[-1] for a in
             d.find_elements("css selector", "#enheter-templates a")}
    assert links == {"enheter.csv", "enheter.xlsx", "enhetsvarden.csv", "enhetsvarden.xlsx"}


def test_unknown_unit_page_is_friendly(page):
    d = page("/enhet/GV-HT-9")
    assert d.find_element("css selector", "h1").text == "Enheten GV-HT-9 finns inte"
    assert "Traceback" not in body_text(d)


def test_demo_unit_page_is_labelled(page):
    d = page("/enhet/1480-HT-LINNE")
    assert "DEMO" in d.find_element("css selector", "h1").text
    assert "demodata" in body_text(d)


@pytest.fixture(scope="module")
def phone():
    driver = make_browser(None, 390, 844)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    yield driver
    driver.quit()


@pytest.mark.parametrize("path", ["/enhet/GV-HT-1", "/enheter?kommun=2180"])
def test_unit_pages_on_a_phone(phone, units_server, path):
    phone.get(units_server + path)
    wait_rendered(phone)
    doc, view = phone.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert view == 390 and doc <= view, (doc, view)
    statuses = phone.execute_script("""
        const vw = document.documentElement.clientWidth;
        return [...document.querySelectorAll('.sk-unit-kpi .sk-status, .sk-unit-card')].map(s => {
            const r = s.getBoundingClientRect(); return [s.innerText.trim(), r.right <= vw + 1 && r.height > 0]; });""")
    assert statuses and all(inside for _t, inside in statuses), statuses
    source = axe_source()
    if source is not None:
        result = run_axe(phone, source)
        blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
        assert not blocking, format_violations(f"{path} at 390px", blocking)


@pytest.mark.parametrize("path", ["/enhet/GV-HT-1", "/enheter?kommun=2180", "/enheter"])
def test_unit_pages_pass_axe(page, path):
    source = axe_source()
    if source is None:
        pytest.skip("node_modules/axe-core is absent")
    d = page(path)
    result = run_axe(d, source)
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, format_violations(path, blocking)
