"""Pure figure builders of the analysis pages: expectations computed by hand."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from dashboard import figures as F
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "warehouse" / "sources"


def test_ols_fit_hand_computed():
    # x̄ = ȳ = 2,5; Σdxdy = 3; Σdx² = Σdy² = 5 -> slope 0,6, intercept 1,0, r = 0,6.
    # t = 0,6·√2/0,8 = 1,0607 with 2 df; two-sided p = 1 − t/√(2+t²) = 0,4.
    fit = F.ols_fit([1, 2, 3, 4], [2, 1, 4, 3])
    assert fit.slope == pytest.approx(0.6)
    assert fit.intercept == pytest.approx(1.0)
    assert fit.r == pytest.approx(0.6)
    assert fit.p == pytest.approx(0.4, abs=1e-9)
    assert fit.n == 4


def test_ols_fit_drops_missing_and_needs_three_points():
    fit = F.ols_fit([1, 2, None, 4], [3, 5, 100, 9])   # y = 2x + 1 on the kept rows
    assert (fit.slope, fit.intercept, fit.n) == (pytest.approx(2.0), pytest.approx(1.0), 3)
    assert math.isnan(F.ols_fit([1, 2], [1, 2]).slope)


def test_association_in_words():
    assert F.association_in_words(0.04, 0.52) == "Inget tydligt samband (r = 0,04; p = 0,52)"
    assert F.association_in_words(-0.21, 0.0004) == "Svagt negativt samband (r = \u22120,21; p < 0,001)"
    assert F.association_in_words(0.62, 0.004) == "Starkt positivt samband (r = 0,62; p = 0,004)"
    assert F.association_in_words(0.35, 0.02, "en") == "Moderate positive association (r = 0.35; p = 0.02)"
    assert F.association_in_words(float("nan"), float("nan")).startswith("För få")


def test_deviation_colour_and_label_carry_the_sign():
    assert F.deviation_colour(12.3) == F.RED
    assert F.deviation_colour(-0.1) == F.GREEN
    assert F.deviation_label(12.34) == "+12,3\u00a0% över standardkostnad"
    assert F.deviation_label(-4.5) == "\u22124,5\u00a0% under standardkostnad"
    assert "below standard cost" in F.deviation_label(-4.5, "en")
    assert F.deviation_label(-4.5, "en").startswith("\u2212")


def test_diagram1_bars_colours_labels_and_order():
    df = pd.DataFrame({"name": ["Vadstena", "Ydre", "Mjölby"], "deviation_pct": [12.3, -4.5, 7.0],
                       "rank": [1, 2, 5]})
    fig = F.diagram1(df)
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["1. Vadstena", "2. Ydre", "5. Mjölby"]
    assert list(bar.marker.color) == [F.RED, F.GREEN, F.RED]
    assert list(bar.text) == ["+12,3\u00a0% över standardkostnad", "\u22124,5\u00a0% under standardkostnad",
                              "+7,0\u00a0% över standardkostnad"]
    assert fig.layout.yaxis.autorange == "reversed"      # rank 1 on top, as in the study
    assert fig.layout.separators == ", "


def test_top_by_composite_skips_missing_cost_and_keeps_rank_order():
    comp = pd.DataFrame({"municipality_code": ["a", "b", "c", "d"], "name": list("ABCD"), "rank": [3, 1, 2, 4]})
    dev = pd.DataFrame({"municipality_code": ["a", "b", "c", "d"], "deviation_pct": [1.0, None, -2.0, 5.0]})
    top = F.top_by_composite(comp, dev, n=2)
    assert top["municipality_code"].tolist() == ["c", "a"]


def test_cost_scatter_has_ols_line_through_the_fit():
    df = pd.DataFrame({"municipality_code": list("abcd"), "name": list("ABCD"),
                       "composite": [1, 2, 3, 4], "deviation_pct": [2, 1, 4, 3],
                       "size_group": ["small", "small", "large", "medium"]})
    fig = F.cost_scatter(df)
    line = [t for t in fig.data if t.mode == "lines"][0]
    assert list(line.x) == [1, 4]
    assert list(line.y) == pytest.approx([1.6, 3.4])          # 1,0 + 0,6·x
    assert fig.layout.title.text == "Inget tydligt samband (r = 0,60; p = 0,40)"
    assert sum(len(t.x) for t in fig.data if t.mode == "markers") == 4


def test_trend_figure_has_reference_lines_and_demo_label():
    df = pd.DataFrame({"year": [2010, 2009, 2011], "value": [2.0, 1.0, 3.0],
                       "group_mean": [2.0, 2.0, 2.0], "national_mean": [1.5, 1.5, 1.5]})
    fig = F.trend_figure(df, "Nöjdhet", "%", municipality_name="Ale", is_demo=True)
    names = [t.name for t in fig.data]
    assert names == ["Riket (medel)", "Storleksgruppen (medel)", "Ale"]
    own = fig.data[-1]
    assert list(own.x) == [2009, 2010, 2011] and own.line.width >= 5
    assert fig.layout.title.text.endswith("(demo)")


def test_uptake_map_locations_exist_in_the_real_geojson():
    geo = json.loads((SOURCES / "swedish_municipalities.geojson").read_text(encoding="utf-8"))
    ids = {f["properties"]["id"] for f in geo["features"]}
    skl = pd.read_csv(SOURCES / "skl_kommungrupper_2005.csv", dtype=str)
    assert len(ids) == 290 and ids == set(skl["municipality_code"])
    df = pd.DataFrame({"municipality_code": sorted(ids), "name": sorted(ids), "uptake_pct": 50.0})
    fig = F.uptake_map(df, geo)
    trace = fig.data[0]
    assert len(trace.locations) == 290
    # the key Plotly matches on must resolve in every feature to one of the codes
    path = trace.featureidkey.split(".")
    keys = set()
    for f in geo["features"]:
        v = f
        for p in path:
            v = v[p]
        keys.add(v)
    assert keys == set(trace.locations)


def test_uptake_bar_groups_in_size_order():
    df = pd.DataFrame({"round": ["2013:1"] * 3, "size_group": ["large", "small", "medium"],
                       "uptake_pct": [30.0, 10.0, 20.0]})
    fig = F.uptake_by_group_bar(df)
    assert [t.name for t in fig.data] == ["Små", "Mellanstora", "Stora"]
    assert [t.text[0] for t in fig.data] == ["10\u00a0%", "20\u00a0%", "30\u00a0%"]
