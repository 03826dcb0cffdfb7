"""/enhet/<unit_id> and /enheter?kommun=… rendered by their own layout functions (no browser) over
a copy of the default warehouse with one real unit added that has no monthly values: the pages
read the unit marts, label demo units DEMO, carry source and months, speak English with
?lang=en, and say so for an unknown unit or a unit without values. HTTP status: test_urlcheck.py;
in Chromium: tests/browser/test_unit_pages.py."""
from __future__ import annotations

import shutil
import sys

import duckdb
import pytest

from layout_support import classed as _classed
from layout_support import find as _find
from layout_support import render, sql, table_headers, text_of
from layout_support import texts as _texts
from test_import_common import write

DEMO_UNIT = "1480-HT-LINNE"


@pytest.fixture(scope="module")
def unit_db(built_db, tmp_path_factory):
    from pipelines.units import run_units
    from warehouse.importers.units import import_units

    folder = tmp_path_factory.mktemp("unitpages")
    db = folder / "warehouse.duckdb"
    shutil.copy(built_db, db)
    con = duckdb.connect(str(db))
    try:
        import_units(con, write(folder / "e.csv", "unit_id,name,municipality_code,kind\r\n"
                                                  "KA-SB-1,Boende Tallen,0880,särskilt boende\r\n"), log=False)
        run_units(con, make_default=True)
    finally:
        con.close()
    return db


@pytest.fixture(scope="module")
def app(unit_db):
    import dash

    from dashboard.app import create_app

    for key in [k for k in dash.page_registry if k.startswith("dashboard.pages.")]:
        del dash.page_registry[key]
    return create_app(unit_db)


def test_demo_unit_is_labelled_and_carries_source_and_months(app, unit_db):
    page = render(app, "enhet", f"/enhet/{DEMO_UNIT}", unit_id=DEMO_UNIT, lang="sv")
    h1 = next(_find(page, lambda c: type(c).__name__ == "H1"))
    assert "DEMO" in text_of(h1)
    text = text_of(page)
    assert "Enheten och dess månadsvärden är demodata" in text
    # the latest month the unit reported, in Swedish, in the lead and in the source line
    (last,) = sql(unit_db, "SELECT max(current_period) FROM unit_kpi_summary WHERE unit_id = ?", [DEMO_UNIT])[0]
    months = ("januari februari mars april maj juni juli augusti september oktober november december").split()
    assert f"{months[last.month - 1]} {last.year}" in text
    (source,) = _classed(page, "sk-source")
    assert text_of(source).startswith("Källa: ") and str(last.year) in text_of(source)
    # four perspectives, one card per KPI of the summary
    n = sql(unit_db, "SELECT count(*) FROM unit_kpi_summary WHERE unit_id = ?", [DEMO_UNIT])[0][0]
    assert len(_classed(page, "sk-unit-kpi")) == n and len(_classed(page, "sk-perspective")) == 4


def test_status_is_words_beside_the_icon(app, unit_db):
    page = render(app, "enhet", f"/enhet/{DEMO_UNIT}", unit_id=DEMO_UNIT, lang="sv")
    words = {"better": "bättre än medianen", "worse": "sämre än medianen"}
    statuses = dict(sql(unit_db, "SELECT kpi_id, status FROM unit_kpi_summary WHERE unit_id = ?", [DEMO_UNIT]))
    for kpi_id, status in statuses.items():
        if status in words:
            card = next(_find(page, lambda c: getattr(c, "id", None) == f"enhet-kpi-{kpi_id}"))
            assert words[status] in text_of(card).lower(), (kpi_id, status)


def test_without_targets_no_target_column_or_line(app):
    """A unit without targets (Linnéstaden has none among the demo targets): nothing about
    targets is shown (not an empty column)."""
    page = render(app, "enhet", f"/enhet/{DEMO_UNIT}", unit_id=DEMO_UNIT, lang="sv")
    text = text_of(page)
    assert "Mål" not in text.split()
    headers = table_headers(page)
    assert "Mål" not in headers and "Källa" in headers


TARGET_UNIT = "1480-HT-MAJORNA"


