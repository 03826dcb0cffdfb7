"""The dashboard's data layer, URL validation, formats and security headers – without a browser.
Expectations come from hand-written values or from plain SQL on the warehouse, never from the
functions under test."""
from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from dashboard import components as C
from dashboard.data import (Warehouse, get_db, map_data, parse_year, scorecard_data, scorecard_years,
                            valid_code)
from dashboard.i18n import get_lang, href, switch_lang_href


# -- read-only ----------------------------------------------------------------------------------------

def test_web_connection_is_read_only(built_db):
    db = Warehouse(built_db)
    try:
        for sql in ("CREATE TABLE hack (x INTEGER)",
                    "UPDATE kpi SET title = 'x'",
                    "DELETE FROM municipality",
                    "INSERT INTO dataset VALUES ('x','x','x',NULL,NULL,now(),false)"):
            with pytest.raises(duckdb.Error, match="(?i)read.only"):
                db.query(sql)
        # and nothing changed: a separate connection still sees 290 municipalities
        assert db.rows("SELECT count(*) FROM municipalities")[0][0] == 290
    finally:
        db.close()


def test_get_db_reopens_when_the_file_is_replaced(tmp_path, built_db):
    path = tmp_path / "w.duckdb"
    shutil.copy(built_db, path)
    first = get_db(path)
    assert first is get_db(path)                      # one connection per process
    n_before = first.rows("SELECT count(*) FROM kpis")[0][0]
    # build a changed copy and swap it in atomically, like `styrkort build` does
    other = tmp_path / "w2.duckdb"
    shutil.copy(built_db, other)
    con = duckdb.connect(str(other))
    con.execute("INSERT INTO kpi (kpi_id, title, source) VALUES ('X_NEW', 'Ny', 'test')")
    con.close()
    other.replace(path)
    second = get_db(path)
    assert second is not first
    assert second.rows("SELECT count(*) FROM kpis")[0][0] == n_before + 1


# -- URL validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("code,ok", [
    ("0180", True), ("1480", True), ("9999", True),           # format only; existence is separate
    ("180", False), ("01800", False), ("abc", False), ("", False), (None, False),
    ("0180';DROP TABLE kpi;--", False), ("0180 ", False), ("0180\n", False), ("01 8", False),
    ("١٢٣٤", False),
    (["0180"], False), ([], False),      # a list is no code (callers take first() of a query list)
])
def test_valid_code(code, ok):
    assert valid_code(code) is ok


@pytest.mark.parametrize("value,allowed,expected", [
    ("2012", None, 2012), (" 2012 ", None, 2012), ("2012.5", None, None), ("x", None, None),
    ("1800", None, None), ("2012", [2010, 2011], None), ("2011", [2010, 2011], 2011),
    (None, None, None), (["2010", "2011"], None, 2010), ("2012;DROP", None, None),
])
def test_parse_year(value, allowed, expected):
    assert parse_year(value, allowed) == expected


def test_kpi_ids_are_checked_against_the_kpis_view(built_db):
    db = get_db(built_db)
    real = db.rows("SELECT kpi_id FROM kpis ORDER BY kpi_id LIMIT 1")[0][0]
    assert db.valid_kpi_id(real)
    for bad in ("NOPE_123", "N20014' OR '1'='1", "", None, "x" * 200):
        assert not db.valid_kpi_id(bad)


# -- the scorecard data ---------------------------------------------------------------------------------

