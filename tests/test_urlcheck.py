"""HTTP status of page addresses (dashboard/urlcheck.py): what names nothing answers 404, the rest
200. Uses Flask's test client on the app over the embedded default warehouse; expected years come
from plain SQL."""
from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def client(built_db):
    import dash

    from dashboard.app import create_app

    # A test that imported a page module as `dashboard.pages.x` registered it a second time
    # (Dash loads pages as `pages.x`); Dash then refuses every page with "duplicate paths".
    for key in [k for k in dash.page_registry if k.startswith("dashboard.pages.")]:
        del dash.page_registry[key]
    app = create_app(built_db)
    with app.server.test_client() as c:
        yield c


def one(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()
    finally:
        con.close()


@pytest.mark.parametrize("path", [
    "/", "/kommun/0509", "/kommun/1480/", "/jamfor", "/jamfor?a=0180&b=1480", "/urval", "/kostnad",
    "/statsbidrag", "/trender", "/trender?code=0509", "/om", "/kommun/0180?lang=en",
])
def test_existing_pages_answer_200(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", [
    "/finns/inte", "/404", "/kommun/9999", "/kommun/abc", "/kommun/0180';DROP TABLE kpi;--",
    "/jamfor?a=9999&b=1480", "/jamfor?a=0180&b=abc", "/trender?code=9999", "/statsbidrag?code=0000",
    "/jamfor?unit_a=NOPE&unit_b=NOPE2", "/kommun/0180?year=1800", "/kommun/0180?year=abc",
    "/urval?year=1800", "/kostnad?year=2100", "/?year=1800",
])
def test_unknown_things_answer_404(client, built_db, path):
    response = client.get(path)
    assert response.status_code == 404, path
    # still the app's page (the browser renders the friendly text), never a bare error
    assert b"react-entry-point" in response.data
    assert one(built_db, "SELECT count(*) FROM kpis")[0] > 0


def test_year_404_follows_the_pages_own_years(client, built_db):
    first, last = one(built_db, "SELECT min(year), max(year) FROM scorecard WHERE municipality_code = '0180' "
                                "AND value IS NOT NULL")
    assert client.get(f"/kommun/0180?year={last}").status_code == 200
    assert client.get(f"/kommun/0180?year={first}").status_code == 200
    assert client.get(f"/kommun/0180?year={last + 1}").status_code == 404
    urval_last = one(built_db, "SELECT max(year) FROM composite_index")[0]
    assert client.get(f"/urval?year={urval_last}").status_code == 200
    assert client.get(f"/urval?year={urval_last + 1}").status_code == 404


def test_unit_ids_in_jamfor(client, built_db):
    unit = one(built_db, "SELECT unit_id FROM org_units ORDER BY unit_id LIMIT 1")[0]
    assert client.get(f"/jamfor?unit_a={unit}").status_code == 200
    assert client.get(f"/jamfor?unit_a={unit}&unit_b=NOPE").status_code == 404


def test_assets_and_dash_routes_are_untouched(client):
    assert client.get("/assets/styrkort.css").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/assets/finns-inte.css").status_code == 404   # Flask's own 404


def test_match_page_templates():
    from dashboard.app import create_app  # noqa: F401  (registers the pages)
    from dashboard.urlcheck import match_page

    page, params = match_page("/kommun/0180/")
    assert page["path_template"] == "/kommun/<code>" and params == {"code": "0180"}
    assert match_page("/kommun/0180/extra")[0] is None
    assert match_page("/")[0]["path"] == "/"


@pytest.mark.parametrize("path,status", [
    ("/enhet/1480-HT-LINNE", 200), ("/enhet/1480-HT-LINNE?lang=en", 200), ("/enheter", 200),
    ("/enheter?kommun=1480", 200), ("/enhet/NOPE", 404), ("/enhet/1480-HT-LINNE-X", 404),
    ("/enheter?kommun=9999", 404),
])
def test_unit_pages_answer_404_for_unknown_units_and_municipalities(client, path, status):
    assert client.get(path).status_code == status, path
