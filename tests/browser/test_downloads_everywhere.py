"""Every download button on every page, in a real headless Chromium against `styrkort serve`:
the buttons are found in the DOM (not listed here), each table's CSV and Excel button is
clicked, and both files must arrive and say what they are: the same header in both, a
"demo" column (ja/nej) on every table, demo rows where the page shows demo data, numbers
stored as numbers in Excel with a second sheet "Om filen", ASCII minus in the CSV.

The pages come from the navigation menu plus the states that show more tables (a
municipality's scorecard, two municipalities and two units compared, a unit's Balansen and a
municipality's units, a selection with a county limit and a swap); a menu entry without a state here fails the test. The session
check in conftest.py (start_dashboard) fails the suite if the server answered any HTTP 5xx."""
from __future__ import annotations

import csv
import importlib.util
import io
import re
import time
import urllib.parse
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from layout_support import sql

_spec = importlib.util.spec_from_file_location("_browser_helpers", Path(__file__).with_name("conftest.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
wait_for, wait_rendered, server_errors = _helpers.wait_for, _helpers.wait_rendered, _helpers.server_errors
callback_failures = _helpers.callback_failures

pytestmark = pytest.mark.browser

NUMBER = re.compile(r"-?\d+(,\d+)?(e-?\d+)?")


def _swap(built_db, year: int, max_per_county: int) -> tuple[str, str, str, str]:
    """A valid swap for the selection of `year` (out: the first high small municipality, in:
    the next small one not selected) and the default index's config hash."""
    from pipelines.ranking.selection import QUOTAS, select

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        ranked = con.execute(
            "SELECT c.municipality_code, m.name, m.county_code, m.county_name, c.size_group, c.rank, "
            "c.group_rank, c.composite, c.config_hash FROM composite_index c JOIN municipalities m "
            "USING (municipality_code) WHERE c.year = ? ORDER BY c.rank", [year]).df()
    finally:
        con.close()
    items = select(ranked, QUOTAS, max_per_county)
    small = items[(items["size_group"] == "small") & (items["result"] == "high")]
    out = small["municipality_code"].iloc[0]
    chosen = set(items["municipality_code"])
    candidates = ranked[(ranked["size_group"] == "small") & ~ranked["municipality_code"].isin(chosen)]
    return out, candidates["municipality_code"].iloc[0], "närmare kusten", ranked["config_hash"].iloc[0]


@pytest.fixture(scope="module")
def pages(built_db):
    """path -> what the page must offer (None: just every table)."""
    units = sql(built_db, "SELECT unit_id FROM org_units WHERE municipality_code = '1480' AND kind = 'hemtjanst' "
                          "ORDER BY unit_id LIMIT 2")
    out, in_, reason, config_hash = _swap(built_db, 2009, 1)
    swaps = urllib.parse.quote(f"{out}:{in_}:{reason}")
    return {
        "/": None,
        "/kommun/1480": None,
        "/jamfor?a=0180&b=1480": None,
        f"/jamfor?unit_a={units[0][0]}&unit_b={units[1][0]}": None,
        f"/enhet/{units[0][0]}": None,
        "/enheter?kommun=1480": None,
        f"/urval?year=2009&max_per_county=1&swaps={swaps}": {
            "selection": f"urval-2009-lan1-{config_hash[:6]}-byten1", "swap": (out, in_, reason),
            "hash": config_hash},
        "/kostnad": None,
        "/statsbidrag": None,
        "/trender?code=1480": None,
        "/om": None,
    }


def _open(driver, url):
    driver.get(url)
    wait_rendered(driver, timeout=60)
    # tables inside closed <details> (e.g. the study's Table 1 on /urval) are opened first
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    time.sleep(0.3)


def _download_groups(driver) -> list[dict]:
    """Every download group on the page: its index, label, and its CSV/Excel buttons' ids.
    Every button saying CSV or Excel must be in such a group (none hides elsewhere)."""
    return driver.execute_script("""
        const stray = [...document.querySelectorAll('button')].filter(
            b => /CSV|Excel/.test(b.textContent) && !b.closest('.sk-downloads'));
        if (stray.length) { return {stray: stray.map(b => b.outerHTML.slice(0, 200))}; }
        return [...document.querySelectorAll('.sk-downloads')].map((g, i) => ({
            i: i, label: g.getAttribute('aria-label'),
            csv: g.querySelectorAll('button.sk-download-csv').length,
            xlsx: g.querySelectorAll('button.sk-download-xlsx').length}));
    """)


def _click(driver, group: int, kind: str):
    driver.execute_script(
        "const b = document.querySelectorAll('.sk-downloads')[arguments[0]]"
        ".querySelector('button.sk-download-' + arguments[1]);"
        "b.scrollIntoView({block: 'center'}); b.click();", group, kind)


def _snapshot(folder: Path) -> dict[str, int]:
    """name -> mtime: Chromium overwrites a file of the same name (CDP download behaviour
    'allow'), so a download is new by name *or* by modification time."""
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def _new_file(folder: Path, suffix: str, before: dict[str, int], what: str) -> Path:
    def done():
        if list(folder.glob("*.crdownload")):
            return None
        new = [p for p in folder.iterdir() if p.suffix == suffix
               and before.get(p.name) != p.stat().st_mtime_ns]
        return new[0] if new and new[0].stat().st_size > 0 else None
    return wait_for(done, 90, f"{suffix} of {what}")


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), f"{path.name}: no BOM"
    text = raw.decode("utf-8-sig")
    assert "\u2212" not in text, f"{path.name}: typographic minus in the CSV"
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _check_pair(csv_path: Path, xlsx_path: Path) -> dict:
    """The CSV and the Excel file of one table agree and carry what every download must."""
    rows = _read_csv(csv_path)
    header, body = rows[0], rows[1:]
    assert csv_path.stem == xlsx_path.stem, (csv_path.name, xlsx_path.name)
    assert "demo" in header, f"{csv_path.name}: no demo column in {header}"
    demo = [r[header.index("demo")] for r in body]
    assert set(demo) <= {"ja", "nej"}, f"{csv_path.name}: demo values {set(demo)}"
    book = openpyxl.load_workbook(xlsx_path)
    assert book.sheetnames == ["Tabell", "Om filen"], f"{xlsx_path.name}: sheets {book.sheetnames}"
    sheet = book["Tabell"]
    xl = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(h) for h in xl[0]] == header, f"{xlsx_path.name}: header differs from the CSV"
    assert len(xl) - 1 == len(body), f"{xlsx_path.name}: {len(xl) - 1} rows, CSV {len(body)}"
    # a column holding only numbers in the CSV holds numbers (not text) in Excel; codes with a
    # leading zero ('0180') are text on purpose
    for j, name in enumerate(header):
        cells = [r[j] for r in body if r[j] != ""]
        if cells and all(NUMBER.fullmatch(c) for c in cells) and not any(re.match(r"0\d", c) for c in cells):
            xcells = [r[j] for r in xl[1:] if r[j] is not None]
            assert all(isinstance(v, (int, float)) for v in xcells), \
                f"{xlsx_path.name}: column {name!r} is text in Excel"
    about = {r[0]: r[1] for r in book["Om filen"].iter_rows(values_only=True)}
    assert {"Tabell", "Källa", "År", "demo", "Skapad"} <= set(about), f"{xlsx_path.name}: {about}"
    return {"name": csv_path.stem, "header": header, "rows": body, "demo": demo}


