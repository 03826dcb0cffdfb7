"""The PDF nämndrapport: a valid PDF with the expected pages and text, with and without kaleido."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from dashboard import report as R


def _png(colour=(30, 80, 140)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (140, 80), colour).save(buf, format="PNG")
    return buf.getvalue()


def _content(n_charts: int) -> R.ReportContent:
    sc = pd.DataFrame({
        "perspective": ["omsorgstagare", "omsorgstagare", "ekonomi", "medarbetare"],
        "title": ["Nöjdhet hemtjänst", "Trygghet", "Kostnad per brukare", "Sjukfrånvaro"],
        "value_text": ["90,1 %", "80 %", "250 000 kr", "7,5 %"],
        "reference_text": ["88,0 %", "82 %", "240 000 kr", "8,0 %"],
        "status": ["best25", "worst25", "worst25", "best25"],
        "value": [90.1, 80.0, 250000.0, 7.5],
    })
    charts = [R.Chart(f"Diagram {i}", _png(), "Källa: Kolada 2008–2011 (demo)", "förbättras")
              for i in range(n_charts)]
    # the panels' counts as the scorecard_status_counts mart gives them (the report prints them,
    # it does not count its rows: 3 and 2 here are not what the four rows above would give)
    counts = {"omsorgstagare": {"n": 3, "best": 2, "middle": 0, "worst": 1, "info": 0},
              "ekonomi": {"n": 1, "best": 0, "middle": 0, "worst": 1, "info": 0},
              "medarbetare": {"n": 1, "best": 1, "middle": 0, "worst": 0, "info": 0}}
    return R.ReportContent("1480", "Göteborg", 2011, scorecard=sc, charts=charts, panel_counts=counts,
                           headline=[("Sammanvägt index", "0,42 (rank 12 av 290)")],
                           sources=["Kolada, RKA", "Socialstyrelsen 2014"], has_demo=True)


def _read(pdf: bytes) -> tuple[PdfReader, str]:
    assert pdf[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(p.extract_text() for p in reader.pages)


def test_assembled_pdf_has_cover_scorecard_charts_and_sources():
    reader, text = _read(R.assemble_pdf(_content(3)))
    assert len(reader.pages) == 1 + 1 + 3 + 1          # cover, scorecard, 3 charts, sources
    assert "Göteborg" in text and "1480" in text
    for heading in ("Omsorgstagare", "Ekonomi", "Medarbetare och utveckling", "Verksamhet och processer"):
        assert heading in text
    # omsorgstagare: the screen's summary line with the counts it was given (the mart's)
    flat = " ".join(text.split())
    assert ("3 nyckeltal. Bland alla kommuner: 2 bland de 25 % bästa, 0 mittersta 50 %, "
            "1 bland de 25 % sämsta; 0 utan riktning.") in flat
    assert "Källor" in text and "Socialstyrelsen 2014" in text
    assert "demodata" in text


def test_pdf_without_status_counts_says_the_mart_is_missing():
    """No counts for a perspective: the PDF says which mart to build, it counts nothing itself."""
    c = _content(0)
    c.panel_counts = {}
    _reader, text = _read(R.assemble_pdf(c))
    flat = " ".join(text.split())
    assert "nyckeltal. Bland alla kommuner" not in flat
    assert "scorecard_status_counts har inte beräknats i lagret. Kör `styrkort refresh`." in flat


def test_assembled_pdf_in_english_and_without_scorecard():
    c = _content(0)
    c.lang, c.scorecard = "en", pd.DataFrame()
    reader, text = _read(R.assemble_pdf(c))
    assert len(reader.pages) == 3
    assert "Committee report" in text and "No scorecard data" in text


@pytest.mark.slow
def test_build_report_renders_charts_with_kaleido():
    """Real kaleido + system Chromium (BROWSER_PATH set by ensure_browser)."""
    from dashboard.figures import trend_figure

    fig = trend_figure(pd.DataFrame({"year": [2009, 2010, 2011], "value": [1.0, 2.0, 1.5]}),
                       "Nöjdhet", "%", municipality_name="Göteborg")
    c = _content(1)
    c.charts[0].png = b""
    steps = []
    pdf = R.build_report(c, [fig], progress=lambda i, n: steps.append((i, n)))
    reader, text = _read(pdf)
    assert len(reader.pages) == 4 and "Göteborg" in text
    assert steps[-1] == (3, 3)
    assert c.charts[0].png[:8] == b"\x89PNG\r\n\x1a\n"
    # the page with the chart carries an image
    assert len(reader.pages[2].images) == 1


def test_build_report_fails_when_the_charts_fail(monkeypatch):
    """The text pages are laid out while the charts render; a render error still reaches the
    caller (the PDF button shows it) instead of a PDF without its charts."""
    def broken(figs, *a, **k):
        raise RuntimeError("no Chromium")
    monkeypatch.setattr(R, "render_pngs", broken)
    c = _content(2)
    with pytest.raises(RuntimeError, match="no Chromium"):
        R.build_report(c, [object(), object()])
