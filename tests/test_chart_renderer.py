"""dashboard.report.ChartRenderer: one kept-open kaleido/Chromium per process renders many
charts (in the order given), survives a dead browser, and is per process."""
from __future__ import annotations

import pandas as pd
import pytest

from dashboard import report as R
from dashboard.figures import trend_figure

pytestmark = pytest.mark.slow


def _fig(title, values):
    return trend_figure(pd.DataFrame({"year": [2009, 2010, 2011], "value": values}), title, "%",
                        municipality_name="Göteborg")


def _size(png: bytes):
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_one_browser_renders_every_request_in_order():
    r = R.ChartRenderer()
    try:
        a = r.render([_fig("A", [1.0, 2.0, 3.0]), _fig("B", [3.0, 2.0, 1.0])], 700, 400)
        browser = r._kaleido
        b = r.render([_fig("A", [1.0, 2.0, 3.0])], 700, 400)
        assert r._kaleido is browser                        # kept open, not restarted
        assert [p[:8] for p in a + b] == [b"\x89PNG\r\n\x1a\n"] * 3
        assert [_size(p) for p in a + b] == [(700, 400)] * 3
        assert a[0] == b[0] and a[0] != a[1]                # results in the order of the figures
    finally:
        r.close()


def test_a_dead_browser_is_started_again():
    r = R.ChartRenderer()
    try:
        r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        r._run(r._kaleido.close())                          # Chromium gone underneath
        png, = r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        assert _size(png) == (300, 200)
    finally:
        r.close()


def test_renderer_is_one_per_process():
    assert R.renderer() is R.renderer()