def test_every_menu_page_is_covered(open_page, pages):
    d = open_page("/")
    links = d.execute_script("return [...document.querySelectorAll('header nav a')]"
                             ".map(a => new URL(a.href).pathname)")
    assert links, "no menu links found"
    covered = {urllib.parse.urlsplit(p).path for p in pages}
    assert set(links) <= covered, f"menu pages without a download check: {set(links) - covered}"


def test_every_download_button_gives_a_csv_and_an_excel_file(browser, server_url, pages, clean_downloads,
                                                            built_db):
    download_dir = clean_downloads   # files of earlier tests would hide same-named downloads
    made: dict[str, list[dict]] = {}
    for path, expect in pages.items():
        _open(browser, server_url + path)
        groups = _download_groups(browser)
        assert not (isinstance(groups, dict) and groups.get("stray")), \
            f"{path}: download buttons outside a download group: {groups}"
        shows_demo = bool(browser.find_elements("css selector", ".sk-demo-badge"))
        files = []
        for g in groups:
            assert g["csv"] == 1 and g["xlsx"] == 1, f"{path}: group {g['label']!r} lacks CSV or Excel"
            before = _snapshot(download_dir)
            _click(browser, g["i"], "csv")
            csv_path = _new_file(download_dir, ".csv", before, f"{path} {g['label']}")
            before = _snapshot(download_dir)
            _click(browser, g["i"], "xlsx")
            xlsx_path = _new_file(download_dir, ".xlsx", before, f"{path} {g['label']}")
            files.append(_check_pair(csv_path, xlsx_path))
        made[path] = files
        if path != "/trender?code=1480":
            assert files, f"{path}: no download buttons found"
        if shows_demo and files:
            assert any("ja" in f["demo"] for f in files), \
                f"{path} shows demo data but no downloaded table has a demo row"
    # what the default warehouse must give on some pages, checked against SQL
    year = sql(built_db, "SELECT max(year) FROM composite_index")[0][0]
    names = {f["name"] for f in made["/"]}
    assert f"karta-composite-{year}" in names
    karta = next(f for f in made["/"] if f["name"] == f"karta-composite-{year}")
    assert len(karta["rows"]) == 290 and set(karta["demo"]) == {"ja"}
    assert all(r[karta["header"].index("År")] == str(year) for r in karta["rows"])

    urval_path = next(p for p in pages if p.startswith("/urval"))
    expect = pages[urval_path]
    sel = next(f for f in made[urval_path] if f["name"] == expect["selection"])
    h = sel["header"]
    out, in_, reason = expect["swap"]
    codes = [r[h.index("Kod")] for r in sel["rows"]]
    assert len(codes) == 30 and in_ in codes and out not in codes
    assert {r[h.index("Högst antal per län")] for r in sel["rows"]} == {"1"}
    assert {r[h.index("Konfigurationens hash")] for r in sel["rows"]} == {expect["hash"]}
    assert all(f"{out}→{in_}: {reason}" in r[h.index("Byten")] for r in sel["rows"])
    assert {r[h.index("År")] for r in sel["rows"]} == {"2009"}

    rounds = next(f for f in made["/statsbidrag"] if "demo" in f["header"] and any(
        "2011:1" in c for r in f["rows"] for c in r))
    assert set(rounds["demo"]) == {"nej"}     # the grant rounds are real figures

    # the units and their monthly values are demo data: every row of their downloads says so
    unit_path = next(p for p in pages if p.startswith("/enhet/"))
    unit_id = unit_path.rsplit("/", 1)[1]
    months = next(f for f in made[unit_path] if f["name"] == f"enhet-{unit_id}")
    n_months = sql(built_db, "SELECT count(*) FROM unit_scorecard WHERE unit_id = ?", [unit_id])[0][0]
    assert len(months["rows"]) == n_months and set(months["demo"]) == {"ja"}
    listing = next(f for f in made["/enheter?kommun=1480"] if f["name"] == "enheter-1480")
    n_units = sql(built_db, "SELECT count(*) FROM org_units WHERE municipality_code = '1480'")[0][0]
    assert len(listing["rows"]) == n_units and set(listing["demo"]) == {"ja"}

    scorecard = next(f for f in made["/kommun/1480"] if f["name"].startswith("styrkort-1480"))
    demo_kpis = sql(built_db, "SELECT count(DISTINCT s.kpi_id) FROM scorecard s JOIN kpis k USING (kpi_id) "
                              "WHERE k.is_demo AND k.perspective IS NOT NULL")[0][0]
    assert scorecard["demo"].count("ja") == demo_kpis and "nej" in scorecard["demo"]


