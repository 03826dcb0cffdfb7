"""scorecard_series mart (one row per municipality and KPI: sparkline lists + trend verdict) and
the scorecard page's read of it. Expectations are hand-made (toy warehouse) or plain SQL on the
scorecard/trends marts, never the functions under test."""
from __future__ import annotations

import duckdb
import pytest

from dashboard.data import Warehouse, scorecard_data
from pipelines.positions import run_positions
from pipelines.scorecard import run_scorecard
from warehouse.db import apply_schema
from warehouse.value_source import insert_kpi_values


def _toy(path, with_trends: bool):
    con = duckdb.connect(str(path))
    apply_schema(con)
    for code, pop in (("0001", 5000), ("0002", 6000)):
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, f"M{code}"])
        con.execute("INSERT INTO population VALUES (?, 2012, ?, 'toy')", [code, pop])
    for kpi, persp in (("UP", "omsorgstagare"), ("BACKGROUND", None)):
        con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, perspective, source, is_demo) "
                    "VALUES (?, ?, true, ?, 's', true)", [kpi, kpi, persp])
    # UP for 0001: 2013 before 2011 on purpose (the lists must come out in year order), no 2012,
    # and a 'K' row that must be ignored
    for kpi, code, year, gender, value in (
            ("UP", "0001", 2013, "T", 30.0), ("UP", "0001", 2011, "T", 10.0),
            ("UP", "0001", 2011, "K", 99.0),
            ("UP", "0002", 2011, "T", 5.0), ("BACKGROUND", "0001", 2011, "T", 1.0)):
        insert_kpi_values(con, [(kpi, code, year, gender, value, "src", True)])
    if with_trends:
        # a stand-in for the trends step's mart (contract: the public view shows the default run;
        # the row of another run, e.g. `styrkort trends --years 3`, must not reach the scorecard)
        con.execute("CREATE TABLE mart_trends AS SELECT * FROM (VALUES "
                    "('UP', '0001', 'improving', 'run-new', true), "
                    "('UP', '0001', 'worsening', 'run-other', false)) "
                    "t(kpi_id, municipality_code, verdict, run_id, is_default)")
        con.execute("CREATE VIEW trends AS SELECT * FROM mart_trends WHERE is_default")
    run_scorecard(con)
    run_positions(con)
    return con


def _series(con):
    return {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT municipality_code, kpi_id, spark_years, spark_values, trend, trends_run_id "
        "FROM scorecard_series").fetchall()}


def test_series_lists_in_year_order_without_nulls_or_background(tmp_path):
    con = _toy(tmp_path / "a.duckdb", with_trends=False)
    try:
        rows = _series(con)
    finally:
        con.close()
    assert rows == {("0001", "UP"): ([2011, 2013], [10.0, 30.0], None, None),
                    ("0002", "UP"): ([2011], [5.0], None, None)}


def test_series_carries_the_default_trends_run(tmp_path):
    con = _toy(tmp_path / "b.duckdb", with_trends=True)
    try:
        rows = _series(con)
    finally:
        con.close()
    assert rows[("0001", "UP")][2:] == ("improving", "run-new")
    assert rows[("0002", "UP")][2:] == (None, "run-new")


def test_page_reads_series_and_chosen_year(tmp_path):
    path = tmp_path / "c.duckdb"
    _toy(path, with_trends=True).close()
    db = Warehouse(path)
    try:
        d = scorecard_data(db, "0001", "2011")
        (row,) = d["kpi_rows"]                         # BACKGROUND has no perspective
        assert d["years"] == [2011, 2013] and d["year"] == 2011
        assert (row["value"], row["year"], row["trend"]) == (10.0, 2011, "improving")
        assert (row["spark_years"], row["spark_values"]) == ([2011, 2013], [10.0, 30.0])
        assert (row["last_value"], row["last_year"]) == (30.0, 2013)
        # 2011: 0001 = 10, 0002 = 5, both 'small' -> mean 7.5, 0001 ranks first (higher is better)
        assert (row["group_mean"], row["group_rank"], row["group_n"]) == (7.5, 1, 2)
        # a year without data falls back to each KPI's latest value (2013; 0001 alone that year)
        d = scorecard_data(db, "0001", "2012")
        assert d["year"] is None and d["latest"]
        assert (d["kpi_rows"][0]["year"], d["kpi_rows"][0]["value"]) == (2013, 30.0)
        assert d["kpi_rows"][0]["group_mean"] == 30.0
        # the DataFrame holds the same rows
        assert d["kpis"]["value"].tolist() == [30.0]
    finally:
        db.close()


def test_a_trends_run_with_other_parameters_does_not_change_the_page(tmp_path):
    """A later trends run with another window (e.g. `styrkort trends --years 3`) is stored beside
    the default run: the page keeps showing the default run's verdicts."""
    path = tmp_path / "d.duckdb"
    con = _toy(path, with_trends=True)
    con.execute("INSERT INTO mart_trends VALUES ('UP', '0001', 'no_change', 'run-later', false)")
    con.close()
    db = Warehouse(path)
    try:
        assert scorecard_data(db, "0001", None)["kpi_rows"][0]["trend"] == "improving"
    finally:
        db.close()


