"""Grant uptake: frames (fixed, 75+ share, 33/65), uptake rows, reconciliation with the report."""
from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.grants import frames, inhabitants_75_plus, run_grants


def _panel():
    # panel year t = 31 Dec t−1. A: 100 → 140 inhabitants 75+, B: 300 → 300, C: 0 → 60.
    rows = [("A", 2010, 1000, 0.10), ("A", 2014, 1000, 0.14),
            ("B", 2010, 3000, 0.10), ("B", 2014, 2000, 0.15),
            ("C", 2010, 500, 0.0), ("C", 2014, 600, 0.10)]
    return pd.DataFrame(rows, columns=["municipality_code", "panel_year", "population", "share_75_plus"])


def test_inhabitants_75_plus_interpolated_between_panel_years():
    p = _panel()
    # 31 Dec 2011 is panel year 2012: halfway between panel years 2010 and 2014.
    n = inhabitants_75_plus(p, 2011)
    assert n.to_dict() == pytest.approx({"A": 120.0, "B": 300.0, "C": 30.0})
    # 31 Dec 2009 is panel year 2010 exactly; 31 Dec 2020 is beyond the panel: nearest (2014).
    assert inhabitants_75_plus(p, 2009).to_dict() == pytest.approx({"A": 100.0, "B": 300.0, "C": 0.0})
    assert inhabitants_75_plus(p, 2020).to_dict() == pytest.approx({"A": 140.0, "B": 300.0, "C": 60.0})


def test_frames_three_municipality_toy():
    p = _panel()
    rounds = pd.DataFrame({"round": ["2011:1", "2013:1", "2013:2"], "pot": [1, 1, 2],
                           "announced_sek": [300_000, 65_000, 33_000]})
    n75 = {y: inhabitants_75_plus(p, y) for y in (2009, 2010, 2011)}
    f = frames(rounds, n75, ["A", "B", "C"], lag=2).set_index(["round", "municipality_code"])["frame_sek"]
    # 2011:1: fixed 100 000 kr each, whatever the announced sum
    assert [f[("2011:1", c)] for c in "ABC"] == [100_000, 100_000, 100_000]
    # 2013 uses 31 Dec 2011: 120, 300, 30 of 450 -> 65 000 · (4/15, 2/3, 1/15)
    assert [f[("2013:1", c)] for c in "ABC"] == [17_333, 43_333, 4_333]
    assert [f[("2013:2", c)] for c in "ABC"] == [8_800, 22_000, 2_200]
    # pot 2 = 33/65 of pot 1 (up to rounding to whole kronor)
    for c in "ABC":
        assert f[("2013:2", c)] == pytest.approx(f[("2013:1", c)] * 33 / 65, abs=1)


