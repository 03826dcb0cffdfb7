"""The dashboard's own plotly.js (dashboard/plotly_bundle.py) in a real browser: it holds exactly
the trace types TRACE_TYPES names, and every chart on the pages that draw charts gets the trace
type it asked for (plotly.js silently draws an unknown type as a scatter). A page with charts
loads plotly.js once, from its first HTML; the slim polyfill (dashboard/polyfill.py) leaves
the browser's own built-ins in place."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from conftest import http_get, wait_for

from dashboard.plotly_bundle import BUNDLE, GRAPH_CHUNK_PATH, PLOTLY_PATH, TRACE_TYPES

pytestmark = pytest.mark.browser

CHART_PAGES = ["/", "/kostnad", "/statsbidrag", "/trender?code=0180",
               "/jamfor?unit_a=1480-HT-LINNE&unit_b=1480-HT-BERGSJON"]

# [asked, drawn] trace types of every chart on the page, once each chart has drawn
TYPES_JS = """
const plots = [...document.querySelectorAll('.js-plotly-plot')];
if (!plots.length || plots.some(p => !p._fullData)) return null;
return plots.map(p => [p.data.map(t => t.type || 'scatter'), p._fullData.map(t => t.type)]);
"""


def test_the_served_plotly_is_the_bundle_and_revalidates_with_its_etag(server_url):
    status, headers, body = http_get(server_url + PLOTLY_PATH)
    assert status == 200 and body == BUNDLE.read_bytes().decode("utf-8", "replace")
    assert "max-age" in headers.get("Cache-Control", "")
    req = urllib.request.Request(server_url + PLOTLY_PATH, headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as e:   # urllib raises on 304
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 304


@pytest.mark.parametrize("path", CHART_PAGES)
def test_every_chart_gets_the_trace_type_it_asks_for(open_page, path):
    d = open_page(path)
    # /trender draws a chart when it is in view: bring each into view
    for el in d.find_elements("css selector", "[data-sk-figure]"):
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        wait_for(lambda: d.execute_script("return arguments[0].querySelector('.js-plotly-plot').data.length",
                                          el), 15, "a chart drawn once in view")
    charts = wait_for(lambda: d.execute_script(TYPES_JS), 30, f"charts on {path}")
    asked = {t for a, _ in charts for t in a}
    assert asked <= TRACE_TYPES, f"{path} asks for {asked - TRACE_TYPES}, not in the bundle"
    for a, drawn in charts:
        assert a == drawn, f"{path}: asked {a}, drawn {drawn}"


def test_the_bundle_holds_exactly_the_named_trace_types(open_page):
    d = open_page("/kostnad")
    types = wait_for(lambda: d.execute_script(
        "return window.Plotly && Object.keys(Plotly.PlotSchema.get().traces)"), 30, "plotly loaded")
    assert set(types) == TRACE_TYPES


def test_the_scorecard_loads_no_plotly(open_page):
    """/kommun/<code> draws its only chart (the what-if waterfall) as a server-made SVG image and
    its sparklines likewise: the browser never fetches or evaluates plotly.js there."""
    d = open_page("/kommun/0180")
    wait_for(lambda: d.execute_script("return !!document.querySelector('.sk-waterfall')"), 30, "the waterfall")
    assert d.execute_script("return typeof window.Plotly") == "undefined"
    fetched = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                               ".filter(n => n.includes('plotly'))")
    assert fetched == [], fetched


@pytest.mark.parametrize("path, early", [("/kostnad", True), ("/trender?code=0180", True), ("/trender", False),
                                         ("/jamfor?unit_a=1480-HT-LINNE&unit_b=1480-HT-BERGSJON", True),
                                         ("/jamfor?a=0180&b=1480", False), ("/kommun/0180", False)])
def test_a_page_with_charts_loads_plotly_once_from_its_first_html(server_url, path, early):
    """plotly_bundle.early_script: the first HTML of a page that draws charts has plotly.js as an
    deferred script; the others have none."""
    status, _headers, body = http_get(server_url + path)
    assert status == 200
    assert (f'<script src="{PLOTLY_PATH}" defer data-sk-plotly></script>' in body) is early
    assert (f'<script src="{GRAPH_CHUNK_PATH}" defer></script>' in body) is early


@pytest.mark.parametrize("path", ["/kostnad", "/jamfor?unit_a=1480-HT-LINNE&unit_b=1480-HT-BERGSJON"])
def test_the_early_plotly_is_the_one_the_charts_use(open_page, path):
    """styrkort.js makes dcc.Graph wait for the page's own plotly.js script instead of adding a
    second one: every chart is drawn, and plotly.js was fetched and run once."""
    d = open_page(path)
    wait_for(lambda: d.execute_script(TYPES_JS), 30, f"charts on {path}")
    assert d.execute_script("return document.querySelectorAll('script[src*=\"plotly.min.js\"]').length") == 1
    for name in ("plotly.min.js", "async-graph.js"):       # dcc.Graph's chunk comes with the page too
        fetched = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)"
                                   ".filter(n => n.includes(arguments[0]))", name)
        assert len(fetched) == 1, fetched
    assert d.execute_script("return typeof window.Plotly.react") == "function"


def test_the_slim_polyfill_keeps_native_builtins(open_page):
    """Dash's @babel/polyfill is replaced by regenerator-runtime (dashboard/polyfill.py): Dash's
    scripts find regeneratorRuntime, and String.prototype.trim is the browser's own again."""
    d = open_page("/kostnad")
    wait_for(lambda: d.execute_script(TYPES_JS), 30, "charts on /kostnad")
    assert d.execute_script("return typeof regeneratorRuntime.mark") == "function"
    assert "[native code]" in d.execute_script("return String.prototype.trim.toString()")
    assert d.execute_script("return typeof window._babelPolyfill") == "undefined"


def test_the_scorecards_svg_images_decode(open_page):
    """Sparklines and the what-if waterfall are SVG in data: URLs (components.svg_data_uri escapes
    only what a URL cannot hold): every one decodes to an image of its stated size."""
    d = open_page("/kommun/0180")
    wait_for(lambda: d.execute_script("return !!document.querySelector('.sk-waterfall')"), 30, "the waterfall")
    images = wait_for(lambda: d.execute_script(
        "const imgs = [...document.querySelectorAll('img.sk-spark, img.sk-waterfall')];"
        "return imgs.length && imgs.every(i => i.complete) ? imgs.map(i => [i.naturalWidth, i.getAttribute('width')]) : null"),
        30, "the images loaded")
    assert len(images) > 10
    assert all(natural == int(width) for natural, width in images), images
