"""The nämndrapport PDF and the scorecard screen show the same thing: for Stockholm (0180),
Göteborg (1480), Ödeshög (0509) and Luleå (2583) every perspective's count of better / same /
worse KPIs and the year are the same in the PDF (text extracted with pypdf) as in the panels
of /kommun/<code> (rendered by the page's own layout), and both equal plain SQL on the
scorecard mart for the municipality's latest year (a KPI without a value that year counts
nowhere; no earlier year stands in for it)."""
from __future__ import annotations

import io
import re
import sys

import duckdb
import pytest
from pypdf import PdfReader

CODES = ("0180", "1480", "0509", "2583")
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
HEADINGS = {"sv": ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"),
            "en": ("Care recipients", "Finances", "Staff and development", "Operations and processes")}
SUMMARY = {"sv": re.compile(r"(\d+) nyckeltal: (\d+) bättre, (\d+) som och (\d+) sämre"),
           "en": re.compile(r"(\d+) indicators: (\d+) better than, (\d+) same as and (\d+) worse than")}


@pytest.fixture(scope="module")
def app(built_db):
    from dashboard.app import create_app
    return create_app(built_db)


def _texts(component):
    """Every text string inside a Dash component tree."""
    if component is None:
        return
    if isinstance(component, (str, int, float)):
        yield str(component)
        return
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from _texts(c)
        return
    yield from _texts(getattr(component, "children", None))


def _find(component, pred):
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from _find(c, pred)
        return
    if component is None or isinstance(component, (str, int, float)):
        return
    if pred(component):
        yield component
    yield from _find(getattr(component, "children", None), pred)


def screen_counts(app, code, lang):
    """{perspective: (n, better, same, worse)} and the year from /kommun/<code>'s own layout."""
    kommun = sys.modules["pages.kommun"]
    with app.server.test_request_context(f"/kommun/{code}"):
        page = kommun.layout(code=code, lang=lang)
    out = {}
    for p in PERSPECTIVES:
        section, = _find(page, lambda c: c.to_plotly_json()["props"].get("aria-labelledby") == f"persp-{p}")
        hits = [SUMMARY[lang].search(t) for t in _texts(section)]
        hits = [h for h in hits if h]
        out[p] = tuple(int(x) for x in hits[0].groups()) if hits else None
    year, = [c.value for c in _find(page, lambda c: getattr(c, "id", None) == "kommun-year")]
    return out, int(year)


def pdf_counts(app, built_db, code, lang):
    """{perspective: (n, better, same, worse)} and the cover's year from the nämndrapport PDF
    built the way /trender's button builds it (no charts chosen: no kaleido needed)."""
    from dashboard import report as R
    from dashboard.data import get_db

    trender = sys.modules["pages.trender"]
    with app.server.test_request_context("/trender"):
        content, figs = trender.report_content(get_db(built_db), code, [], lang)
        pdf = R.build_report(content, figs)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    lines = [line.strip() for line in text.splitlines()]
    out = {}
    for p, heading in zip(PERSPECTIVES, HEADINGS[lang]):
        i = lines.index(heading)
        hit = SUMMARY[lang].search(" ".join(lines[i + 1:i + 3]))
        out[p] = tuple(int(x) for x in hit.groups()) if hit else None
    year = re.search(r"(?:år|year) (\d{4})", text)
    return out, int(year.group(1))


def sql_counts(built_db, code):
    """Hand-written rule on the scorecard mart: the municipality's latest year with a value;
    per perspective the KPIs the panel lists (all with municipality values) and how many of
    them are better / same / worse that year."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        year = con.execute("SELECT max(year) FROM scorecard WHERE municipality_code = ? "
                           "AND value IS NOT NULL", [code]).fetchone()[0]
        out = {}
        for p in PERSPECTIVES:
            # the panel lists every KPI of the perspective that has municipality values
            n = con.execute("SELECT count(DISTINCT s.kpi_id) FROM scorecard s JOIN kpis k USING (kpi_id) "
                            "WHERE k.perspective = ?", [p]).fetchone()[0]
            c = dict(con.execute("SELECT status, count(*) FROM scorecard s JOIN kpis k USING (kpi_id) "
                                 "WHERE k.perspective = ? AND s.municipality_code = ? AND s.year = ? "
                                 "AND s.value IS NOT NULL GROUP BY status", [p, code, year]).fetchall())
            out[p] = (n, c.get("better", 0), c.get("same", 0), c.get("worse", 0))
        return out, year
    finally:
        con.close()


@pytest.mark.parametrize("code", CODES)
def test_pdf_and_screen_show_the_same_counts_and_year(app, built_db, code):
    screen, screen_year = screen_counts(app, code, "sv")
    pdf, pdf_year = pdf_counts(app, built_db, code, "sv")
    expected, year = sql_counts(built_db, code)
    assert screen_year == pdf_year == year
    for p in PERSPECTIVES:
        assert pdf[p] == screen[p] == expected[p], p


def test_pdf_and_screen_agree_in_english(app, built_db):
    screen, screen_year = screen_counts(app, "1480", "en")
    pdf, pdf_year = pdf_counts(app, built_db, "1480", "en")
    assert screen == pdf and screen_year == pdf_year


def test_pdf_says_uppgift_saknas_where_the_year_has_no_value(app, built_db):
    """Göteborg's real Kolada cost KPIs end in 2011: in the 2013 report they have no value and
    no status, as on screen, with the latest value beside it (never a status from 2011)."""
    from dashboard.data import get_db

    trender = sys.modules["pages.trender"]
    with app.server.test_request_context("/trender"):
        content, _ = trender.report_content(get_db(built_db), "1480", [], "sv")
    sc = content.scorecard
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        no_value_2013 = {r[0] for r in con.execute(
            "SELECT DISTINCT kpi_id FROM scorecard WHERE municipality_code = '1480' AND kpi_id NOT IN "
            "(SELECT kpi_id FROM scorecard WHERE municipality_code = '1480' AND year = 2013)").fetchall()}
    finally:
        con.close()
    assert no_value_2013, "the embedded default has KPIs without a 2013 value for Göteborg"
    rows = sc[sc["kpi_id"].isin(no_value_2013)]
    assert len(rows) == len(no_value_2013)
    assert rows["value"].isna().all() and rows["status"].isna().all()
    assert all(t.startswith("uppgift saknas (senast: ") for t in rows["value_text"])