def test_scorecard_data_matches_plain_sql(built_db):
    """Without a year the scorecard shows each KPI at its OWN latest year with a value, with
    the references of that year (checked against plain SQL on the mart, not via is_latest)."""
    db = get_db(built_db)
    d = scorecard_data(db, "1480", None)
    assert d["found"] and d["municipality"]["name"] == "Göteborg"
    assert d["latest"] and d["year"] is None
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        expected = {k: (y, v, g, s) for k, y, v, g, s in con.execute(
            """SELECT kpi_id, year, s.value, group_mean, p.status FROM scorecard s
               JOIN kpi_positions p USING (kpi_id, municipality_code, year)
               WHERE municipality_code = '1480' AND s.value IS NOT NULL AND year = (
                   SELECT max(year) FROM scorecard x WHERE x.municipality_code = s.municipality_code
                   AND x.kpi_id = s.kpi_id AND x.value IS NOT NULL)""").fetchall()}
        comp = con.execute("SELECT rank FROM composite_index WHERE municipality_code = '1480' "
                           "AND is_default ORDER BY year DESC LIMIT 1").fetchone()
    finally:
        con.close()
    got = {r["kpi_id"]: (r["year"], r["value"], r["group_mean"], r["status"])
           for r in d["kpi_rows"] if r["value"] is not None}
    assert got.keys() == expected.keys()
    for k, (y, v, g, s) in expected.items():
        assert got[k][0] == y and got[k][1] == pytest.approx(v) and got[k][3] == s
        assert got[k][2] == pytest.approx(g)
    # the real Kolada figures end in 2011, the demo ones in 2013: both shown with references
    assert got["N20014"][0] == 2011 and got["N20014"][2] is not None
    assert got["DEMO_HT_BEMOT"][0] == 2013
    # all four perspectives present
    assert set(d["kpis"]["perspective"]) == {"omsorgstagare", "ekonomi", "medarbetare", "verksamhet"}
    if comp:
        assert d["composite"]["rank"] == comp[0]
        assert d["composite"]["n"] == 290


def test_scorecard_year_from_query_string(built_db):
    db = get_db(built_db)
    d = scorecard_data(db, "0180", "2010")
    assert d["year"] == 2010 and not d["latest"]
    assert {r["year"] for r in d["kpi_rows"] if r["value"] is not None} == {2010}
    # a year without data, a malformed one or 'senaste' give each KPI's latest value
    for asked in ("1850", "abc", "senaste", None):
        other = scorecard_data(db, "0180", asked)
        assert other["year"] is None and other["latest"]


@pytest.mark.parametrize("code", ["9999", "abc", "0180';DROP TABLE kpi;--", "", None, "01800"])
def test_unknown_or_malformed_code_is_not_found(built_db, code):
    d = scorecard_data(get_db(built_db), code, None)
    assert d["found"] is False
    assert scorecard_years(get_db(built_db), code) is None


def test_the_url_checks_years_are_the_scorecards(built_db):
    """?year= is checked against scorecard_years: the years scorecard_data offers, and the
    years with a value in the scorecard mart."""
    db = get_db(built_db)
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        for code in ("0180", "1480", "2584", "0114"):
            years = scorecard_years(db, code)
            assert years == scorecard_data(db, code, None)["years"]
            assert years == [r[0] for r in con.execute(
                "SELECT DISTINCT year FROM scorecard WHERE municipality_code = ? ORDER BY 1", [code]).fetchall()]
            assert years
    finally:
        con.close()


def test_scorecard_without_marts_says_so_and_shows_no_other_numbers(built_db, tmp_path):
    """A warehouse without the mart views shows no values from a second code path (raw
    kpi_values): it names the missing marts and the page says to run `styrkort refresh`."""
    path = tmp_path / "nomarts.duckdb"
    shutil.copy(built_db, path)
    con = duckdb.connect(str(path))
    for view in ("scorecard", "composite_index", "rank_uncertainty", "cost_deviation", "trends",
                 "grant_uptake"):
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.close()
    d = scorecard_data(Warehouse(path), "1480", None)
    assert d["found"]
    assert {"scorecard", "composite_index", "cost_deviation", "grant_uptake"} <= set(d["missing"])
    assert d["composite"] is None and d["cost"] is None
    assert d["kpis"]["value"].isna().all() and d["kpis"]["group_mean"].isna().all()
    assert C.mart_missing("scorecard").children.children == (
        "scorecard har inte beräknats i lagret. Kör `styrkort refresh`.")


def test_map_data_covers_all_290(built_db):
    db = get_db(built_db)
    df, meta = map_data(db, "kpi:N20014", 2010)
    assert len(df) == 290 and df["municipality_code"].is_unique
    con = duckdb.connect(str(built_db), read_only=True)
    v = con.execute("SELECT value FROM kpi_values WHERE kpi_id='N20014' AND year=2010 AND "
                    "gender='T' AND municipality_code='0180'").fetchone()[0]
    con.close()
    assert df.set_index("municipality_code").loc["0180", "value"] == pytest.approx(v)


