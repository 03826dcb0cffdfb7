"""What would move the rank (pipelines/whatif.py): a hand-computed case, the what-if against a
full recompute of the index with the changed value (pipelines/ranking/index.compute_index), the
area contributions, and the marts of the embedded default."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.ranking.config import config_from_dict
from pipelines.ranking.index import compute_index
from pipelines.whatif import whatif_year

ONE_KPI = config_from_dict({"normalisation": "zscore", "areas": {"X": {"weight": 1.0, "kpis": ["A"]}}})


def _inputs(values: dict[str, float], groups: dict[str, str], kpi="A", hib=True):
    munis = pd.DataFrame({"municipality_code": list(groups), "size_group": list(groups.values())})
    vals = pd.DataFrame({"kpi_id": kpi, "municipality_code": list(values), "value": list(values.values())})
    meta = pd.DataFrame({"kpi_id": [kpi], "higher_is_better": [hib], "is_demo": [False]})
    return vals, munis, meta


def _row(w, code, scenario, kpi="A"):
    r = w[(w["municipality_code"] == code) & (w["scenario"] == scenario) & (w["kpi_id"] == kpi)]
    assert len(r) == 1
    return r.iloc[0]


def test_hand_computed_case():
    # One KPI, so the composite orders like the values. Small group 0001–0006: 1, 5, 6, 7, 8, 9;
    # large group 0007, 0008: 100, 0. Ranks now: 100, 9, 8, 7, 6, 5, 1, 0 -> 0001 is 7th overall,
    # 6th of 6 in its group.
    values = {"0001": 1, "0002": 5, "0003": 6, "0004": 7, "0005": 8, "0006": 9, "0007": 100, "0008": 0}
    groups = {c: ("small" if c <= "0006" else "large") for c in values}
    w, _ = whatif_year(*_inputs(values, groups), ONE_KPI)
    # group median of the small group = (6 + 7) / 2 = 6.5: order 100, 9, 8, 7, 6.5, 6, 5, 0
    r = _row(w, "0001", "group_median")
    assert (r["target_value"], r["rank"], r["new_rank"], r["group_rank"], r["new_group_rank"]) == (6.5, 7, 5, 6, 4)
    assert r["rank_gain"] == 2 and not r["reached"]
    # best quartile: 75th percentile of 1, 5, 6, 7, 8, 9 = 7 + 0.75 · (8 − 7) = 7.75 -> 4th overall, 3rd in group
    r = _row(w, "0001", "group_top_quartile")
    assert (r["target_value"], r["new_rank"], r["new_group_rank"]) == (7.75, 4, 3)
    # large group median (100 + 0) / 2 = 50: 0008 would be 2nd overall, still 2nd of 2 in its group
    r = _row(w, "0008", "group_median")
    assert (r["target_value"], r["rank"], r["new_rank"], r["group_rank"], r["new_group_rank"]) == (50, 8, 2, 2, 2)
    # already at or above the level: unchanged
    r = _row(w, "0006", "group_median")
    assert r["reached"] and r["new_rank"] == r["rank"] == 2 and r["rank_gain"] == 0


def test_lower_is_better_raises_in_the_good_direction():
    # sick leave, lower is better: 10, 8, 6, 4 (all one group): median 7; 0001 reaching it goes
    # from 4th (worst) to 3rd: order 4, 6, 7, 8
    values = {"0001": 10, "0002": 8, "0003": 6, "0004": 4}
    w, _ = whatif_year(*_inputs(values, {c: "small" for c in values}, hib=False), ONE_KPI)
    r = _row(w, "0001", "group_median")
    assert (r["value"], r["target_value"], r["rank"], r["new_rank"]) == (10, 7, 4, 3)


def test_what_if_equals_a_full_recompute_of_the_index():
    """Random data, two areas with weights 2 and 1, three KPIs, three size groups: for every
    municipality, KPI and scenario the what-if's new rank and group rank are those of
    compute_index run on the data with that one value changed."""
    rng = np.random.default_rng(11)
    codes = [f"{i:04d}" for i in range(1, 31)]
    groups = {c: ("small", "medium", "large")[i % 3] for i, c in enumerate(codes)}
    config = config_from_dict({"normalisation": "zscore", "areas": {
        "U": {"weight": 2.0, "kpis": ["A", "B"]}, "P": {"weight": 1.0, "kpis": ["C"]}}})
    hib = {"A": True, "B": False, "C": True}
    vals = pd.DataFrame([{"kpi_id": k, "municipality_code": c, "value": float(np.round(rng.normal(50, 10), 1))}
                         for k in hib for c in codes])
    munis = pd.DataFrame({"municipality_code": codes, "size_group": [groups[c] for c in codes]})
    meta = pd.DataFrame({"kpi_id": list(hib), "higher_is_better": list(hib.values()), "is_demo": False})
    w, _ = whatif_year(vals, munis, meta, config)
    assert len(w) == 30 * 3 * 2
    checked = 0
    for r in w[~w["reached"]].itertuples():
        changed = vals.copy()
        mask = (changed["kpi_id"] == r.kpi_id) & (changed["municipality_code"] == r.municipality_code)
        changed.loc[mask, "value"] = r.target_value
        again = compute_index(changed, munis, meta, config).composite.set_index("municipality_code")
        assert r.new_rank == again.loc[r.municipality_code, "rank"], r
        assert r.new_group_rank == again.loc[r.municipality_code, "group_rank"], r
        assert r.new_composite == pytest.approx(again.loc[r.municipality_code, "composite"], abs=1e-9)
        checked += 1
    assert checked > 60


def test_contributions_add_up_to_the_composite():
    # one area: contribution = z − the group's median z; baseline = the group's median z
    values = {"0001": 1, "0002": 2, "0003": 3, "0004": 10}
    _, c = whatif_year(*_inputs(values, {k: "small" for k in values}), ONE_KPI)
    # z of 1, 2, 3, 10 (mean 4, sd sqrt(12.5)); median z = z of 2.5 = −1.5 / sqrt(12.5)
    sd = np.sqrt(12.5)
    r = c[c["municipality_code"] == "0004"].iloc[0]
    assert r["score"] == pytest.approx(6 / sd)
    assert r["group_median_score"] == pytest.approx(-1.5 / sd)
    assert r["contribution"] == pytest.approx(7.5 / sd)
    assert r["baseline"] + r["contribution"] == pytest.approx(r["composite"])


def test_embedded_default_marts(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        w = con.execute("SELECT * FROM index_whatif").df()
        c = con.execute("SELECT year, municipality_code, sum(contribution) s, any_value(baseline) b, "
                        "any_value(composite) comp FROM index_contributions GROUP BY 1, 2").df()
        years = [r[0] for r in con.execute("SELECT DISTINCT year FROM composite_index WHERE is_default").fetchall()]
        used = con.execute("SELECT year, count(*) FROM index_kpi_usage WHERE used AND is_default GROUP BY 1").fetchall()
        stored = con.execute("SELECT year, municipality_code, rank, group_rank FROM composite_index "
                             "WHERE is_default").df()
    finally:
        con.close()
    assert sorted(w["year"].unique()) == sorted(years)
    for year, n_used in used:
        part = w[w["year"] == year]
        assert part["kpi_id"].nunique() == n_used
        assert len(part) == 290 * n_used * 2
    # the current rank in the mart is the stored index rank
    m = w.merge(stored, on=["year", "municipality_code"], suffixes=("", "_stored"))
    assert (m["rank"] == m["rank_stored"]).all() and (m["group_rank"] == m["group_rank_stored"]).all()
    reached = w[w["reached"]]
    assert (reached["new_rank"] == reached["rank"]).all()     # already at the level: nothing moves
    assert np.allclose(c["s"] + c["b"], c["comp"])


def test_scorecard_whatif_lists_the_stated_top_changes(built_db):
    """dashboard.data.whatif_data (read once per process for every municipality and year) gives,
    for each municipality and index year, the area contributions by share and the WHATIF_TOP KPIs
    whose change moves the rank most: per KPI its best scenario (the median on a tie), only
    changes that improve the rank, the larger gain first. Checked against the marts with pandas."""
    from dashboard.data import WHATIF_TOP, Warehouse, whatif_data

    con = duckdb.connect(str(built_db), read_only=True)
    try:
        w = con.execute("SELECT * FROM index_whatif").df()
        c = con.execute("SELECT * FROM index_contributions").df()
    finally:
        con.close()
    db = Warehouse(built_db)
    try:
        checked = 0
        for (code, year), part in list(c.groupby(["municipality_code", "year"]))[::37]:
            got = whatif_data(db, code, int(year))
            assert got["year"] == int(year)
            assert [r["area"] for r in got["contributions"]] == \
                part.sort_values(["weight_share", "area"], ascending=[False, True])["area"].tolist()
            mine = w[(w["municipality_code"] == code) & (w["year"] == year) & (w["rank_gain"] > 0)].copy()
            mine["median"] = mine["scenario"] == "group_median"
            best = (mine.sort_values(["kpi_id", "rank_gain", "median"], ascending=[True, False, False])
                    .drop_duplicates("kpi_id"))
            want = best.sort_values(["rank_gain", "median", "kpi_id"], ascending=[False, False, True]).head(WHATIF_TOP)
            assert [(r["kpi_id"], r["scenario"], r["rank_gain"]) for r in got["top"]] == \
                list(zip(want["kpi_id"], want["scenario"], want["rank_gain"]))
            checked += bool(got["top"])
        assert checked > 0
        assert whatif_data(db, "0180", 1900) is None and whatif_data(db, "0180", None) is None
    finally:
        db.close()