def test_server_log_check_finds_5xx_lines():
    """The session check reads werkzeug's coloured lines and gunicorn's access log."""
    log = ('127.0.0.1 - - [01/Dec/2026 23:52:26] "\x1b[35m\x1b[1mPOST /_dash-update-component HTTP/1.1\x1b[0m" 500 -\n'
           '127.0.0.1 - - [01/Dec/2026 23:52:27] "GET / HTTP/1.1" 200 -\n'
           '127.0.0.1 - - [01/Dec/2026:23:52:28 +0000] "GET /kommun/9999 HTTP/1.1" 404 512 "-" "x"\n'
           '127.0.0.1 - - [01/Dec/2026:23:52:29 +0000] "GET /_dash-layout HTTP/1.1" 503 0 "-" "x"\n')
    assert server_errors(log) == ["POST /_dash-update-component -> 500", "GET /_dash-layout -> 503"]


def test_server_log_check_finds_callbacks_that_raised():
    """A callback that raises is answered 400 by dashboard/hardening.py, not 5xx: the session
    check finds its log entry and keeps the traceback (gunicorn's access lines around it)."""
    log = ('127.0.0.1 - - [02/Dec/2026:02:31:01 +0000] "GET / HTTP/1.1" 200 5120 "-" "x"\n'
           "callback failed on a request (answered 400): b'{\"output\": \"..statsbidrag-map.children\"'\n"
           "Traceback (most recent call last):\n"
           '  File "/repo/dashboard/pages/statsbidrag.py", line 165, in map_frame\n'
           "ValueError: ('Lengths must match to compare', (1450,), (2,))\n"
           '127.0.0.1 - - [02/Dec/2026:02:31:02 +0000] "POST /_dash-update-component HTTP/1.1" 400 61 "-" "x"\n'
           '127.0.0.1 - - [02/Dec/2026 02:31:03] "POST /_dash-update-component HTTP/1.1" 400 -\n')
    found = callback_failures(log)
    assert len(found) == 1
    assert found[0].startswith("callback failed on a request (answered 400)")
    assert found[0].endswith("ValueError: ('Lengths must match to compare', (1450,), (2,))")
    assert server_errors(log) == []          # 400s are no 5xx: only the marker finds them
    assert callback_failures(log.replace("callback failed", "callback ok")) == []
