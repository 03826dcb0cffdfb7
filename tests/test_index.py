"""Composite index: hand-computed cases for every step, property tests, config parsing, and
the marts on a tiny DuckDB warehouse and on the embedded default."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ranking.config import ConfigError, config_from_dict, load_config
from pipelines.ranking.index import IndexComputationError, compute_index, normalise

REPO = Path(__file__).resolve().parent.parent
R = math.sqrt(1.5)  # z-score of 3 in [1, 2, 3] with ddof=0: (3-2)/sqrt(2/3)


def frames(values: dict[str, dict[str, float]], hib: dict[str, bool | None],
           groups: dict[str, str | None], year_codes: list[str] | None = None):
    """values[kpi][code] -> the three input frames of compute_index."""
    rows = [(k, c, v) for k, per in values.items() for c, v in per.items()]
    vals = pd.DataFrame(rows, columns=["kpi_id", "municipality_code", "value"])
    munis = pd.DataFrame({"municipality_code": list(groups), "size_group": list(groups.values())})
    meta = pd.DataFrame({"kpi_id": list(hib), "higher_is_better": list(hib.values())})
    return vals, munis, meta


def cfg(areas: dict[str, tuple[float, list[str]]], normalisation="zscore"):
    return config_from_dict({"normalisation": normalisation,
                             "areas": {a: {"weight": w, "kpis": k} for a, (w, k) in areas.items()}})


def by_code(df: pd.DataFrame, col: str) -> dict:
    return dict(zip(df["municipality_code"], df[col]))


# --- normalisation ---------------------------------------------------------------------------

def test_zscore_uses_population_sd():
    z = normalise(np.array([[1.0], [2.0], [3.0]]), "zscore")[:, 0]
    assert z == pytest.approx([-R, 0.0, R])


def test_minmax_and_rank_normalisation():
    x = np.array([[1.0], [2.0], [4.0]])
    assert normalise(x, "minmax")[:, 0] == pytest.approx([0.0, 1 / 3, 1.0])
    assert normalise(x, "rank")[:, 0] == pytest.approx([0.0, 0.5, 1.0])
    # ties get the average rank: ranks 1.5, 1.5, 3 -> (r-1)/(n-1)
    assert normalise(np.array([[1.0], [1.0], [3.0]]), "rank")[:, 0] == pytest.approx([0.25, 0.25, 1.0])


# --- completeness rule -----------------------------------------------------------------------

def test_completeness_rule_and_reasons():
    codes = ["0001", "0002", "0003", "0004"]
    groups = dict.fromkeys(codes, "small")
    values = {
        "a": {"0001": 1, "0002": 2, "0003": 3, "0004": 4},
        "b": {"0001": 1, "0002": 2, "0004": 4, "9999": 5},    # 0003 missing; 9999 is no municipality
        "e": {"0001": 1, "0002": 2, "0003": 3, "0004": 4},    # no direction
        "f": {"0001": 7, "0002": 7, "0003": 7, "0004": 7},    # no variation
    }
    hib = {"a": True, "b": True, "c": True, "e": None, "f": True}   # c: in kpis, no values; d: unknown
    vals, munis, meta = frames(values, hib, groups)
    res = compute_index(vals, munis, meta, cfg({"A": (1, ["a", "b", "c", "d", "e", "f"])}))
    u = res.usage.set_index("kpi_id")
    assert u["used"].to_dict() == {"a": True, "b": False, "c": False, "d": False, "e": False, "f": False}
    assert u.loc["b", "reason_code"] == "incomplete"
    assert u.loc["b", "n_values"] == 3 and u.loc["b", "n_municipalities"] == 4
    assert "0003" in u.loc["b", "reason"] and "1 av 4" in u.loc["b", "reason"]
    assert u.loc["c", "reason_code"] == "no_values"
    assert u.loc["d", "reason_code"] == "not_in_warehouse"
    assert u.loc["e", "reason_code"] == "no_direction"
    assert u.loc["f", "reason_code"] == "no_variation"
    assert res.kpi_ids == ["a"]


def test_no_usable_kpi_is_an_error_naming_the_kpis():
    vals, munis, meta = frames({"b": {"0001": 1}}, {"b": True}, {"0001": "small", "0002": "small"})
    with pytest.raises(IndexComputationError, match="b: värde saknas för 1 av 2"):
        compute_index(vals, munis, meta, cfg({"A": (1, ["b"])}))


# --- direction, area means, weights ----------------------------------------------------------

def test_direction_flip_lower_is_better():
    codes = ["0001", "0002", "0003", "0004"]
    vals, munis, meta = frames({"cost": dict(zip(codes, [10, 20, 30, 40]))}, {"cost": False},
                               dict.fromkeys(codes, "small"))
    res = compute_index(vals, munis, meta, cfg({"A": (1, ["cost"])}))
    # mean 25, sd sqrt(125); lowest value is best
    assert by_code(res.composite, "rank") == {"0001": 1, "0002": 2, "0003": 3, "0004": 4}
    assert by_code(res.composite, "composite")["0001"] == pytest.approx(15 / math.sqrt(125))


def test_area_score_is_mean_of_its_kpis():
    codes = ["0001", "0002", "0003"]
    vals, munis, meta = frames({"a1": dict(zip(codes, [1, 2, 3])), "a2": dict(zip(codes, [1, 1, 4]))},
                               {"a1": True, "a2": True}, dict.fromkeys(codes, "small"))
    res = compute_index(vals, munis, meta, cfg({"A": (1, ["a1", "a2"])}))
    # z(a2) = [-1, -1, 2] / sqrt(2)
    s2 = 1 / math.sqrt(2)
    expected = [(-R - s2) / 2, (0 - s2) / 2, (R + 2 * s2) / 2]
    assert list(res.areas.sort_values("municipality_code")["score"]) == pytest.approx(expected)
    assert list(res.composite["composite"]) == pytest.approx(expected)


def test_weights_and_areas_without_used_kpi_drop_out():
    codes = ["0001", "0002", "0003"]
    values = {"a": dict(zip(codes, [1, 2, 3])), "b": dict(zip(codes, [3, 2, 1])),
              "c": {"0001": 5}}                                    # incomplete: area C drops out
    vals, munis, meta = frames(values, {"a": True, "b": True, "c": True}, dict.fromkeys(codes, "small"))
    res = compute_index(vals, munis, meta, cfg({"A": (3, ["a"]), "B": (1, ["b"]), "C": (10, ["c"])}))
    # (3·z_a + 1·z_b) / (3 + 1) with z_a = [-R, 0, R], z_b = [R, 0, -R]
    assert list(res.composite["composite"]) == pytest.approx([-R / 2, 0.0, R / 2])
    assert by_code(res.composite, "rank") == {"0003": 1, "0002": 2, "0001": 3}
    assert sorted(res.areas["area"].unique()) == ["A", "B"]
    shares = res.areas.drop_duplicates("area").set_index("area")["weight_share"].to_dict()
    assert shares == pytest.approx({"A": 0.75, "B": 0.25})


# --- ranks -----------------------------------------------------------------------------------

def test_ties_broken_by_code_ascending_whatever_the_input_order():
    groups = {"0003": "small", "0001": "small", "0002": "small"}
    vals, munis, meta = frames({"a": {"0003": 5, "0001": 5, "0002": 1}}, {"a": True}, groups)
    res = compute_index(vals, munis, meta, cfg({"A": (1, ["a"])}))
    assert by_code(res.composite, "rank") == {"0001": 1, "0003": 2, "0002": 3}


def test_group_rank_within_size_group_and_missing_group():
    codes = ["0001", "0002", "0003", "0004", "0005", "0006", "0007"]
    groups = dict(zip(codes, ["small", "large", "small", "medium", "large", "small", None]))
    vals, munis, meta = frames({"a": dict(zip(codes, [7, 6, 5, 4, 3, 2, 1]))}, {"a": True}, groups)
    res = compute_index(vals, munis, meta, cfg({"A": (1, ["a"])}))
    gr = by_code(res.composite, "group_rank")
    assert {c: gr[c] for c in codes[:6]} == {"0001": 1, "0003": 2, "0006": 3, "0002": 1, "0005": 2, "0004": 1}
    assert pd.isna(gr["0007"])
    assert by_code(res.composite, "rank")["0007"] == 7  # still ranked over all municipalities


# --- properties ------------------------------------------------------------------------------

@st.composite
def index_cases(draw):
    n = draw(st.integers(3, 25))
    k = draw(st.integers(1, 4))
    cols = []
    for _ in range(k):
        col = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
        if min(col) == max(col):
            col[0] += 1          # keep variation so the KPI is used
        cols.append(col)
    hib = draw(st.lists(st.booleans(), min_size=k, max_size=k))
    area_of = draw(st.lists(st.integers(0, 2), min_size=k, max_size=k))
    weights = draw(st.lists(st.integers(1, 5), min_size=3, max_size=3))
    groups = draw(st.lists(st.sampled_from(["small", "medium", "large"]), min_size=n, max_size=n))
    method = draw(st.sampled_from(["zscore", "minmax", "rank"]))
    return n, cols, hib, area_of, weights, groups, method


def _case_frames(case, transform=None):
    n, cols, hib, area_of, weights, groups, method = case
    codes = [f"{i:04d}" for i in range(1, n + 1)]
    values = {}
    for j, col in enumerate(cols):
        x = np.array(col, dtype=float)
        if transform is not None and j == transform[0]:
            x = transform[1](x)
        values[f"k{j}"] = dict(zip(codes, x))
    vals, munis, meta = frames(values, {f"k{j}": h for j, h in enumerate(hib)}, dict(zip(codes, groups)))
    areas = {}
    for j, a in enumerate(area_of):
        areas.setdefault(f"A{a}", (weights[a], []))[1].append(f"k{j}")
    return vals, munis, meta, cfg(areas, method)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_cases())
def test_ranks_are_a_permutation(case):
    res = compute_index(*_case_frames(case))
    n = case[0]
    assert sorted(res.composite["rank"]) == list(range(1, n + 1))
    for _, g in res.composite.groupby("size_group"):
        assert sorted(g["group_rank"]) == list(range(1, len(g) + 1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_cases(), st.integers(-1000, 1000), st.data())
def test_adding_a_constant_to_a_kpi_changes_nothing(case, c, data):
    j = data.draw(st.integers(0, len(case[1]) - 1))
    base = compute_index(*_case_frames(case)).composite
    moved = compute_index(*_case_frames(case, (j, lambda x: x + c))).composite
    assert list(moved["rank"]) == list(base["rank"])
    assert np.allclose(moved["composite"], base["composite"], atol=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index_cases(), st.floats(0.01, 100), st.data())
def test_scaling_a_kpi_by_a_positive_constant_changes_nothing_under_zscore(case, f, data):
    case = case[:-1] + ("zscore",)
    j = data.draw(st.integers(0, len(case[1]) - 1))
    base = compute_index(*_case_frames(case)).composite
    scaled = compute_index(*_case_frames(case, (j, lambda x: x * f))).composite
    assert list(scaled["rank"]) == list(base["rank"])
    assert np.allclose(scaled["composite"], base["composite"], atol=1e-9)


# --- config ----------------------------------------------------------------------------------

def test_default_config_matches_the_demo_kpi_list():
    """The shipped config's areas are the `area` column of warehouse/demo_kpis.csv."""
    config = load_config()
    demo = pd.read_csv(REPO / "warehouse" / "demo_kpis.csv")
    in_areas = demo.dropna(subset=["area"])
    expected = {a: sorted(g["kpi_id"]) for a, g in in_areas.groupby("area")}
    assert {a.name: sorted(a.kpis) for a in config.areas} == expected
    assert config.normalisation == "zscore"
    assert {a.name: a.weight for a in config.areas}["Brukarbedömning"] == 2.0


