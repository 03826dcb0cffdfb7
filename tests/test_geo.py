"""dashboard.geo: the map's polygons served once as a cacheable file, simplified without
losing any municipality or changing what a 640 px map shows."""
from __future__ import annotations

import json

import pytest

from dashboard import geo


def test_simplify_ring_drops_points_on_a_straight_edge_and_keeps_corners():
    # a 1 x 1 square with extra points along its edges (and a duplicate) - hand-made
    ring = [[0, 0], [0.5, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [0.5, 1], [0, 1], [0, 0.5], [0, 0]]
    assert geo.simplify_ring(ring, 0.01) == [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]


def test_simplify_ring_keeps_a_bend_larger_than_the_tolerance():
    ring = [[0, 0], [0.5, 0.1], [1, 0], [1, 1], [0, 1], [0, 0]]
    assert [0.5, 0.1] in geo.simplify_ring(ring, 0.05)
    assert [0.5, 0.1] not in geo.simplify_ring(ring, 0.2)


def test_tiny_rings_stay_as_they_are():
    tri = [[0, 0], [1, 0], [0, 1], [0, 0]]
    assert geo.simplify_ring(tri, 10) == tri


@pytest.fixture(scope="module")
def client(built_db):
    from dashboard.app import create_app

    return create_app(built_db).server.test_client()


def test_polygons_served_once_cacheable_with_every_municipality(client):
    url = geo.geojson_url()
    assert url.startswith("/geo/municipalities.") and url.endswith(".json")
    r = client.get(url)
    assert r.status_code == 200
    assert "immutable" in r.headers["Cache-Control"] and "max-age=31536000" in r.headers["Cache-Control"]
    gj = json.loads(r.data)
    from dashboard.data import municipalities_geojson

    full = municipalities_geojson()
    assert [f["id"] for f in gj["features"]] == [f["id"] for f in full["features"]]
    assert len(gj["features"]) == 290

    def points(g):
        n = 0
        for f in g["features"]:
            polys = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" \
                else f["geometry"]["coordinates"]
            n += sum(len(r) for p in polys for r in p)
        return n
    assert points(gj) < points(full)
    # an old or made-up fingerprint is not served
    assert client.get("/geo/municipalities.0000.json").status_code == 404


def test_start_page_map_names_the_file_instead_of_carrying_polygons(client):
    from dashboard.pages import home

    import pandas as pd
    df = pd.DataFrame({"municipality_code": ["0180", "1480"], "name": ["Stockholm", "Göteborg"],
                       "value": [1.0, None]})
    fig = home._map_figure(df, {"unit": "%"}, "sv")
    assert [tr["geojson"] for tr in fig["data"]] == [geo.geojson_url()] * 2
    assert len(json.dumps(fig)) < 5000
