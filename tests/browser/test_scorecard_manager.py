"""The manager's scorecard (issue 9) in a real headless Chromium on the embedded default:
each indicator's latest value, quartile status, similar municipalities, targets, what-if.
Expected values come from plain SQL on the same warehouse or are computed by hand here."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import pytest

_spec = importlib.util.spec_from_file_location("_browser_helpers", Path(__file__).with_name("conftest.py"))
_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_helpers)
body_text, wait_for, wait_for_text = _helpers.body_text, _helpers.wait_for, _helpers.wait_for_text

pytestmark = pytest.mark.browser


def sql(db, query, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def kpi_row(driver, title: str) -> str:
    """innerText of the scorecard row whose indicator title is `title`."""
    rows = [r.text for r in driver.find_elements("css selector", ".sk-kpi-table tbody tr")
            if r.find_element("css selector", "th").text.split("\n")[0].removesuffix(" DEMO") == title]
    assert rows, f"no row for {title!r}"
    return rows[0]


def sv_number(value: float, decimals: int) -> str:
    """sv-SE by hand: space thousands (U+00A0 on the page; Selenium's .text gives a plain
    space), decimal comma."""
    return f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")


@pytest.mark.parametrize("code", ["1480", "0509"])
def test_latest_value_shows_real_kolada_with_references(open_page, built_db, code):
    """Opened without parameters: a real Kolada indicator (data ends 2011) is shown with its
    2011 value and the size-group and national means of 2011; demo ones still say demo."""
    d = open_page(f"/kommun/{code}")
    value, group, nation = sql(built_db, """
        SELECT value, group_mean, national_mean FROM scorecard
        WHERE municipality_code = ? AND kpi_id = 'N20014' AND year = 2011""", [code])[0]
    row = kpi_row(d, "Nettokostnad äldreomsorg, kr/inv")
    assert "2011" in row
    for v in (value, group, nation):
        assert sv_number(v, 0) in row, (v, row)
    assert "DEMO" not in row
    demo = kpi_row(d, "Brukarbedömning hemtjänst – bemötande, andel (%)")
    assert "DEMO" in demo and "2013" in demo
    # the selector offers "senaste" (selected) and earlier years
    from selenium.webdriver.support.ui import Select

    sel = Select(d.find_element("id", "kommun-year"))
    assert sel.first_selected_option.get_attribute("value") == "senaste"
    assert "2009" in [o.text for o in sel.options]


def place_by_hand(values: dict[str, float], code: str, higher_is_better):
    """The rule written under "Så läser du styrkortet", in plain Python: place = 1 + how many
    are strictly better, ties share places and are judged by the middle one."""
    sign = -1 if higher_is_better is False else 1
    d = {c: round(sign * v, 9) for c, v in values.items()}
    n = len(d)
    rank = 1 + sum(1 for v in d.values() if v > d[code])
    tied = sum(1 for v in d.values() if v == d[code])
    mid = rank + (tied - 1) / 2
    if 4 * mid <= n:
        band = "bland de 25 % högsta" if higher_is_better is None else "bland de 25 % bästa"
    elif 4 * (n + 1 - mid) <= n:
        band = "bland de 25 % lägsta" if higher_is_better is None else "bland de 25 % sämsta"
    else:
        band = "mittersta 50 %"
    place = f"delad plats {rank}–{rank + tied - 1} av {n}" if tied > 1 else f"plats {rank} av {n}"
    return band, place


@pytest.mark.parametrize("code,kpi,title", [
    ("1480", "N00092", "Sjukfrånvaro för anställda < 30 år, (%)"),      # lower is better
    ("0509", "N20014", "Nettokostnad äldreomsorg, kr/inv"),             # no direction: information
])
def test_quartile_status_hand_computed(open_page, built_db, code, kpi, title):
    d = open_page(f"/kommun/{code}")
    year = sql(built_db, "SELECT max(year) FROM kpi_values WHERE kpi_id = ? AND municipality_code = ? "
                         "AND gender = 'T'", [kpi, code])[0][0]
    values = dict(sql(built_db, "SELECT municipality_code, value FROM kpi_values WHERE kpi_id = ? "
                                "AND year = ? AND gender = 'T' AND value IS NOT NULL", [kpi, year]))
    hib = sql(built_db, "SELECT higher_is_better FROM kpis WHERE kpi_id = ?", [kpi])[0][0]
    band, place = place_by_hand(values, code, hib)
    row = kpi_row(d, title)
    assert str(year) in row
    assert band in row and place in row, (band, place, row)
    if hib is None:
        assert "högst först, ingen riktning" in row and "bästa" not in row and "sämsta" not in row
    # the rule is written on the page
    rules = d.find_element("css selector", "section.sk-rules").text
    assert "Så läser du styrkortet" in rules
    assert "plats 1–72, 73–218 och 219–290" in rules and "Lika värden delar på sina platser" in rules


def test_similar_municipalities_listed_and_used_as_reference(open_page, built_db):
    """Göteborg: the 7 similar municipalities (structure 2011) are listed under the name, and
    the 'Liknande kommuner' column of the 2011 net cost is their mean, computed here."""
    d = open_page("/kommun/1480")
    names = [r[0] for r in sql(built_db, """
        SELECT x.name FROM similar_municipalities m JOIN municipalities x ON x.municipality_code = m.similar_code
        WHERE m.municipality_code = '1480' AND m.year = 2011 ORDER BY m.similar_rank""")]
    assert len(names) == 7 and "Göteborg" not in names
    listed = d.find_element("css selector", ".sk-similar-list").text
    assert "Liknande kommuner (struktur 2011):" in listed
    assert listed.split(":", 1)[1].strip() == ", ".join(names)
    vals = [r[0] for r in sql(built_db, """
        SELECT v.value FROM similar_municipalities m JOIN kpi_values v
          ON v.municipality_code = m.similar_code AND v.year = 2011 AND v.kpi_id = 'N20014' AND v.gender = 'T'
        WHERE m.municipality_code = '1480' AND m.year = 2011""")]
    assert len(vals) == 7
    row = kpi_row(d, "Nettokostnad äldreomsorg, kr/inv")
    assert sv_number(sum(vals) / 7, 0) in row, row
    # /jamfor and /trender name them too
    d = open_page("/jamfor?a=1480&b=0509")
    wait_for_text(d, "Liknande Göteborg (struktur 2011):")
    assert names[0] in body_text(d)
    d = open_page("/trender?code=1480&kpis=N20014")
    wait_for_text(d, "Liknande kommuner (struktur 2011):")


def test_demo_targets_beside_values_with_status_and_summary(open_page, built_db):
    """Göteborg's demo targets: each shown beside its value of the same year with the status in
    words, and each panel's summary counts them (counted here in SQL)."""
    d = open_page("/kommun/1480")
    words = {"achieved": "✓ uppnått", "near": "≈ nära", "not_achieved": "✗ ej uppnått"}
    rows = sql(built_db, """
        SELECT k.title, g.status, k.perspective FROM target_status g JOIN kpis k USING (kpi_id)
        JOIN scorecard s ON s.kpi_id = g.kpi_id AND s.municipality_code = g.municipality_code
             AND s.year = g.year AND s.is_latest
        WHERE g.municipality_code = '1480' AND g.unit_id IS NULL AND g.status IN ('achieved', 'near', 'not_achieved')""")
    assert rows
    for title, status, _ in rows:
        row = " ".join(kpi_row(d, title).split())       # icon and words sit on their own lines
        assert "mål " in row and words[status] in row, (title, status, row)
        assert "DEMO" in row, row          # demo targets (and demo values) are labelled
    for persp in {r[2] for r in rows}:
        st = [r[1] for r in rows if r[2] == persp]
        n_all = sql(built_db, """
            SELECT count(*) FROM target_status g JOIN kpis k USING (kpi_id) JOIN scorecard s
              ON s.kpi_id = g.kpi_id AND s.municipality_code = g.municipality_code AND s.year = g.year AND s.is_latest
            WHERE g.municipality_code = '1480' AND g.unit_id IS NULL AND k.perspective = ?""", [persp])[0][0]
        panel = d.find_element("css selector", f"section[aria-labelledby='persp-{persp}'] .sk-target-summary").text
        assert (f"Mål: {st.count('achieved')} av {n_all} uppnådda, {st.count('near')} nära, "
                f"{st.count('not_achieved')} ej uppnådda.") in panel, panel


