"""The scorecard_page mart (pipelines/targets.py, pipelines/sql/scorecard_page.sql): the default
scorecard rows with the columns of kpi_positions, similar_reference and target_status, joined
once by the pipeline so /kommun/<code> reads them in one point read. Checked against the marts
it copies, against the page's answer without it, and that it follows a changed default."""
from __future__ import annotations

import duckdb
import pandas as pd

KEY = ["municipality_code", "kpi_id", "year"]


def _frame(con, sql):
    return con.execute(sql).df().sort_values(KEY).reset_index(drop=True)


def test_the_page_rows_are_the_scorecard_rows_with_the_marts_columns(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        page = _frame(con, "SELECT * FROM scorecard_page")
        sc = _frame(con, "SELECT municipality_code, kpi_id, year, value, is_latest, national_mean, is_demo "
                         "FROM scorecard")
        pos = _frame(con, "SELECT municipality_code, kpi_id, year, status, national_rank, group_band "
                          "FROM kpi_positions")
        sim = _frame(con, "SELECT municipality_code, kpi_id, year, similar_mean, similar_n FROM similar_reference")
        goals = _frame(con, "SELECT municipality_code, kpi_id, year, target, status AS target_status "
                            "FROM target_status WHERE unit_id IS NULL")
    finally:
        con.close()
    # one row per scorecard row, the same values
    assert len(page) == len(sc) > 0
    pd.testing.assert_frame_equal(page[sc.columns.tolist()], sc, check_dtype=False)
    # each joined column is its own mart's (or missing where that mart has no row)
    for other, cols in ((pos, ["status", "national_rank", "group_band"]),
                        (sim, ["similar_mean", "similar_n"]),
                        (goals, ["target", "target_status"])):
        m = page[KEY + cols].merge(other, on=KEY, how="left", suffixes=("", "_mart"))
        for c in cols:
            a, b = m[c], m[f"{c}_mart"]
            assert ((a == b) | (a.isna() & b.isna())).all(), c
    assert page["target"].notna().any() and page["similar_mean"].notna().any()


def test_the_page_answers_the_same_without_the_page_mart(db_copy):
    """A warehouse refreshed before scorecard_page existed joins the marts per request: same rows."""
    from dashboard.data import Warehouse, scorecard_data

    def answers(path):
        db = Warehouse(path)
        try:
            years = db.years("scorecard")
            return [scorecard_data(db, code, year)["kpi_rows"]
                    for code in ("0180", "1480", "2584") for year in (None, years[-1], years[-4])]
        finally:
            db.close()

    with_mart = answers(db_copy)
    con = duckdb.connect(str(db_copy))
    con.execute("DROP VIEW scorecard_page")
    con.close()
    assert answers(db_copy) == with_mart
    assert any(r["value"] is not None and r["national_rank"] is not None for rows in with_mart for r in rows)


def test_a_new_positions_default_reaches_the_page_mart(db_copy):
    """The targets step (which builds scorecard_page) reruns after positions and similar."""
    from pipelines.steps import refresh_dependants

    con = duckdb.connect(str(db_copy))
    try:
        con.execute("UPDATE mart_kpi_positions SET national_rank = national_rank + 1000 WHERE is_default")
        assert "targets" in refresh_dependants(con, "positions")
        assert "targets" in refresh_dependants(con, "similar")
        low = con.execute("SELECT min(national_rank) FROM scorecard_page").fetchone()[0]
    finally:
        con.close()
    assert low > 1000