def test_unit_shows_its_targets_with_icon_and_words(app, unit_db):
    """The demo unit targets (warehouse/demo_targets.csv) on /enhet/<unit_id>: each KPI card with a
    target shows it beside the latest reported month's value with the status as icon + words,
    judged by hand here from the raw monthly values (the view unit_values) with the targets'
    rule: in the KPI's direction at or beyond the target 'uppnått', within the tolerance (the
    target's, else 5 % of it) 'nära', else 'ej uppnått'."""
    import csv

    from dashboard.pages.enhet import _TARGET_STATUS
    from warehouse.demo_targets import DEMO_TARGETS_CSV

    with open(DEMO_TARGETS_CSV, encoding="utf-8", newline="") as f:
        targets = [r for r in csv.DictReader(f) if r["unit_id"] == TARGET_UNIT]
    assert len(targets) == 3
    page = render(app, "enhet", f"/enhet/{TARGET_UNIT}", unit_id=TARGET_UNIT, lang="sv")
    words = {"met": "uppnått", "near": "nära", "not_met": "ej uppnått"}
    seen = set()
    for r in targets:
        (value, period, hib), = sql(unit_db, "SELECT v.value, v.period, k.higher_is_better FROM unit_values v "
                                             "JOIN unit_kpis k USING (kpi_id) WHERE v.unit_id = ? AND v.kpi_id = ? "
                                             "AND v.value IS NOT NULL ORDER BY v.period DESC LIMIT 1",
                                    [TARGET_UNIT, r["kpi_id"]])
        assert period.year == int(r["year"])
        target = float(r["target"])
        tol = float(r["tolerance"]) if r["tolerance"] else 0.05 * abs(target)
        beyond = value >= target if hib else value <= target
        expected = "met" if beyond else ("near" if abs(value - target) <= tol else "not_met")
        seen.add(expected)
        card = next(_find(page, lambda c, k=r["kpi_id"]: getattr(c, "id", None) == f"enhet-kpi-{k}"))
        text = " ".join(text_of(card).split())
        icon = _TARGET_STATUS[expected][0]
        assert f"Mål för {period.year} (månaden mot målet) {r['target']}" in text.replace(",0", ""), text
        assert f"{icon} {words[expected]}" in text, (r["kpi_id"], expected, text)
        for other in set(words) - {expected}:
            assert f"{_TARGET_STATUS[other][0]} {words[other]}" not in text
    assert seen == {"met", "near", "not_met"}    # the demo shows every status
    # the grid download of the page has the target and its status in words too
    assert "Mål" in table_headers(page)


def test_english(app):
    page = render(app, "enhet", f"/enhet/{DEMO_UNIT}?lang=en", unit_id=DEMO_UNIT, lang="en")
    text = text_of(page)
    assert "Care recipients" in text and "The unit and its monthly values are demo data" in text
    assert "Omsorgstagare" not in text
    listing = text_of(render(app, "enheter", "/enheter?kommun=1480&lang=en", kommun="1480", lang="en"))
    assert "Units in Göteborg" in listing and "Units marked DEMO are generated examples" in listing


def test_unknown_unit_says_so(app):
    page = render(app, "enhet", "/enhet/NOPE-1", unit_id="NOPE-1", lang="sv")
    assert "Enheten NOPE-1 finns inte" in text_of(page)


def test_unit_without_values_says_so(app):
    page = render(app, "enhet", "/enhet/KA-SB-1", unit_id="KA-SB-1", lang="sv")
    text = text_of(page)
    assert "Boende Tallen" in text and "Enheten har inga månadsvärden ännu" in text
    assert "DEMO" not in text


def test_unit_list_of_a_municipality(app, unit_db):
    page = render(app, "enheter", "/enheter?kommun=1480", kommun="1480", lang="sv")
    cards = _classed(page, "sk-unit-card")
    names = sql(unit_db, "SELECT name FROM org_units WHERE municipality_code = '1480'")
    assert sorted(text_of(c.children.children[0].children[0]) for c in cards) == sorted(n for (n,) in names)
    assert all("DEMO" in text_of(c) for c in cards)
    (source,) = _classed(page, "sk-source")
    assert text_of(source).startswith("Källa: ")
    # Kalmar's one real unit: listed without values, no DEMO label
    kalmar = render(app, "enheter", "/enheter?kommun=0880", kommun="0880", lang="sv")
    (card,) = _classed(kalmar, "sk-unit-card")
    assert "Boende Tallen" in text_of(card) and "DEMO" not in text_of(card)


def test_search_finds_a_unit_by_name_and_opens_its_page(app):
    """'linne' (no accent) finds Hemtjänst Linnéstaden; the hit opens /enhet/<unit_id>."""
    from dashboard.search import search

    home = sys.modules["pages.home"]
    with app.server.test_request_context("/"):
        from dashboard.data import get_db

        hits = search(home._entries(get_db()), "linne")
        unit_hits = [h for h in hits if h.entry.kind == "unit"]
        assert unit_hits and unit_hits[0].entry.key == DEMO_UNIT
        assert home.hit_href(unit_hits[0], "sv") == f"/enhet/{DEMO_UNIT}"
        assert home.hit_href(unit_hits[0], "en") == f"/enhet/{DEMO_UNIT}?lang=en"
