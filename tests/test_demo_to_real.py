"""Demo indicators give way to real Kolada KPIs (pipelines/effective.py): the resolution of an
index config per year, effective_kpi_values, the index and the scorecard on small hand-made
warehouses, and the whole path on the embedded default (import a v3 file with every preset id
for all 290 municipalities in 2009, refresh: the 2009 index uses only real ids)."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from pipelines.ranking.config import config_from_dict
from warehouse.value_source import insert_kpi_values, source_id


def cfg(areas: dict) -> "IndexConfig":  # noqa: F821
    return config_from_dict({"areas": {a: {"weight": w, "kpis": k} for a, (w, k) in areas.items()}})


def twins_frame(rows):
    return pd.DataFrame(rows, columns=["demo_kpi_id", "real_kpi_id", "year", "real_n_values",
                                       "n_municipalities", "superseded", "real_complete"])


# ------------------------------------------------------------------------------ pure resolution

def test_resolve_replaces_complete_twins_keeps_incomplete_ones():
    from pipelines.effective import annotate_usage, resolve_index_config

    config = cfg({"A": (2.0, ["D1", "D2"]), "B": (1.0, ["D3", "X"])})
    year = twins_frame([("D1", "R1", 2009, 6, 6, True, True),      # complete: replaces D1
                        ("D2", "R2", 2009, 5, 6, True, False),     # 5 of 6: D2 stays
                        ("D3", "R3", 2009, 0, 6, False, False)])   # no real values: D3 stays
    res = resolve_index_config(config, year)
    assert [(a.name, a.weight, a.kpis) for a in res.config.areas] == [
        ("A", 2.0, ("R1", "D2")), ("B", 1.0, ("D3", "X"))]
    assert res.replaced == {"D1": "R1"} and res.kept == {"D2": "R2"}
    assert res.config.source == config.source
    usage = pd.DataFrame({"kpi_id": ["R1", "D2", "D3", "X"], "area": ["A", "A", "B", "B"],
                          "used": [True, True, True, True], "reason_code": ["used"] * 4,
                          "reason": ["r"] * 4, "n_values": [6] * 4, "n_municipalities": [6] * 4})
    out = annotate_usage(usage, res)
    assert dict(zip(out["kpi_id"], out["twin_kpi_id"])) == {"R1": "D1", "D2": "R2", "D3": None, "X": None,
                                                            "R2": "D2"}
    r2 = out[out["kpi_id"] == "R2"].iloc[0]
    assert (r2["used"], r2["reason_code"], r2["area"], r2["n_values"]) == (False, "incomplete", "A", 5)
    assert "1 av 6" in r2["reason"] and "D2" in r2["reason"]


def test_resolve_real_kpi_listed_itself_counts_once():
    from pipelines.effective import resolve_index_config

    config = cfg({"A": (1.0, ["D1"]), "B": (1.0, ["R1", "Y"])})
    res = resolve_index_config(config, twins_frame([("D1", "R1", 2009, 3, 3, True, True)]))
    assert [(a.name, a.kpis) for a in res.config.areas] == [("B", ("R1", "Y"))]   # A had only D1


def test_kpi_counts():
    from pipelines.effective import kpi_counts

    assert kpi_counts(["R1", "D2", "X"], {"D2"}) == (3, 2)
    assert kpi_counts([], set()) == (0, 0)


# ------------------------------------------------------------------------------ small warehouse

@pytest.fixture
def twin_wh():
    """Four municipalities; demo KPIs D_UP (area A) and D_DOWN (area B, lower is better) with
    real twins R_UP and R_DOWN; R_UP complete in 2009, R_DOWN in 2009 for 3 of 4; 2010 demo only."""
    from ranking_fixtures import tiny_warehouse

    con = duckdb.connect()
    munis = [("0001", "Ett", "01", 5000), ("0002", "Två", "01", 30000),
             ("0003", "Tre", "02", 80000), ("0004", "Fyra", "02", 9000)]
    codes = [m[0] for m in munis]
    values = []
    for y in (2009, 2010):
        values += [("D_UP", c, y, v) for c, v in zip(codes, [10, 20, 30, 40])]
        values += [("D_DOWN", c, y, v) for c, v in zip(codes, [4, 3, 2, 1])]
    values += [("R_UP", c, 2009, v) for c, v in zip(codes, [90, 70, 80, 60])]
    values += [("R_DOWN", c, 2009, v) for c, v in zip(codes[:3], [1, 2, 3])]
    tiny_warehouse(con, munis, [("D_UP", True, True), ("D_DOWN", False, True),
                                ("R_UP", True, False), ("R_DOWN", False, False)], values)
    con.execute("UPDATE kpi SET perspective = 'verksamhet'")
    con.execute("UPDATE kpi_value SET source_id = ? WHERE kpi_id LIKE 'R_%'", [source_id(con, "Kolada")])
    con.execute("INSERT INTO demo_kpi_twin VALUES ('D_UP', 'R_UP'), ('D_DOWN', 'R_DOWN')")
    yield con
    con.close()


def test_effective_values_hide_superseded_demo_years(twin_wh):
    from pipelines.effective import run_effective

    run_effective(twin_wh)
    rows = twin_wh.execute("SELECT demo_kpi_id, year, demo_n_values, real_n_values, superseded, real_complete, "
                           "shown_kpi_id, hidden_kpi_id FROM demo_twin_years ORDER BY 1, 2 NULLS LAST").fetchall()
    assert rows == [("D_DOWN", 2009, 4, 3, True, False, "R_DOWN", "D_DOWN"),
                    ("D_DOWN", 2010, 4, 0, False, False, "D_DOWN", "R_DOWN"),
                    ("D_DOWN", None, 4, 3, True, None, "R_DOWN", "D_DOWN"),      # 'senaste': the real KPI
                    ("D_UP", 2009, 4, 4, True, True, "R_UP", "D_UP"),
                    ("D_UP", 2010, 4, 0, False, False, "D_UP", "R_UP"),
                    ("D_UP", None, 4, 4, True, None, "R_UP", "D_UP")]
    eff = twin_wh.execute("SELECT kpi_id, year, count(*) FROM effective_kpi_values GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    # 2009: both demo KPIs hidden (each twin has values), 2010: both shown
    assert eff == [("D_DOWN", 2010, 4), ("D_UP", 2010, 4), ("R_DOWN", 2009, 3), ("R_UP", 2009, 4)]
    # the demo rows stay in the warehouse, flagged
    assert twin_wh.execute("SELECT count(*), bool_and(is_demo) FROM kpi_values WHERE kpi_id LIKE 'D_%'").fetchall() == [(16, True)]


def test_index_uses_complete_twin_and_keeps_incomplete_demo(twin_wh):
    from pipelines.ranking.pipeline import run_index

    from pipelines.effective import run_effective

    config = cfg({"A": (1.0, ["D_UP"]), "B": (1.0, ["D_DOWN"])})
    # before the effective step ran: no twin gives way, the config as written
    assert run_index(twin_wh, 2009, config).n_kpis_real == 0
    run_effective(twin_wh)
    run = run_index(twin_wh, 2009, config, make_default=True)
    usage = twin_wh.execute("SELECT kpi_id, area, used, reason_code, twin_kpi_id FROM index_kpi_usage "
                            "WHERE year = 2009 ORDER BY kpi_id").fetchall()
    assert usage == [("D_DOWN", "B", True, "used", "R_DOWN"),
                     ("R_DOWN", "B", False, "incomplete", "D_DOWN"),
                     ("R_UP", "A", True, "used", "D_UP")]
    assert (run.is_demo, run.n_kpis, run.n_kpis_real) == (True, 2, 1)
    # composite by hand: z(R_UP) over 90,70,80,60 (mean 75, sd √125); z(-D_DOWN) over -4..-1
    # (mean -2.5, sd √1.25); composite = (zA + zB) / 2
    sd_a, sd_b = 125 ** 0.5, 1.25 ** 0.5
    expect = {c: ((a - 75) / sd_a + (-d + 2.5) / sd_b) / 2
              for c, a, d in zip(["0001", "0002", "0003", "0004"], [90, 70, 80, 60], [4, 3, 2, 1])}
    got = dict(twin_wh.execute("SELECT municipality_code, composite FROM composite_index WHERE year = 2009").fetchall())
    assert got == pytest.approx(expect)
    ci = twin_wh.execute("SELECT DISTINCT is_demo, n_kpis, n_kpis_real FROM composite_index WHERE year = 2009").fetchall()
    assert ci == [(True, 2, 1)]
    # 2010: no real values, the demo config as written
    run10 = run_index(twin_wh, 2010, config, make_default=True)
    assert (run10.is_demo, run10.n_kpis, run10.n_kpis_real) == (True, 2, 0)
    assert run10.config_hash == run.config_hash           # hashed as written: same config


def test_whatif_follows_the_twins_the_index_used(twin_wh):
    """The what-if recomputes each year's default index as run_index computed it: in 2009 on the
    complete real twin R_UP (and D_DOWN, whose twin is incomplete), in 2010 on the demo KPIs."""
    from pipelines.effective import run_effective
    from pipelines.ranking.pipeline import run_index
    from pipelines.whatif import run_whatif

    config = cfg({"A": (1.0, ["D_UP"]), "B": (1.0, ["D_DOWN"])})
    run_effective(twin_wh)
    run_index(twin_wh, 2009, config, make_default=True)
    run_index(twin_wh, 2010, config, make_default=True)
    run_whatif(twin_wh, make_default=True)
    kpis = twin_wh.execute("SELECT year, kpi_id, bool_and(is_demo), count(*) FROM index_whatif "
                           "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
    # 4 municipalities × 2 scenarios per KPI; R_UP real, but the 2009 index is demo (D_DOWN)
    assert kpis == [(2009, "D_DOWN", True, 8), (2009, "R_UP", True, 8),
                    (2010, "D_DOWN", True, 8), (2010, "D_UP", True, 8)]
    # its current rank is the stored index rank (0001 and 0004 tie at 0: by code)
    ranks = twin_wh.execute("SELECT DISTINCT municipality_code, rank FROM index_whatif WHERE year = 2009 "
                            "ORDER BY 1").fetchall()
    assert ranks == [("0001", 2), ("0002", 4), ("0003", 1), ("0004", 3)]


def test_index_all_real_carries_no_demo_flag(twin_wh):
    from pipelines.ranking.pipeline import run_index

    from pipelines.effective import run_effective

    insert_kpi_values(twin_wh, [("R_DOWN", "0004", 2009, "T", 4, "test", False)])
    run_effective(twin_wh)
    run = run_index(twin_wh, 2009, cfg({"A": (1.0, ["D_UP"]), "B": (1.0, ["D_DOWN"])}), make_default=True)
    assert (run.is_demo, run.n_kpis, run.n_kpis_real) == (False, 2, 2)
    used = twin_wh.execute("SELECT kpi_id FROM index_kpi_usage WHERE year = 2009 AND used ORDER BY 1").fetchall()
    assert used == [("R_DOWN",), ("R_UP",)]
    assert twin_wh.execute("SELECT count(*) FROM index_kpi_usage WHERE year = 2009 AND kpi_id LIKE 'D_%'").fetchall() == [(0,)]


def test_scorecard_shows_real_twin_instead_of_demo(twin_wh):
    from pipelines.effective import run_effective
    from pipelines.scorecard import run_scorecard

    run_effective(twin_wh)
    run_scorecard(twin_wh)
    rows = twin_wh.execute("SELECT kpi_id, year, is_demo, is_latest FROM scorecard WHERE municipality_code = '0001' "
                           "ORDER BY kpi_id, year").fetchall()
    assert rows == [("D_DOWN", 2010, True, False), ("D_UP", 2010, True, False),
                    ("R_DOWN", 2009, False, True), ("R_UP", 2009, False, True)]
    # 0004 has no R_DOWN value in 2009: the demo twin is still not shown that year
    assert twin_wh.execute("SELECT count(*) FROM scorecard WHERE municipality_code = '0004' AND year = 2009 "
                           "AND kpi_id LIKE 'D_%'").fetchall() == [(0,)]


def test_one_kpi_complete_in_one_year_incomplete_in_another(twin_wh):
    """R_UP: all 4 municipalities in 2009, 2 of 4 in 2010. 2009: the index uses R_UP; 2010: the
    index keeps D_UP (R_UP listed as incomplete) while the scorecard shows R_UP's two values and
    not D_UP — the demo twin is never shown in a year its real KPI has a value."""
    from pipelines.effective import run_effective
    from pipelines.ranking.pipeline import run_index
    from pipelines.scorecard import run_scorecard

    insert_kpi_values(twin_wh, [("R_UP", "0001", 2010, "T", 50, "Kolada", False), ("R_UP", "0002", 2010, "T", 55, "Kolada", False)])
    run_effective(twin_wh)
    twins = twin_wh.execute("SELECT year, real_n_values, superseded, real_complete, shown_kpi_id FROM demo_twin_years "
                            "WHERE demo_kpi_id = 'D_UP' ORDER BY year NULLS LAST").fetchall()
    assert twins == [(2009, 4, True, True, "R_UP"), (2010, 2, True, False, "R_UP"), (None, 4, True, None, "R_UP")]
    config = cfg({"A": (1.0, ["D_UP"])})
    run_index(twin_wh, 2009, config, make_default=True)
    run_index(twin_wh, 2010, config, make_default=True)
    usage = twin_wh.execute("SELECT year, kpi_id, used, reason_code, twin_kpi_id FROM index_kpi_usage "
                            "ORDER BY year, kpi_id").fetchall()
    assert usage == [(2009, "R_UP", True, "used", "D_UP"),
                     (2010, "D_UP", True, "used", "R_UP"),
                     (2010, "R_UP", False, "incomplete", "D_UP")]
    reason = twin_wh.execute("SELECT reason FROM index_kpi_usage WHERE year = 2010 AND kpi_id = 'R_UP'").fetchone()[0]
    assert "2 av 4" in reason
    counts = dict(twin_wh.execute("SELECT year, any_value(n_kpis_real) FROM composite_index GROUP BY year").fetchall())
    assert counts == {2009: 1, 2010: 0}
    run_scorecard(twin_wh)
    sc = twin_wh.execute("SELECT municipality_code, kpi_id, value FROM scorecard WHERE year = 2010 "
                         "AND kpi_id LIKE '%UP' ORDER BY 1").fetchall()
    assert sc == [("0001", "R_UP", 50.0), ("0002", "R_UP", 55.0)]
    # the demo rows stay in the warehouse (for the index and for reproducibility)
    assert twin_wh.execute("SELECT count(*) FROM kpi_values WHERE kpi_id = 'D_UP' AND year = 2010").fetchone()[0] == 4


def test_references_positions_and_status_counts_count_one_per_pair(twin_wh):
    """kpi_reference_series, kpi_positions and scorecard_status_counts read effective values and
    count a demo/real pair once (hand-computed on four municipalities)."""
    from pipelines.effective import run_effective
    from pipelines.positions import run_positions
    from pipelines.scorecard import run_scorecard

    run_effective(twin_wh)
    run_scorecard(twin_wh)
    run_positions(twin_wh)
    nat = twin_wh.execute("SELECT DISTINCT kpi_id, year, national_mean, national_n FROM kpi_reference_series "
                          "ORDER BY 1, 2").fetchall()
    # 2009: real twins only (R_UP 90,70,80,60 -> 75; R_DOWN 1,2,3 -> 2); 2010: demo only
    assert nat == [("D_DOWN", 2010, pytest.approx(2.5), 4), ("D_UP", 2010, pytest.approx(25.0), 4),
                   ("R_DOWN", 2009, pytest.approx(2.0), 3), ("R_UP", 2009, pytest.approx(75.0), 4)]
    pos = twin_wh.execute("SELECT kpi_id, year, status FROM kpi_positions WHERE municipality_code = '0001' "
                          "ORDER BY 1, 2").fetchall()
    # n = 4: best = place 1, worst = place 4; R_DOWN has 3 values: too few to place
    assert pos == [("D_DOWN", 2010, "worst25"), ("D_UP", 2010, "worst25"),
                   ("R_DOWN", 2009, "too_few"), ("R_UP", 2009, "best25")]
    cols = "n_kpis, n_with_value, n_best, n_middle, n_worst, n_too_few, n_missing"
    counts = {(c, y): r for c, y, *r in twin_wh.execute(
        f"SELECT municipality_code, year, {cols} FROM scorecard_status_counts "
        "WHERE perspective = 'verksamhet'").fetchall()}
    assert counts[("0001", 2009)] == [2, 2, 1, 0, 0, 1, 0]      # R_UP best, R_DOWN too few
    assert counts[("0004", 2009)] == [2, 1, 0, 0, 1, 0, 1]      # R_UP worst, R_DOWN missing
    assert counts[("0001", 2010)] == [2, 2, 0, 0, 2, 0, 0]      # the demo twins, both worst
    assert counts[("0001", None)] == [2, 2, 1, 0, 0, 1, 0]      # 'senaste': the real KPIs of 2009
    assert counts[("0004", None)] == [2, 1, 0, 0, 1, 0, 1]


def test_effective_step_runs_first_and_reruns_identical(twin_wh, tmp_path):
    """The step registry: `effective` is a step of build/refresh (first), with a shipped config,
    listed by `styrkort runs` and re-run identically by `styrkort rerun`."""
    from typer.testing import CliRunner

    from pipelines.steps import STEPS, refresh, shipped_config
    from styrkort.cli import app

    assert STEPS[0] == "effective" and shipped_config(twin_wh, "effective")["model"] == "demo_twin_years.sql"
    refresh(twin_wh)
    first = twin_wh.execute("SELECT step FROM pipeline_runs ORDER BY started_at LIMIT 1").fetchone()[0]
    assert first == "effective"
    assert twin_wh.execute("SELECT count(*) FROM demo_twin_years WHERE superseded AND year = 2009").fetchone()[0] == 2
    db = tmp_path / "w.duckdb"
    twin_wh.execute(f"ATTACH '{db}' AS f")
    twin_wh.execute("COPY FROM DATABASE memory TO f")
    twin_wh.execute("DETACH f")
    r = CliRunner().invoke(app, ["runs", "--step", "effective", "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    import json
    runs = json.loads(r.stdout)
    assert len(runs) == 1 and runs[0]["is_default"]
    r = CliRunner().invoke(app, ["rerun", runs[0]["run_id"], "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["identical"] is True and [m["mart"] for m in doc["marts"]] == ["demo_twin_years"]


# ------------------------------------------------------------------------------ the embedded default

def _q(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_2009_index_uses_only_real_ids_after_import_and_refresh(real_2009_db):
    from pipelines.ranking.config import load_config

    twin = dict(_q(real_2009_db, "SELECT kpi_id, stands_for FROM kpis WHERE stands_for IS NOT NULL"))
    usage = _q(real_2009_db, "SELECT kpi_id, used, twin_kpi_id FROM index_kpi_usage WHERE year = 2009")
    default_ids = load_config().kpi_ids
    assert sorted(k for k, _, _ in usage) == sorted(twin[k] for k in default_ids)
    assert all(used for _, used, _ in usage)                       # all 290 have a value
    assert not any(k.startswith("DEMO_") for k, _, _ in usage)
    assert {t for _, _, t in usage} == set(default_ids)            # each replaced its demo twin
    assert _q(real_2009_db, "SELECT DISTINCT is_demo, n_kpis, n_kpis_real FROM composite_index "
                            "WHERE year = 2009") == [(False, len(default_ids), len(default_ids))]
    # the other years are as before: demo, no real KPI
    other = _q(real_2009_db, "SELECT DISTINCT year, is_demo, n_kpis_real FROM composite_index WHERE year <> 2009")
    assert other and all(d and n == 0 for _, d, n in other)
    # the selection of 2009 follows the real index
    sel = _q(real_2009_db, "SELECT count(*) FROM selection_items i JOIN selections s USING (selection_id) "
                           "WHERE s.year = 2009 AND s.is_default")
    assert sel == [(30,)]


def test_scorecard_2009_shows_real_kpis_not_demo_twins(real_2009_db, built_db):
    rows = _q(real_2009_db, "SELECT kpi_id, is_demo, perspective FROM scorecard "
                            "WHERE municipality_code = '1480' AND year = 2009")
    ids = {k for k, _, _ in rows}
    twin = dict(_q(real_2009_db, "SELECT kpi_id, stands_for FROM kpis WHERE stands_for IS NOT NULL"))
    assert not ids & set(twin)                                      # no demo twin in 2009
    assert set(twin.values()) <= ids                                # every real twin instead
    assert not any(d for _, d, _ in rows)
    # same panels as before: each real twin in its demo twin's perspective
    before = dict(_q(built_db, "SELECT kpi_id, perspective FROM scorecard WHERE municipality_code = '1480' "
                               "AND year = 2009 AND is_demo"))
    persp = {k: p for k, _, p in rows}
    assert {twin[k]: p for k, p in before.items() if k in twin} == {twin[k]: persp[twin[k]] for k in before if k in twin}
    # 2010 still shows the demo twins, flagged, as before the import
    q2010 = ("SELECT kpi_id, value, is_demo FROM scorecard WHERE municipality_code = '1480' "
             "AND year = 2010 AND kpi_id LIKE 'DEMO_%' ORDER BY 1")
    assert _q(real_2009_db, q2010) == _q(built_db, q2010) and len(_q(built_db, q2010)) > 20


def _text(component) -> str:
    """All text of a Dash component tree."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None))


