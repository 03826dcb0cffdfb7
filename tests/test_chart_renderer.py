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


def test_more_charts_than_tabs_come_back_in_order_and_as_rendered_alone():
    """Each tab renders chart after chart (no reload between): the images of a batch are those
    of each figure rendered on its own, in the order of the figures."""
    figs = [_fig(str(i), [1.0, float(i), 3.0]) for i in range(5)]
    r = R.ChartRenderer(tabs=2, cache_bytes=0)
    try:
        batch = r.render(figs, 300, 200)
        alone = [r.render([f], 300, 200)[0] for f in figs]
        assert batch == alone
        assert len(set(batch)) == 5
    finally:
        r.close()


def test_a_rendered_chart_is_reused_without_the_browser():
    r = R.ChartRenderer()
    try:
        first, = r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        r.close()                                           # no Chromium any more
        again, = r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        assert again == first and r._kaleido is None        # the same figure: no browser needed
        other, = r.render([_fig("A", [1.0, 2.0, 4.0])], 300, 200)
        assert other != first and r._kaleido is not None    # other data: rendered
    finally:
        r.close()


def test_kaleidos_public_call_gives_the_same_images(monkeypatch):
    """The fallback for a kaleido without the per-tab calls renders the same images."""
    figs = [_fig("A", [1.0, 2.0, 3.0]), _fig("B", [3.0, 1.0, 2.0]), _fig("C", [2.0, 2.0, 1.0])]
    r = R.ChartRenderer(cache_bytes=0)
    try:
        direct = r.render(figs, 300, 200)
        monkeypatch.setattr(R, "_direct_tab_render", lambda: False)
        assert r.render(figs, 300, 200) == direct
    finally:
        r.close()


def test_warm_starts_the_browser_once():
    r = R.ChartRenderer()
    try:
        r.warm()
        browser = r._kaleido
        assert browser is not None
        r.warm()
        png, = r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        assert r._kaleido is browser and _size(png) == (300, 200)
    finally:
        r.close()


def test_a_start_that_hangs_is_given_up_and_started_again(monkeypatch):
    """kaleido/choreographer now and then block their event loop while opening Chromium: the
    renderer stops waiting after START_TIMEOUT and starts another browser."""
    import time

    import kaleido

    real_open = kaleido.Kaleido.open
    calls = []

    async def open_(self):
        calls.append(1)
        if len(calls) == 1:
            R.START_TIMEOUT = 60.0  # (the real start that follows may take its time)
            time.sleep(4)           # blocks the event loop, as the hang does
            raise RuntimeError("never opened")
        return await real_open(self)
    monkeypatch.setattr(kaleido.Kaleido, "open", open_)
    monkeypatch.setattr(R, "START_TIMEOUT", 2.0)
    r = R.ChartRenderer()
    try:
        png, = r.render([_fig("A", [1.0, 2.0, 3.0])], 300, 200)
        assert _size(png) == (300, 200) and len(calls) == 2
    finally:
        r.close()