@pytest.mark.parametrize("code,year", [("1480", None), ("0180", "2010"), ("2584", None)])
def test_series_read_matches_plain_sql(built_db, code, year):
    """On the embedded default: every KPI's chosen-year value, status, sparkline and trend as
    plain SQL on the scorecard and trends marts gives them."""
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM scorecard_series").fetchone()[0] > 0
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT year FROM scorecard WHERE municipality_code = ? AND value IS NOT NULL "
            "ORDER BY 1", [code]).fetchall()]
        chosen = int(year) if year and int(year) in years else None
        # no year: each KPI at its own latest year with a value
        now = {r[0]: r[1:] for r in con.execute(
            "SELECT kpi_id, s.value, p.status, group_mean FROM scorecard s "
            "JOIN kpi_positions p USING (kpi_id, municipality_code, year) WHERE municipality_code = ? "
            "AND s.value IS NOT NULL AND year = coalesce(?, (SELECT max(year) FROM scorecard x "
            "WHERE x.municipality_code = s.municipality_code AND x.kpi_id = s.kpi_id "
            "AND x.value IS NOT NULL))", [code, chosen]).fetchall()}
        spark = {r[0]: (r[1], r[2]) for r in con.execute(
            "SELECT kpi_id, list(year ORDER BY year), list(value ORDER BY year) FROM scorecard "
            "WHERE municipality_code = ? AND value IS NOT NULL GROUP BY kpi_id", [code]).fetchall()}
        trend = dict(con.execute("SELECT kpi_id, verdict FROM trends WHERE municipality_code = ? "
                                 "AND verdict IS NOT NULL", [code]).fetchall())
    finally:
        con.close()
    db = Warehouse(built_db)
    try:
        d = scorecard_data(db, code, year)
    finally:
        db.close()
    assert d["years"] == years and d["year"] == chosen
    got = {r["kpi_id"]: r for r in d["kpi_rows"]}
    assert {k for k, r in got.items() if r["value"] is not None} == set(now)
    for k, (value, status, group_mean) in now.items():
        assert (got[k]["value"], got[k]["status"]) == (pytest.approx(value), status)
        assert got[k]["group_mean"] == pytest.approx(group_mean)
    for k, r in got.items():
        assert (r["spark_years"], r["spark_values"]) == spark.get(k, ([], []))
        assert r["trend"] == trend.get(k)


# -- how many KPI rows a perspective panel renders (bounds the callback at Kolada scale) ----------

def _fake_rows(n):
    return [{"kpi_id": f"K{i:03d}", "title": f"Nyckeltal {i}", "unit": "%", "perspective": "ekonomi",
             "is_demo": False, "source": "s", "year": 2014, "value": None if i % 2 else float(i),
             "last_value": None, "last_year": None, "group_mean": None, "national_mean": None,
             "status": None, "trend": None, "group_rank": None, "group_n": None,
             "spark_years": [2013, 2014], "spark_values": [1.0, 2.0], "higher_is_better": True,
             "national_rank": None, "national_n": None, "national_tied": None, "national_band": None,
             "group_tied": None, "group_band": None, "similar_mean": None, "similar_n": None,
             "similar_year": None, "target": None, "target_tolerance": None, "target_tolerance_default": None,
             "target_status": None, "target_gap": None, "target_decided_by": None, "target_is_demo": None}
            for i in range(n)]


def _body_rows(component):
    """Number of html.Tr inside any html.Tbody of a component tree."""
    from dash import html

    def walk(c, in_body):
        n = 0
        if isinstance(c, (list, tuple)):
            return sum(walk(x, in_body) for x in c)
        if isinstance(c, html.Tr) and in_body:
            n += 1
        children = getattr(c, "children", None)
        if children is not None and not isinstance(children, str):
            n += walk(children, in_body or isinstance(c, html.Tbody))
        return n
    return walk(component, False)


@pytest.fixture(scope="module")
def kommun_page(built_db):
    import sys

    from dashboard.app import create_app

    create_app(built_db)
    return sys.modules["pages.kommun"]


def test_panel_shows_all_up_to_20_then_first_10_values_first(kommun_page):
    K = kommun_page
    assert _body_rows(K._panel("ekonomi", _fake_rows(17), "sv", "0180")) == 17
    assert _body_rows(K._panel("ekonomi", _fake_rows(20), "sv", "0180")) == 20
    panel = K._panel("ekonomi", _fake_rows(138), "sv", "0180")
    assert _body_rows(panel) == 10
    from layout_support import find, texts
    titles = [x for x in texts(panel) if x.startswith("Nyckeltal ")]
    # the ten shown are KPIs with a value (even i), and the 'show all' link keeps the code
    assert "Nyckeltal 0" in titles and "Nyckeltal 18" in titles and "Nyckeltal 1" not in titles
    assert any("alla=1" in (getattr(c, "href", "") or "") for c in find(panel, lambda c: True))
    assert _body_rows(K._panel("ekonomi", _fake_rows(138), "sv", "0180", show_all=True)) == 138