@pytest.fixture
def toy_db(tmp_path):
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "g.duckdb"))
    apply_schema(con)
    for code, pop in (("A", 10000), ("B", 30000), ("C", 5000)):
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', NULL)", [code, f"Kommun {code}"])
        con.execute("INSERT INTO population VALUES (?, 2013, ?, 'toy')", [code, pop])
    con.execute("INSERT INTO scb_panel (municipality_code, panel_year, population, share_75_plus) "
                "SELECT * FROM (VALUES ('A', 2010, 1000, 0.10), ('A', 2014, 1000, 0.14), "
                "('B', 2010, 3000, 0.10), ('B', 2014, 2000, 0.15), ('C', 2010, 500, 0.0), ('C', 2014, 600, 0.10))")
    for rnd, pot, ann, paid in (("2011:2", 1, 45_000, 30_000), ("2013:1", 1, 65_000, 17_000),
                                ("2013:2", 2, 33_000, 0)):
        con.execute("INSERT INTO grant_round (round, pot, announced_sek, paid_sek, municipalities_granted, source) "
                    "VALUES (?, ?, ?, ?, ?, 'toy')", [rnd, pot, ann, paid, 1 if paid else 0])
    # A granted pot 1 in full (printed total off by 1 kr), B rejected in pot 1 and pot 2, C never applied.
    con.execute("INSERT INTO grant_award VALUES ('A', '2013:1', 1, true, 17300, 17300, NULL, 'Bilaga 1')")
    con.execute("INSERT INTO grant_award VALUES ('B', '2013:1', 1, true, 0, 0, NULL, 'Bilaga 1')")
    con.execute("INSERT INTO grant_award VALUES ('B', '2013:2', 2, true, 0, 0, NULL, 'Bilaga 1')")
    con.execute("INSERT INTO grant_award_printed_total VALUES ('A', 2013, 17301, 'Bilaga 1'), ('B', 2013, 0, 'Bilaga 1')")
    con.execute("INSERT INTO grant_fact VALUES ('municipalities_applied_2013', 2, 'toy'), "
                "('municipalities_applied_both_pots_2013', 1, 'toy'), ('printed_sum_pot1_2013_sek', 17302, 'toy')")
    con.execute("INSERT INTO stimulus_grant_return VALUES ('A', 'stimulans', '2012-2013', 1000, 600, 400, "
                "DATE '2014-02-14', '001')")
    run_grants(con)
    yield con
    con.close()


def test_uptake_rows(toy_db):
    df = toy_db.execute("SELECT * FROM grant_uptake ORDER BY round, pot, municipality_code").df()
    assert df.groupby(["round", "pot"]).size().to_dict() == {("2011:2", 1): 3, ("2013:1", 1): 3, ("2013:2", 2): 3}
    r = df.set_index(["round", "municipality_code"])
    # 2011:2: only the round total exists -> frame, but no invented outcome
    assert (r.loc["2011:2", "data_level"] == "round_total_only").all()
    assert r.loc["2011:2", ["applied", "granted_sek", "uptake_share"]].isna().all().all()
    # frames at 31 Dec 2009 (2011 − 2): 100, 300, 0 of 400
    assert r.loc[("2011:2", "A"), "frame_sek"] == 11_250 and r.loc[("2011:2", "C"), "frame_sek"] == 0
    a = r.loc[("2013:1", "A")]
    assert (bool(a["applied"]), a["granted_sek"], a["paid_sek"], a["data_level"]) == (True, 17300, 17300, "municipality")
    assert a["uptake_share"] == pytest.approx(17300 / 17333)
    c = r.loc[("2013:2", "C")]
    assert (bool(c["applied"]), c["granted_sek"], c["uptake_share"]) == (False, 0, 0.0)
    assert bool(r.loc[("2013:2", "B"), "applied"]) is True and r.loc[("2013:2", "B"), "granted_sek"] == 0


def test_reconciliation_on_toy(toy_db):
    rec = {r[0]: r[1:] for r in toy_db.execute(
        'SELECT "check", expected, actual, difference FROM grant_reconciliation').fetchall()}
    assert rec["municipalities_applied_2013"] == (2, 2, 0)
    assert rec["municipalities_applied_both_pots_2013"] == (1, 1, 0)
    assert rec["municipalities_not_applied_2013"][1] == 1
    assert rec["printed_sum_pot1_2013_sek_vs_row_sum"] == (17302, 17300, -2)
    assert rec["row_total_gaps_2013_count"] == (0, 1, 1)
    assert rec["row_total_2013 A Kommun A"] == (17301, 17300, -1)
    assert rec["frame_vs_granted_2013:1_median_ratio"][1] == pytest.approx(17300 / 17333)
    assert rec["stimulus_return A 2012-2013"] == (400, 400, 0)
    assert rec["municipalities_never_applied_2011_2013"][1] is None      # not derivable
    na = toy_db.execute("SELECT municipality_code FROM grant_not_applied_2013").fetchall()
    assert na == [("C",)]
    stim = toy_db.execute("SELECT returned_sek, returned_share FROM stimulus_returns").fetchall()
    assert stim == [(400, 0.4)]


