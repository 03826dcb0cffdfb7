"""Cost deviation from standard cost: official (Kolada N20016/N20900) vs modelled (OLS)."""
from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from pipelines.cost import run_cost
from warehouse.value_source import insert_kpi_values


def _toy(tmp_path, n=30, year=2010, seed=3, noise=True):
    """A warehouse with n municipalities whose net cost follows a known structure."""
    from warehouse.db import apply_schema

    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    apply_schema(con)
    rng = np.random.default_rng(seed)
    truth = []
    for i in range(n):
        code = f"{i + 1:04d}"
        gles = i % 5 == 0
        con.execute("INSERT INTO municipality VALUES (?, ?, '01', 'Län', ?)",
                    [code, f"M{code}", "Glesbygdskommuner" if gles else "Förortskommuner till storstäderna"])
        pop = int(rng.integers(3000, 200000))
        s80 = float(rng.uniform(3, 9))
        s65 = s80 + float(rng.uniform(10, 18))
        net = 2000 + 120 * (s65 - s80) + 1400 * s80 - 300 * np.log(pop) + 2500 * gles
        net += float(rng.normal(0, 400)) if noise else 0.0
        con.execute("INSERT INTO population VALUES (?, ?, ?, 'toy')", [code, year, pop])
        for kpi, val in (("N20014", net), ("N01960", s65), ("N01813", s80)):
            insert_kpi_values(con, [(kpi, code, year, "T", val, "toy", False)])
        truth.append((code, net, s65 - s80, s80, np.log(pop), float(gles)))
    return con, truth