def test_geojson_rings_are_rewound_for_plotly():
    """Plotly/d3 wants exterior rings clockwise; the file is RFC 7946 (counter-clockwise)."""
    from dashboard.data import municipalities_geojson

    gj = municipalities_geojson()
    assert len(gj["features"]) == 290
    assert {f["properties"]["id"] for f in gj["features"]} >= {"0180", "1480", "2584"}

    def area(r):
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(r, r[1:] + r[:1])) / 2
    for f in gj["features"]:
        polys = [f["geometry"]["coordinates"]] if f["geometry"]["type"] == "Polygon" \
            else f["geometry"]["coordinates"]
        for poly in polys:
            assert area(poly[0]) < 0, f["id"]          # exterior clockwise
            for hole in poly[1:]:
                assert area(hole) > 0, f["id"]


# -- i18n -----------------------------------------------------------------------------------------------

def test_language_is_kept_on_links():
    assert get_lang({"lang": "en"}) == "en"
    assert get_lang({"lang": "fr"}) == "sv" and get_lang(None) == "sv"
    assert get_lang("?a=1&lang=en") == "en"
    assert href("/jamfor", "en", a="0180", b=None) == "/jamfor?a=0180&lang=en"
    assert href("/jamfor", "sv", a="0180") == "/jamfor?a=0180"
    assert switch_lang_href("/kommun/0180", "?year=2012") == "/kommun/0180?year=2012&lang=en"
    assert switch_lang_href("/kommun/0180", "?year=2012&lang=en") == "/kommun/0180?year=2012"


# -- formats and downloads ----------------------------------------------------------------------------

def test_fmt_value_by_unit():
    nb = "\u00a0"
    assert C.fmt_value(3569733, "kr") == f"3{nb}569{nb}733{nb}kr"
    assert C.fmt_value(12.5, "%") == f"12,5{nb}%"
    assert C.fmt_value(None, "%") == "uppgift saknas"
    assert C.fmt_value(12.5, "%", "en") == "12.5%"
    assert C.fmt_value(-3.25, "dagar", decimals=1) == f"\u22123,2{nb}dagar" or \
        C.fmt_value(-3.25, "dagar", decimals=1) == f"\u22123,3{nb}dagar"


# -- HTTP headers and hostile URLs, through Flask's test client --------------------------------------------

@pytest.fixture(scope="module")
def client(built_db):
    from dashboard.app import create_app
    return create_app(built_db).server.test_client()


def test_security_headers(client):
    for url in ("/", "/kommun/0180", "/_dash-layout", "/assets/styrkort.css"):
        r = client.get(url)
        assert r.status_code == 200, url
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
        assert "'unsafe-inline'" not in script_src
        assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_dash_inline_scripts_are_allowed_by_hash(client):
    """Every inline <script> Dash writes into the page is either JSON data or hashed in the CSP."""
    import base64
    import hashlib
    import re

    r = client.get("/kommun/1480")
    html = r.get_data(as_text=True)
    csp = r.headers["Content-Security-Policy"]
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        if "src=" in attrs or "application/json" in attrs or not body.strip():
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp, body[:80]


def _page(client, pathname, search=""):
    """Ask the Dash pages router for a page like the browser does (POST _dash-update-component)."""
    payload = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    r = client.post("/_dash-update-component", data=json.dumps(payload),
                    content_type="application/json")
    return r.status_code, r.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/kommun/0180';DROP TABLE kpi;--", "/kommun/abc", "/kommun/9999",
    "/kommun/%3Cscript%3Ealert(1)%3C%2Fscript%3E", "/kommun/0180/../../etc/passwd",
])
def test_hostile_codes_give_the_friendly_page(client, path):
    client.get("/")  # first request sets up the pages router
    status, body = _page(client, path)
    assert status == 200
    assert "finns inte" in body
    assert "Traceback" not in body


def test_hostile_query_parameters(client):
    client.get("/")
    for search in ("?year=2012;DROP", "?year=%27", "?lang=<script>", "?year=99999999999999999999"):
        status, body = _page(client, "/kommun/0180", search)
        assert status == 200 and "Stockholm" in body, search
    status, body = _page(client, "/jamfor", "?a=0180'--&b=1480")
    assert status == 200 and "Traceback" not in body
    status, body = _page(client, "/jamfor", "?unit_a=x' OR 1=1--&unit_b=y")
    assert status == 200 and "finns inte" in body
    status, body = _page(client, "/", "?measure=kpi:NOPE'&year=x")
    assert status == 200 and "Traceback" not in body