def test_imported_targets_appear_on_the_scorecard(built_db, start_dashboard, browser, tmp_path):
    """`styrkort import targets` on a copy, then the dashboard on that copy shows the target."""
    import shutil
    from typer.testing import CliRunner

    from styrkort.cli import app

    db = tmp_path / "targets.duckdb"
    shutil.copy(built_db, db)
    value = sql(db, "SELECT value FROM scorecard WHERE municipality_code = '0180' AND kpi_id = 'N00092' "
                    "AND is_latest")[0][0]
    f = tmp_path / "mal.csv"
    # lower is better: a target above the value is achieved
    f.write_text("municipality_code;kpi_id;year;target;tolerance;decided_by\r\n"
                 f"0180;N00092;2011;{str(round(value + 1, 1)).replace('.', ',')};0,5;Äldrenämnden 2011-03-01 §7\r\n",
                 encoding="utf-8")
    r = CliRunner().invoke(app, ["import", "targets", str(f), "--db", str(db)])
    assert r.exit_code == 0, r.output
    url = start_dashboard(db)
    browser.get(url + "/kommun/0180")
    _helpers.wait_rendered(browser)
    row = " ".join(kpi_row(browser, "Sjukfrånvaro för anställda < 30 år, (%)").split())
    assert f"mål {sv_number(round(value + 1, 1), 1)}" in row and "✓ uppnått" in row and "DEMO" not in row