def test_modelled_deviation_equals_an_independent_least_squares_fit(tmp_path):
    con, truth = _toy(tmp_path)
    run_cost(con)
    X = np.array([[1.0, t[2], t[3], t[4], t[5]] for t in truth])
    y = np.array([t[1] for t in truth])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)       # numpy, not statsmodels
    fitted = X @ beta
    got = con.execute("""SELECT municipality_code, net_cost, standard_cost, deviation_pct, method
                         FROM cost_deviation WHERE year = 2010 ORDER BY municipality_code""").fetchall()
    assert len(got) == 30 and {g[4] for g in got} == {"modelled"}
    for (code, net, std, dev, _), f, yy in zip(got, fitted, y):
        assert net == pytest.approx(yy)
        assert std == pytest.approx(f, rel=1e-9)
        assert dev == pytest.approx(100 * (yy - f) / f, rel=1e-7)
    model = {r[0]: r[1:] for r in con.execute(
        "SELECT term, coef, ci_low, ci_high, r_squared, n, formula FROM cost_model WHERE year = 2010").fetchall()}
    assert set(model) == {"Intercept", "share_65_79", "share_80_plus", "np.log(population)", "glesbygd"}
    assert model["share_80_plus"][0] == pytest.approx(beta[2], rel=1e-9)
    assert model["glesbygd"][0] == pytest.approx(beta[4], rel=1e-9)
    ss_res = float(((y - fitted) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    assert model["Intercept"][3] == pytest.approx(1 - ss_res / ss_tot)
    assert model["Intercept"][4] == 30
    assert model["glesbygd"][1] < model["glesbygd"][0] < model["glesbygd"][2]
    assert model["Intercept"][5] == "N20014 ~ share_65_79 + share_80_plus + np.log(population) + glesbygd"


def test_official_figures_win_where_they_exist(tmp_path):
    con, _ = _toy(tmp_path)
    # 0001: Kolada standard cost 10 000 and net cost set to 11 000 -> +10 %.
    con.execute("UPDATE kpi_value SET value = 11000 WHERE kpi_id = 'N20014' AND municipality_code = '0001'")
    insert_kpi_values(con, [("N20016", "0001", 2010, "T", 10000, "Kolada", False)])
    # 0002: only the deviation -5 % and net cost 9 500 -> standard cost 9 500 / 0.95 = 10 000.
    con.execute("UPDATE kpi_value SET value = 9500 WHERE kpi_id = 'N20014' AND municipality_code = '0002'")
    insert_kpi_values(con, [("N20900", "0002", 2010, "T", -5, "Kolada", False)])
    # 2009: no model data at all, one official deviation without net cost.
    insert_kpi_values(con, [("N20900", "0003", 2009, "T", 7.5, "Kolada", False)])
    run_cost(con)
    rows = {(r[0], r[1]): r[2:] for r in con.execute(
        """SELECT year, municipality_code, net_cost, standard_cost, deviation_pct, method
           FROM cost_deviation""").fetchall()}
    assert rows[(2010, "0001")] == (11000, 10000, pytest.approx(10.0), "official")
    net, std, dev, method = rows[(2010, "0002")]
    assert (net, method) == (9500, "official") and std == pytest.approx(10000) and dev == -5
    assert rows[(2009, "0003")] == (None, None, 7.5, "official")
    assert rows[(2010, "0004")][3] == "modelled"
    assert sum(1 for k in rows if k[0] == 2010) == 30        # one row per municipality
    assert con.execute("SELECT count(*) FROM cost_model WHERE year = 2009").fetchall()[0][0] == 0


def test_zero_net_cost_is_missing_not_a_cost(tmp_path):
    con, _ = _toy(tmp_path)
    con.execute("UPDATE kpi_value SET value = 0 WHERE kpi_id = 'N20014' AND municipality_code = '0007'")
    run_cost(con)
    assert con.execute("SELECT count(*) FROM cost_deviation WHERE municipality_code = '0007'").fetchall()[0][0] == 0
    assert con.execute("SELECT max(n) FROM cost_model").fetchall()[0][0] == 29


def test_too_few_municipalities_no_model(tmp_path):
    con, _ = _toy(tmp_path, n=8)
    run_cost(con)
    assert con.execute("SELECT count(*) FROM cost_deviation").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM cost_model").fetchall()[0][0] == 0


def test_real_warehouse_cost_model(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    try:
        m = con.execute("SELECT * FROM cost_model WHERE year = 2010").df()
        years = [r[0] for r in con.execute("SELECT DISTINCT year FROM cost_deviation ORDER BY 1").fetchall()]
        d = con.execute("SELECT * FROM cost_deviation WHERE year = 2010").df()
    finally:
        con.close()
    assert years == list(range(1998, 2012))                  # N20014 and the shares: 1998–2011
    assert len(m) == 5 and 285 <= int(m["n"].iloc[0]) <= 290
    assert 0 < float(m["r_squared"].iloc[0]) < 1
    assert set(d["method"]) == {"modelled"}                  # the embedded data has no N20016/N20900
    # OLS with an intercept: residuals (net − fitted) sum to zero over the fitted rows.
    assert abs((d["net_cost"] - d["standard_cost"]).sum()) < 1e-6 * d["net_cost"].sum()
    # Glesbygd municipalities cost more per inhabitant, all else equal.
    assert float(m.loc[m["term"] == "glesbygd", "ci_low"].iloc[0]) > 0


def test_cli_cost_json(built_db):
    from typer.testing import CliRunner

    from styrkort.cli import app

    res = CliRunner().invoke(app, ["cost", "--year", "2010", "--json", "--db", str(built_db)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["year"] == 2010 and doc["methods"] == {"modelled": len(doc["deviation"])}
    assert {r["term"] for r in doc["model"]} >= {"glesbygd", "share_80_plus"}
    res = CliRunner().invoke(app, ["cost", "--year", "1990", "--db", str(built_db)])
    assert res.exit_code == 1


def test_failed_rerun_leaves_the_previous_mart(tmp_path, monkeypatch):
    import pipelines.cost as cost
    from pipelines.core import store_rows

    con, _ = _toy(tmp_path)
    run_cost(con)
    before = con.execute("SELECT * FROM cost_deviation ORDER BY municipality_code").fetchall()
    runs = con.execute("SELECT count(*) FROM pipeline_runs").fetchall()[0][0]

    def broken(con_, name, df, run, **scope):
        store_rows(con_, name, df, run, **scope)
        if name == "cost_model":
            raise RuntimeError("disk full")

    monkeypatch.setattr(cost, "store_rows", broken)
    con.execute("UPDATE kpi_value SET value = value * 2 WHERE kpi_id = 'N20014'")
    with pytest.raises(RuntimeError):
        run_cost(con)
    assert con.execute("SELECT * FROM cost_deviation ORDER BY municipality_code").fetchall() == before
    assert con.execute("SELECT count(*) FROM pipeline_runs").fetchall()[0][0] == runs
