"""The municipality map's polygons as one static, cacheable file instead of inside every figure.

Plotly's choropleth accepts a URL as `geojson`; the browser fetches it once and keeps it
(fingerprinted name + `Cache-Control: immutable`), so the start page and the grant map send
only codes and values (a few kB) per figure instead of the ~0,8 MB polygon set.

    geojson_url()        -> "/geo/municipalities.<sha>.json"   (use as a trace's geojson)
    register(server)     -> adds the route (called by dashboard.app.create_app)
    simplify_ring(r, tol)-> Douglas-Peucker on one closed ring

The polygons are dashboard.data.municipalities_geojson() (wound for Plotly, rounded to
0,001°) simplified with Douglas-Peucker at 0,002° (~200 m): at the map's 640 px Sweden is
~2,5 km per pixel, so nothing visible changes.
"""
from __future__ import annotations

import functools
import hashlib
import json

TOLERANCE = 0.002
ROUTE = "/geo/municipalities.<digest>.json"


def _perp(p, a, b) -> float:
    """Distance from p to the line through a and b (planar lon/lat)."""
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == 0 and dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / (dx * dx + dy * dy) ** 0.5


def _dp(points, tol):
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = 0.0, None
        for k in range(i + 1, j):
            d = _perp(points[k], points[i], points[j])
            if d > best:
                best, idx = d, k
        if idx is not None and best > tol:
            keep[idx] = True
            stack += [(i, idx), (idx, j)]
    return [p for p, k in zip(points, keep) if k]


def simplify_ring(ring: list, tol: float = TOLERANCE) -> list:
    """A closed ring with fewer points: consecutive duplicates dropped, then Douglas-Peucker,
    split at the point farthest from the start so the ring keeps its extent. Never fewer than
    4 points (a triangle, closed); a ring already that small is returned as it is."""
    pts = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]
    if len(pts) <= 4:
        return ring
    closed = pts[0] == pts[-1]
    body = pts[:-1] if closed else pts
    far = max(range(len(body)), key=lambda k: (body[k][0] - body[0][0]) ** 2 + (body[k][1] - body[0][1]) ** 2)
    first = _dp(body[:far + 1], tol)
    second = _dp(body[far:] + [body[0]], tol)
    out = first + second[1:]
    if len(out) < 4:
        return ring
    return out


def simplified(gj: dict, tol: float = TOLERANCE) -> dict:
    feats = []
    for f in gj["features"]:
        geom = f["geometry"]
        if geom["type"] == "Polygon":
            coords = [simplify_ring(r, tol) for r in geom["coordinates"]]
        else:
            coords = [[simplify_ring(r, tol) for r in poly] for poly in geom["coordinates"]]
        feats.append({**f, "geometry": {"type": geom["type"], "coordinates": coords}})
    return {"type": "FeatureCollection", "features": feats}


@functools.lru_cache(maxsize=1)
def _payload() -> tuple[bytes, str]:
    from dashboard.data import municipalities_geojson

    body = json.dumps(simplified(municipalities_geojson()), separators=(",", ":")).encode()
    return body, hashlib.sha256(body).hexdigest()[:16]


def geojson_url() -> str:
    return "/geo/municipalities." + _payload()[1] + ".json"


def register(server) -> None:
    """Serve the polygons under their content hash, cacheable for a year."""
    from flask import Response, abort

    _payload()   # computed once per process now (before gunicorn forks), not in a request
    @server.route(ROUTE)
    def _municipality_polygons(digest):
        body, current = _payload()
        if digest != current:
            abort(404)
        return Response(body, mimetype="application/json",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})
