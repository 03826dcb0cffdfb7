"""The nämndrapport PDF and the scorecard screen show the same thing: for Stockholm (0180),
Göteborg (1480), Ödeshög (0509) and Luleå (2583) every perspective's count of KPIs among the best
25 % / middle 50 % / worst 25 % of all municipalities and without direction, and the year beside every value are the same in the PDF (text extracted with pypdf)
as in the panels of /kommun/<code> as it opens (rendered by the page's own layout), and both
equal plain SQL on the scorecard mart: each KPI at its latest year with a value (the screen's
"senaste"), a KPI without any value counts nowhere ("uppgift saknas")."""
from __future__ import annotations

import io
import re
import sys

import duckdb
import pytest
from layout_support import find as _find
from layout_support import texts as _texts
from pypdf import PdfReader

CODES = ("0180", "1480", "0509", "2583")
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
HEADINGS = {"sv": ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"),
            "en": ("Care recipients", "Finances", "Staff and development", "Operations and processes")}
SUMMARY = {"sv": re.compile(r"(\d+) nyckeltal\. Bland alla kommuner: (\d+) bland de 25 % bästa, "
                             r"(\d+) mittersta 50 %, (\d+) bland de 25 % sämsta; (\d+) utan riktning"),
           "en": re.compile(r"(\d+) indicators\. Among all municipalities: (\d+) among the best 25%, "
                            r"(\d+) middle 50%, (\d+) among the worst 25%; (\d+) without direction")}


@pytest.fixture(scope="module")
def app(built_db):
    from dashboard.app import create_app
    return create_app(built_db)


YEAR_IN_CELL = re.compile(r"\((\d{4})\)")


def screen_counts(app, code, lang):
    """{perspective: (n, best, middle, worst, no direction)} and the years beside the values
    (sorted) from /kommun/<code>'s own layout, opened without a year."""
    kommun = sys.modules["pages.kommun"]
    with app.server.test_request_context(f"/kommun/{code}"):
        page = kommun.layout(code=code, lang=lang)
    out = {}
    for p in PERSPECTIVES:
        section, = _find(page, lambda c: c.to_plotly_json()["props"].get("aria-labelledby") == f"persp-{p}")
        hits = [SUMMARY[lang].search(t) for t in _texts(section)]
        hits = [h for h in hits if h]
        out[p] = tuple(int(x) for x in hits[0].groups()) if hits else None
    years = [int(next(_texts(c))) for c in _find(page, lambda c: "sk-kpi-year" in (getattr(c, "className", "") or ""))]
    return out, sorted(years)


def pdf_counts(app, built_db, code, lang):
    """{perspective: (n, best, middle, worst, no direction)} and the years beside the values
    (sorted) from the nämndrapport PDF built the way /trender's button builds it (no charts chosen: no
    kaleido needed)."""
    from dashboard import report as R
    from dashboard.data import get_db

    trender = sys.modules["pages.trender"]
    with app.server.test_request_context("/trender"):
        content, figs = trender.report_content(get_db(built_db), code, [], lang)
        pdf = R.build_report(content, figs)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    lines = [line.strip() for line in text.splitlines()]
    out = {}
    for p, heading in zip(PERSPECTIVES, HEADINGS[lang]):
        i = lines.index(heading)
        hit = SUMMARY[lang].search(re.sub(r"\s+", " ", " ".join(lines[i + 1:i + 4])))
        out[p] = tuple(int(x) for x in hit.groups()) if hit else None
    # the scorecard pages: value cells say '96,4 % (2013)'; 'senast: … (2011)' is no value
    scorecard_text = "\n".join(p.extract_text() for p in reader.pages[1:-1])
    scorecard_text = re.sub(r"(senast|latest): [^()]*\(\d{4}\)", "", scorecard_text)
    years = [int(y) for y in YEAR_IN_CELL.findall(scorecard_text)]
    return out, sorted(years)