def test_index_demo_label_counts_real_kpis():
    from dashboard.components import index_demo_label

    assert index_demo_label({"is_demo": False, "n_kpis": 20, "n_kpis_real": 20}) is None
    assert index_demo_label(None) is None
    mixed = _text(index_demo_label({"is_demo": True, "n_kpis": 20, "n_kpis_real": 12}))
    assert "DEMO" in mixed and "12 av 20 nyckeltal i indexet är verkliga" in mixed
    en = _text(index_demo_label({"is_demo": True, "n_kpis": 20, "n_kpis_real": 12}, "en"))
    assert "12 of the index's 20 indicators are real" in en
    assert _text(index_demo_label({"is_demo": True, "n_kpis": 18, "n_kpis_real": 0})) == "DEMO"


def test_pages_read_the_pipelines_decision(real_2009_db):
    from dashboard import data as D

    db = D.Warehouse(real_2009_db)
    twin = dict(_q(real_2009_db, "SELECT kpi_id, stands_for FROM kpis WHERE stands_for IS NOT NULL"))
    assert D.index_demo(db, 2009)["is_demo"] is False
    assert D.index_demo(db, 2010)["is_demo"] is True and D.index_demo(db, 2010)["n_kpis_real"] == 0
    assert D.hidden_twins(db, 2009) == frozenset(twin)                 # demo twins out in 2009
    assert D.hidden_twins(db, 2010) == frozenset(twin.values())        # real twins out in 2010
    assert D.hidden_twins(db, None) == frozenset(twin)                 # "senaste": the real KPI
    for year in (2009, None):
        rows = D.scorecard_data(db, "1480", year, "sv")["kpi_rows"]
        ids = {r["kpi_id"] for r in rows}
        assert set(twin.values()) <= ids and not ids & set(twin), year
        assert not any(r["is_demo"] for r in rows if r["kpi_id"] in twin.values())
    # the map: a demo KPI has no values in 2009, its real twin has all 290
    df, meta = D.map_data(db, "kpi:DEMO_RISK_FALL", 2009)
    assert df["value"].notna().sum() == 0
    df, meta = D.map_data(db, "kpi:U20432", 2009)
    assert df["value"].notna().sum() == 290 and not meta["is_demo"]
    df, meta = D.map_data(db, "composite", 2009)
    assert meta["is_demo"] is False and meta["n_kpis_real"] == meta["n_kpis"]