@pytest.mark.parametrize("text, message", [
    ('normalisation = "zscore"\n[areas.A\nweight = 1', "invalid TOML"),
    ('normalisation = "median"\n[areas.A]\nweight = 1\nkpis = ["x"]', "not one of zscore, minmax, rank"),
    ('normalisation = "zscore"', "no areas"),
    ('[areas.A]\nweight = 0\nkpis = ["x"]', "must be a positive number"),
    ('[areas.A]\nweight = 1\nkpis = []', "non-empty list"),
    ('[areas.A]\nkpis = ["x"]\n[areas.B]\nkpis = ["x"]', "listed in both"),
    ('[areas.A]\nweight = 1\nkpis = ["x"]\nwieght = 2', "unknown key"),
])
def test_bad_configs_name_file_and_problem(tmp_path, text, message):
    p = tmp_path / "mine.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(p) in str(e.value) and message in str(e.value)


def test_invalid_toml_reports_the_line(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('normalisation = "zscore"\n\n[areas.A\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="line 3"):
        load_config(p)


def test_config_hash_ignores_layout(tmp_path):
    from pipelines.runs import config_hash

    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text('normalisation = "zscore"\n[areas.X]\nweight = 1\nkpis = ["k"]\n', encoding="utf-8")
    b.write_text('# same, other layout\nareas = { X = { kpis = ["k"], weight = 1.0 } }\n', encoding="utf-8")
    assert config_hash(load_config(a).as_dict()) == config_hash(load_config(b).as_dict())


# --- marts on a tiny warehouse ---------------------------------------------------------------

@pytest.fixture
def tiny_con():
    from ranking_fixtures import tiny_warehouse

    con = duckdb.connect()
    munis = [("0001", "Ett", "01", 5000), ("0002", "Två", "01", 30000),
             ("0003", "Tre", "02", 80000), ("0004", "Fyra", "02", 9000, "Glesbygdskommuner")]
    values = [("a", c, 2009, v) for c, v in zip(["0001", "0002", "0003", "0004"], [1, 2, 3, 4])]
    values += [("b", c, 2009, v) for c, v in zip(["0001", "0002", "0003"], [9, 8, 7])]
    tiny_warehouse(con, munis, [("a", True), ("b", False)], values)
    yield con
    con.close()


def test_run_index_writes_views_and_replaces_on_rerun(tiny_con):
    from pipelines.ranking.pipeline import run_index

    config = cfg({"A": (1, ["a"]), "B": (2, ["b"])})
    first = run_index(tiny_con, 2009, config)
    run_index(tiny_con, 2009, config)
    # not the shipped config and nothing made default: stored beside, not in the public view
    assert tiny_con.execute("SELECT count(*) FROM composite_index").fetchone()[0] == 0
    ci = tiny_con.execute("SELECT * FROM composite_index_all ORDER BY rank").df()
    assert len(ci) == 4                                          # replaced, not appended
    assert list(ci["municipality_code"]) == ["0004", "0003", "0002", "0001"]
    assert set(ci["config_hash"]) == {first.config_hash} and not ci["is_default"].any()
    assert dict(zip(ci["municipality_code"], ci["size_group"])) == {
        "0001": "small", "0002": "medium", "0003": "large", "0004": "small"}  # 0004: glesbygd
    usage = tiny_con.execute("SELECT kpi_id, used, reason FROM index_kpi_usage_all ORDER BY kpi_id").fetchall()
    assert [(k, u) for k, u, _ in usage] == [("a", True), ("b", False)]
    assert "0004" in usage[1][2]
    areas = tiny_con.execute("SELECT DISTINCT area, weight FROM area_scores_all").fetchall()
    assert areas == [("A", 1.0)]
    runs = tiny_con.execute("SELECT step, year, config_hash FROM pipeline_runs WHERE step = 'index'").fetchall()
    assert runs == [("index", 2009, first.config_hash)] * 2


def test_run_index_error_leaves_no_rows_for_a_year_without_values(tiny_con):
    from pipelines.ranking.pipeline import run_index

    with pytest.raises(IndexComputationError, match="no values"):
        run_index(tiny_con, 2010, cfg({"A": (1, ["a"])}))


def test_default_rows_are_flagged_and_survive_a_custom_run():
    from pipelines.ranking.pipeline import default_config_hash, run_index
    from ranking_fixtures import synthetic_warehouse

    con = duckdb.connect()
    synthetic_warehouse(con, n=40, years=[2009])
    run_index(con, 2009)                                    # shipped default config
    run_index(con, 2009, dataclasses.replace(load_config(), normalisation="rank"))
    rows = con.execute("SELECT config_hash, is_default, normalisation, is_demo, count(*) "
                       "FROM composite_index_all GROUP BY ALL ORDER BY is_default").fetchall()
    assert [(r[1], r[2], r[4]) for r in rows] == [(False, "rank", 40), (True, "zscore", 40)]
    assert rows[1][0] == default_config_hash() and rows[1][3] is True
    # the public view shows the default run only
    assert con.execute("SELECT DISTINCT config_hash FROM composite_index").fetchall() == [(default_config_hash(),)]
    left_out = con.execute("SELECT kpi_id FROM index_kpi_usage WHERE is_default AND NOT used "
                           "ORDER BY kpi_id").fetchall()
    assert left_out == [("DEMO_PERSKONT_HT",), ("DEMO_VANTETID_SB",)]


# --- the embedded default --------------------------------------------------------------------

def test_embedded_default_has_index_for_every_demo_year(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM municipalities").fetchone()[0]
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT year FROM kpi_values WHERE kpi_id LIKE 'DEMO_%' ORDER BY 1").fetchall()]
        per_year = con.execute("""SELECT year, count(*), min(rank), max(rank), count(DISTINCT rank)
                                  FROM composite_index WHERE is_default GROUP BY year ORDER BY year""").fetchall()
        assert [r[0] for r in per_year] == years and years
        assert all(r[1:] == (n, 1, n, n) for r in per_year)
        # the demo data leaves out the two gappy KPIs, like the study's väntetid/personalkontinuitet
        usage = con.execute("""SELECT year, kpi_id, used, reason FROM index_kpi_usage
                               WHERE is_default AND NOT used""").df()
        assert {"DEMO_VANTETID_SB", "DEMO_PERSKONT_HT"} <= set(usage["kpi_id"])
        assert usage["reason"].str.contains(f"av {n} kommuner").all()
    finally:
        con.close()