def sql_counts(built_db, code):
    """Hand-written rule on the scorecard and kpi_positions marts: per KPI the municipality's
    latest year with a value; per perspective the KPIs the panel lists (all with municipality
    values) and how many of them are among the best 25 % / middle 50 % / worst 25 % or without
    direction in their latest year."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        latest = ("SELECT s.kpi_id, s.year, p.status, k.perspective FROM scorecard s JOIN kpis k USING (kpi_id) "
                  "JOIN kpi_positions p USING (kpi_id, municipality_code, year) "
                  "WHERE s.municipality_code = ? AND s.value IS NOT NULL "
                  "QUALIFY s.year = max(s.year) OVER (PARTITION BY s.kpi_id)")
        rows = con.execute(latest, [code]).fetchall()
        out = {}
        for p in PERSPECTIVES:
            n = con.execute("SELECT count(DISTINCT s.kpi_id) FROM scorecard s JOIN kpis k USING (kpi_id) "
                            "WHERE k.perspective = ?", [p]).fetchone()[0]
            statuses = [r[2] for r in rows if r[3] == p]
            out[p] = (n, statuses.count("best25"), statuses.count("middle50"), statuses.count("worst25"),
                      statuses.count("no_direction"))
        return out, sorted(r[1] for r in rows)
    finally:
        con.close()


@pytest.mark.parametrize("code", CODES)
def test_pdf_and_screen_show_the_same_counts_and_years(app, built_db, code):
    screen, screen_years = screen_counts(app, code, "sv")
    pdf, pdf_years = pdf_counts(app, built_db, code, "sv")
    expected, years = sql_counts(built_db, code)
    assert screen_years == pdf_years == years
    for p in PERSPECTIVES:
        assert pdf[p] == screen[p] == expected[p], p


def test_pdf_and_screen_agree_in_english(app, built_db):
    screen, screen_years = screen_counts(app, "1480", "en")
    pdf, pdf_years = pdf_counts(app, built_db, "1480", "en")
    assert screen == pdf and screen_years == pdf_years


def test_real_kolada_indicators_show_their_own_latest_year(app, built_db):
    """Göteborg's real Kolada indicators end in 2011: the report shows their 2011 value with
    the year beside it (as the screen does), the demo ones 2013."""
    from dashboard.data import get_db

    trender = sys.modules["pages.trender"]
    with app.server.test_request_context("/trender"):
        content, _ = trender.report_content(get_db(built_db), "1480", [], "sv")
    sc = content.scorecard.set_index("kpi_id")
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        last = dict(con.execute("SELECT s.kpi_id, max(s.year) FROM scorecard s JOIN kpis k USING (kpi_id) "
                                "WHERE s.municipality_code = '1480' AND s.value IS NOT NULL "
                                "AND NOT k.is_demo GROUP BY 1").fetchall())
    finally:
        con.close()
    assert last and set(last.values()) == {2011}
    for kpi_id, year in last.items():
        assert sc.loc[kpi_id, "value_text"].endswith(f"({year})")
        assert sc.loc[kpi_id, "status"] is not None


TARGET_CELL = re.compile(r"mål [^:\n]+?(?: \(demo\))?: ([✓≈✗–?]|OK|X|~|-) ?(uppnått|nära|ej uppnått|avvikelse)")


def _target_lines(page_texts):
    return [s for s in page_texts if re.match(r"Mål: \d+ av \d+ uppnådda", s)]


def _screen_and_pdf_targets(app, db, code):
    """The panels' 'Mål: …' lines on /kommun/<code> as it opens, and the PDF's text (flattened)."""
    from dashboard import report as R
    from dashboard.app import create_app
    from dashboard.data import get_db

    app = app or create_app(db)
    kommun = sys.modules["pages.kommun"]
    with app.server.test_request_context(f"/kommun/{code}"):
        page = kommun.layout(code=code, lang="sv")
    trender = sys.modules["pages.trender"]
    with app.server.test_request_context("/trender"):
        content, figs = trender.report_content(get_db(db), code, [], "sv")
        pdf = R.build_report(content, figs)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return _target_lines(_texts(page)), re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("code", ["0180", "1480", "0509"])
def test_pdf_and_screen_show_the_same_targets(app, built_db, code):
    """The municipalities with demo targets: the panels' target summary lines are the same on
    screen and in the PDF, and match a count on the target_status mart by hand (each KPI at its
    latest year with a value, its target of that year); the PDF's target column has one
    'mål …: <icon> <status>' cell per target shown."""
    screen, flat = _screen_and_pdf_targets(app, built_db, code)
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        rows = con.execute(
            "SELECT k.perspective, g.status FROM target_status g JOIN kpis k USING (kpi_id) "
            "JOIN scorecard s ON s.kpi_id = g.kpi_id AND s.municipality_code = g.municipality_code "
            "AND s.year = g.year AND s.is_latest AND s.value IS NOT NULL "
            "WHERE g.municipality_code = ? AND g.unit_id IS NULL", [code]).fetchall()
    finally:
        con.close()
    expected = []
    for p in PERSPECTIVES:
        st = [r[1] for r in rows if r[0] == p]
        if st:
            expected.append(f"Mål: {st.count('achieved')} av {len(st)} uppnådda, {st.count('near')} nära, "
                            f"{st.count('not_achieved')} ej uppnådda.")
    assert len(expected) >= 2 and screen == expected
    for line in expected:
        assert line in flat, line
    assert len(TARGET_CELL.findall(flat)) == len(rows)


def test_screen_and_pdf_read_the_target_counts_mart(built_db, tmp_path):
    """The 'Mål: X av N' lines are the targets step's counts (mart target_status_counts), not
    counted by the page or the PDF: change the stored counts of Ödeshög's Verksamhet panel and
    both show the changed numbers; without the mart neither shows a count and the page says
    which mart is missing."""
    import shutil

    changed, dropped = tmp_path / "changed.duckdb", tmp_path / "dropped.duckdb"
    for db, sql in ((changed, "UPDATE mart_target_status_counts SET n_targets = 7, n_achieved = 5, n_near = 1, "
                              "n_not_achieved = 1 WHERE municipality_code = '0509' AND perspective = 'verksamhet' "
                              "AND year IS NULL AND is_default"),
                    (dropped, "DROP VIEW target_status_counts")):
        shutil.copy(built_db, db)
        con = duckdb.connect(str(db))
        try:
            con.execute(sql)
        finally:
            con.close()
    screen, flat = _screen_and_pdf_targets(None, changed, "0509")
    assert "Mål: 5 av 7 uppnådda, 1 nära, 1 ej uppnådda." in screen
    assert "Mål: 5 av 7 uppnådda, 1 nära, 1 ej uppnådda." in flat
    screen, flat = _screen_and_pdf_targets(None, dropped, "0509")
    assert screen == [] and "Mål: " not in flat
    from dashboard.app import create_app

    app = create_app(dropped)
    with app.server.test_request_context("/kommun/0509"):
        page = sys.modules["pages.kommun"].layout(code="0509", lang="sv")
    assert "target_status_counts har inte beräknats i lagret. Kör `styrkort refresh`." in " ".join(_texts(page))


def test_pdf_carries_the_chart_notes_the_screen_shows(app, built_db):
    """Göteborg's N20896 (definition change 2009) and N20014 (net cost, Riket under 90 % coverage in
    its first years, axis not from 0): every note under a chart on /trender is in the PDF too."""
    from PIL import Image

    from dashboard import report as R
    from dashboard.data import get_db
    from layout_support import classed, text_of

    trender = sys.modules["pages.trender"]
    kpis = ["N20896", "N20014"]
    with app.server.test_request_context("/trender"):
        page = trender.layout(code="1480", kpis=",".join(kpis), lang="sv")
        content, _figs = trender.report_content(get_db(built_db), "1480", kpis, "sv")
    screen_notes = [" ".join(text_of(li).split()) for ul in classed(page, "sk-chart-notes") for li in ul.children]
    assert any("2009" in n for n in screen_notes), screen_notes          # the break is noted on screen
    assert any("90 %" in n for n in screen_notes), screen_notes          # so are low-coverage years
    png = io.BytesIO()
    Image.new("RGB", (14, 8), "white").save(png, format="PNG")
    for ch in content.charts:
        ch.png = png.getvalue()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(R.assemble_pdf(content))).pages).split())
    for note in screen_notes:
        assert note in text, note