def test_real_warehouse_grants(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        u = con.execute("SELECT * FROM grant_uptake").df()
        rec = {r[0]: r[1:] for r in con.execute(
            'SELECT "check", expected, actual, difference FROM grant_reconciliation').fetchall()}
        size = con.execute("SELECT * FROM grant_uptake_by_size_group").df()
    finally:
        con.close()
    # 290 rows per round and pot, five rounds/pots (Tabell 2)
    assert u.groupby(["round", "pot"]).size().to_dict() == {
        ("2011:1", 1): 290, ("2011:2", 1): 290, ("2012", 1): 290, ("2013:1", 1): 290, ("2013:2", 2): 290}
    # The report's counts (seed 000, hand-copied here): 88 applicants, 31 both, 45 only pot 1,
    # 12 only pot 2, 202 not applied, 68 and 36 granted.
    for check, value in (("municipalities_applied_2013", 88), ("municipalities_applied_both_pots_2013", 31),
                         ("municipalities_applied_only_pot1_2013", 45), ("municipalities_applied_only_pot2_2013", 12),
                         ("municipalities_not_applied_2013", 202), ("municipalities_granted_2013:1", 68),
                         ("municipalities_granted_2013:2", 36)):
        assert rec[check][:2] == (value, value), check
    # Bilaga 1: printed sums 20 149 061 / 3 480 986 against row sums 20 149 059 / 3 480 987
    assert rec["printed_sum_pot1_2013_sek_vs_row_sum"] == (20149061, 20149059, -2)
    assert rec["printed_sum_pot2_2013_sek_vs_row_sum"] == (3480986, 3480987, 1)
    assert rec["row_total_gaps_2013_count"][1] == 3
    # Frames reproduce the 2013 awards within a few percent; pot 2 = 33/65 of pot 1
    full = u[(u["round"] == "2013:1") & (u["granted_sek"] > 0)]
    ratio = full["granted_sek"] / full["frame_sek"]
    assert len(full) == 68 and ratio.between(0.95, 1.05).all()
    assert rec["pot2_over_pot1_2013_median"][1] == pytest.approx(33 / 65, abs=1e-4)
    # Fixed 2011:1 frames: 290 × 100 000 = the announced 29 mnkr
    assert (u.loc[u["round"] == "2011:1", "frame_sek"] == 100_000).all()
    assert set(u.loc[u["round"].isin(["2011:1", "2011:2", "2012"]), "data_level"]) == {"round_total_only"}
    assert u.loc[u["round"] == "2013:1", "granted_sek"].sum() == 20149059
    # Stockholm's pot-1 grant 4 644 248 kr
    sthlm = u[(u["municipality_code"] == "0180") & (u["round"] == "2013:1")].iloc[0]
    assert sthlm["granted_sek"] == 4644248 and bool(sthlm["applied"])
    assert size.loc[size["round"] == "2013:1", "municipalities"].sum() == 290
    assert size.loc[size["round"] == "2013:1", "applied"].sum() == 76


def test_real_stimulus_return_is_kept_apart(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        s = con.execute("SELECT * FROM stimulus_returns").df()
        returned = con.execute("SELECT sum(returned_sek) FROM grant_uptake").fetchall()[0][0]
    finally:
        con.close()
    assert s["returned_sek"].tolist() == [3569733] and s["municipality_code"].tolist() == ["0180"]
    assert returned == 0


def test_cli_grants_json(built_db):
    from typer.testing import CliRunner

    from styrkort.cli import app

    res = CliRunner().invoke(app, ["grants", "--json", "--municipality", "0180", "--db", str(built_db)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert len(doc["uptake"]) == 5 and len(doc["not_applied_2013"]) == 202
    assert np.isclose(doc["stimulus_returns"][0]["returned_sek"], 3569733)