def test_target_template_downloads_with_the_importers_columns(open_page, built_db, clean_downloads):
    import csv
    import io

    d = open_page("/kommun/1480")
    section = d.find_element("css selector", "section[aria-labelledby='kommun-targets']")
    btn = section.find_element("xpath", ".//button[contains(., 'CSV')]")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click()", btn)
    path = _helpers.wait_for_download(clean_downloads, ".csv")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:8] == ["municipality_code", "kpi_id", "year", "target", "unit_id", "tolerance",
                           "decided_by", "comment"]
    kpis = {r[1] for r in rows[1:]}
    on_page = {r[0] for r in sql(built_db, "SELECT DISTINCT kpi_id FROM scorecard WHERE municipality_code = '1480'")}
    assert kpis == on_page and all(r[0] == "1480" for r in rows[1:])
    # Göteborg's targets are all demo: none is prefilled (a demo target never leaves as a real one)
    assert sql(built_db, "SELECT count(*) FROM targets WHERE municipality_code = '1480' AND is_demo")[0][0] > 0
    assert all(r[3] == "" for r in rows[1:])


def test_what_would_move_the_rank(open_page, built_db):
    """The three changes listed are the what-if mart's largest rank gains (one per KPI), worded
    with the ranks; the waterfall is there with its text alternative; not a causal claim."""
    d = open_page("/kommun/1480")
    year = sql(built_db, "SELECT max(year) FROM composite_index WHERE is_default AND municipality_code = '1480'")[0][0]
    top = sql(built_db, """
        SELECT k.title, w.rank, w.new_rank, w.scenario FROM index_whatif w JOIN kpis k USING (kpi_id)
        WHERE w.municipality_code = '1480' AND w.year = ? AND w.rank_gain > 0
        QUALIFY row_number() OVER (PARTITION BY w.kpi_id ORDER BY w.rank_gain DESC, w.scenario = 'group_median' DESC) = 1
        ORDER BY w.rank_gain DESC, w.scenario = 'group_median' DESC, w.kpi_id LIMIT 3""", [year])
    section = d.find_element("css selector", "section[aria-labelledby='kommun-whatif']")
    items = [li.text for li in section.find_elements("css selector", ".sk-whatif-list li")]
    assert len(items) == len(top) and top
    for item, (title, rank, new, scenario) in zip(items, top):
        assert title in item and f"från plats {rank} till {new}" in item, (item, title, rank, new)
        assert ("median" in item) == (scenario == "group_median")
    text = section.text
    assert "Aritmetik, inte orsak" in text and "modellerad · what-if" in text
    assert section.find_elements("css selector", "[role='img'][aria-label^='Vattenfallsdiagram']")