def test_embedded_default_is_unchanged_demo(built_db):
    """Without real ÖJ data nothing gives way: effective values are all values, the index of
    every year is demo with no real KPI, the demo labels stay and no demo indicator is hidden
    from the scorecard."""
    from dashboard import data as D
    from dashboard.components import index_demo_label

    assert _q(built_db, "SELECT count(*) FROM demo_twin_years WHERE superseded") == [(0,)]
    assert _q(built_db, "SELECT count(*) FROM demo_twin_years")[0][0] > 20
    assert _q(built_db, "SELECT count(*) FROM effective_kpi_values") == _q(built_db, "SELECT count(*) FROM kpi_values")
    ci = _q(built_db, "SELECT bool_and(is_demo), max(n_kpis_real), min(n_kpis) FROM composite_index")
    assert ci[0][0] is True and ci[0][1] == 0 and ci[0][2] >= 10
    n_used = _q(built_db, "SELECT count(*) FROM index_kpi_usage WHERE year = 2009 AND used")[0][0]
    assert _q(built_db, "SELECT DISTINCT n_kpis FROM composite_index WHERE year = 2009") == [(n_used,)]
    assert _q(built_db, "SELECT count(*) FROM index_kpi_usage WHERE twin_kpi_id IS NOT NULL") == [(0,)]
    db = D.Warehouse(built_db)
    try:
        assert _text(index_demo_label(D.index_demo(db, 2009))) == "DEMO"
        shown = {r["kpi_id"] for r in D.scorecard_data(db, "1480", None, "sv")["kpi_rows"]}
        demo = {k for (k,) in _q(built_db, "SELECT DISTINCT kpi_id FROM scorecard WHERE is_demo")}
        assert demo and demo <= shown                     # every demo indicator still shown
        assert not D.hidden_twins(db, None) & shown       # hidden: only real ids without values
    finally:
        db.close()
    # the panel counts count every KPI of the positions run, as before
    per = dict(_q(built_db, "SELECT k.perspective, count(DISTINCT p.kpi_id) FROM kpi_positions p "
                            "JOIN kpis k USING (kpi_id) GROUP BY 1"))
    got = dict(_q(built_db, "SELECT perspective, max(n_kpis) FROM scorecard_status_counts "
                            "WHERE municipality_code = '1480' AND year IS NULL GROUP BY 1"))
    assert got == per


def test_every_reference_mart_follows_real_2009(real_2009_db):
    """The references beside a value (size group / national, similar municipalities) and the
    positions follow the real KPI in 2009 and never carry its demo twin that year."""
    twin = dict(_q(real_2009_db, "SELECT kpi_id, stands_for FROM kpis WHERE stands_for IS NOT NULL"))
    for view in ("kpi_reference_series", "similar_reference", "kpi_positions", "trends"):
        year = "" if view == "trends" else " AND year = 2009"
        demo = _q(real_2009_db, f"SELECT count(*) FROM {view} WHERE list_contains(?, kpi_id){year}", [list(twin)])
        real = _q(real_2009_db, f"SELECT count(DISTINCT kpi_id) FROM {view} WHERE list_contains(?, kpi_id){year}",
                  [list(twin.values())])
        if view == "trends":   # one year of real values: no trend yet, and the demo twins' trends stay
            assert real == [(0,)], view
        else:
            assert demo == [(0,)] and real[0][0] == len(set(twin.values()) & {
                k for (k,) in _q(real_2009_db, "SELECT DISTINCT kpi_id FROM kpi_values WHERE year = 2009")}), view
