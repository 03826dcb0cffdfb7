"""Cost deviation from standard cost (SKL 2010, *Öppna jämförelser analys – framgångsfaktorer
inom äldreomsorgen*, ch. 1 and Diagram 1).

Official where the warehouse holds Kolada N20016 (structure-adjusted standard cost, kr/inv) or
N20900 (deviation of reported cost from standard cost, %) for a municipality and year:
`method = 'official'`. Otherwise modelled per year over all municipalities with data:

    N20014 ~ share_65_79 + share_80_plus + np.log(population) + glesbygd

N20014 = net cost of elderly care, kr per inhabitant; share_65_79 = N01960 − N01813 and
share_80_plus = N01813 (percent of inhabitants); population from `municipality_years`;
glesbygd = 1 for SKL 2005 Glesbygdskommuner. Standard cost = fitted value,
deviation % = 100·(actual − fitted)/fitted, `method = 'modelled'`. The model is a stand-in
for the equalisation system's standard cost: it adjusts only for age structure, size and
sparsity, and says so ('modellerad') wherever it is shown.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

from pipelines.core import store_rows, transaction
from pipelines.runs import start_run

NET_COST = "N20014"
STANDARD_COST = "N20016"
DEVIATION = "N20900"
SHARE_65_PLUS = "N01960"
SHARE_80_PLUS = "N01813"
FORMULA = "N20014 ~ share_65_79 + share_80_plus + np.log(population) + glesbygd"
MIN_N = 20  # fewer municipalities than this: no model for the year (5 parameters)

DEFAULT_CONFIG = {
    "formula": FORMULA,
    "net_cost": NET_COST,
    "official": [STANDARD_COST, DEVIATION],
    "share_65_plus": SHARE_65_PLUS,
    "share_80_plus": SHARE_80_PLUS,
    "min_n": MIN_N,
    "ci": 0.95,
}


def load_inputs(con) -> pd.DataFrame:
    """One row per municipality and year with any of the cost KPIs (gender 'T'), wide."""
    kpi_ids = [NET_COST, STANDARD_COST, DEVIATION, SHARE_65_PLUS, SHARE_80_PLUS]
    long = con.execute(
        f"""SELECT kpi_id, municipality_code, year, value, source, is_demo FROM kpi_values
            WHERE gender = 'T' AND kpi_id IN ({','.join('?' * len(kpi_ids))})""",
        kpi_ids,
    ).df()
    if long.empty:
        return pd.DataFrame(columns=["municipality_code", "year", *kpi_ids, "population", "glesbygd",
                                     "is_demo", "official_source"])
    wide = long.pivot_table(index=["municipality_code", "year"], columns="kpi_id", values="value",
                            aggfunc="first").reset_index()
    wide.columns.name = None
    demo = long.groupby(["municipality_code", "year"])["is_demo"].max().rename("is_demo").reset_index()
    wide = wide.merge(demo, on=["municipality_code", "year"], how="left")
    for k in kpi_ids:
        if k not in wide.columns:
            wide[k] = np.nan
    # Source text of the official figure (for traceability) per municipality-year.
    off = long[long.kpi_id.isin([STANDARD_COST, DEVIATION])]
    if len(off):
        src = (off.sort_values("kpi_id").groupby(["municipality_code", "year"])["source"]
               .first().rename("official_source").reset_index())
        wide = wide.merge(src, on=["municipality_code", "year"], how="left")
    else:
        wide["official_source"] = None
    pop = con.execute("SELECT municipality_code, year, population FROM municipality_years").df()
    gles = con.execute(
        "SELECT municipality_code, CAST(coalesce(is_glesbygd, false) AS INTEGER) AS glesbygd FROM municipalities"
    ).df()
    wide = wide.merge(pop, on=["municipality_code", "year"], how="left")
    wide = wide.merge(gles, on="municipality_code", how="left")
    return wide


def official_rows(wide: pd.DataFrame) -> pd.DataFrame:
    """Rows where Kolada's own standard cost (N20016) or deviation (N20900) exists.
    N20016 wins: deviation = 100·(net − standard)/standard; with only N20900 the standard
    cost is backed out of the net cost: standard = net / (1 + deviation/100)."""
    has = wide[STANDARD_COST].notna() | wide[DEVIATION].notna()
    w = wide.loc[has].copy()
    net = w[NET_COST]
    std = w[STANDARD_COST]
    dev_from_std = 100.0 * (net - std) / std
    w["standard_cost"] = std.where(std.notna(), net / (1.0 + w[DEVIATION] / 100.0))
    w["deviation_pct"] = dev_from_std.where(std.notna() & net.notna(), w[DEVIATION])
    w["net_cost"] = net
    w["method"] = "official"
    kpi = pd.Series(np.where(std.notna(), STANDARD_COST, DEVIATION), index=w.index)
    detail = w["official_source"].map(lambda s: f" ({s})" if isinstance(s, str) and s else "")
    w["source"] = "Kolada " + kpi + detail
    w["is_demo"] = w["is_demo"].fillna(False).astype(bool)
    return w[["year", "municipality_code", "net_cost", "standard_cost", "deviation_pct", "method", "source",
              "is_demo"]]


def model_frame(wide: pd.DataFrame) -> pd.DataFrame:
    """Rows usable by the model: net cost > 0, both shares, population > 0, glesbygd known."""
    d = wide.copy()
    d["share_65_79"] = d[SHARE_65_PLUS] - d[SHARE_80_PLUS]
    d["share_80_plus"] = d[SHARE_80_PLUS]
    # A net cost of 0 kr/inv is Kolada's way of showing a missing figure (e.g. Emmaboda
    # 2007–2008), not a real cost: such rows are left out of the model and the deviation.
    ok = (d[NET_COST].notna() & (d[NET_COST] > 0) & d["share_65_79"].notna() & d["share_80_plus"].notna()
          & d["population"].notna() & (d["population"] > 0) & d["glesbygd"].notna())
    d = d.loc[ok, ["year", "municipality_code", NET_COST, "share_65_79", "share_80_plus",
                   "population", "glesbygd", "is_demo"]].copy()
    d["population"] = d["population"].astype(float)
    d["glesbygd"] = d["glesbygd"].astype(int)
    return d


def fit_year(d: pd.DataFrame, formula: str = FORMULA, alpha: float = 0.05):
    """Fit the cost model for one year. Returns (fitted values aligned to d, summary frame)."""
    res = smf.ols(formula, data=d).fit()
    ci = res.conf_int(alpha=alpha)
    summary = pd.DataFrame({
        "term": res.params.index.astype(str),
        "coef": res.params.to_numpy(),
        "std_err": res.bse.to_numpy(),
        "ci_low": ci.iloc[:, 0].to_numpy(),
        "ci_high": ci.iloc[:, 1].to_numpy(),
        "p_value": res.pvalues.to_numpy(),
    })
    summary["r_squared"] = float(res.rsquared)
    summary["adj_r_squared"] = float(res.rsquared_adj)
    summary["n"] = int(res.nobs)
    summary["formula"] = formula
    return res.fittedvalues.reindex(d.index), summary


def compute(wide: pd.DataFrame, formula: str = FORMULA, min_n: int = MIN_N,
            years: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cost_deviation rows, cost_model rows) from the wide input frame (pure)."""
    if years is not None:
        wide = wide[wide["year"].isin(years)]
    official = official_rows(wide)
    md = model_frame(wide)
    dev_parts, model_parts = [], []
    for year, d in md.groupby("year", sort=True):
        if len(d) < min_n:
            continue
        fitted, summary = fit_year(d, formula)
        summary.insert(0, "year", int(year))
        model_parts.append(summary)
        part = pd.DataFrame({
            "year": int(year),
            "municipality_code": d["municipality_code"].to_numpy(),
            "net_cost": d[NET_COST].to_numpy(),
            "standard_cost": fitted.to_numpy(),
        })
        part["deviation_pct"] = 100.0 * (part["net_cost"] - part["standard_cost"]) / part["standard_cost"]
        part["method"] = "modelled"
        part["is_demo"] = d["is_demo"].fillna(False).astype(bool).to_numpy()
        part["source"] = (f"modellerad: {formula}, n = {len(d)}; Kolada {NET_COST}, {SHARE_65_PLUS}, "
                          f"{SHARE_80_PLUS}, SCB/Kolada folkmängd, SKL kommungrupper 2005")
        dev_parts.append(part)
    modelled = pd.concat(dev_parts, ignore_index=True) if dev_parts else official.iloc[0:0]
    # Official figures win for the municipality-years that have them.
    if len(official):
        key = official.set_index(["year", "municipality_code"]).index
        modelled = modelled[~modelled.set_index(["year", "municipality_code"]).index.isin(key)]
    deviation = pd.concat([official, modelled], ignore_index=True)
    deviation["year"] = deviation["year"].astype(int)
    model = pd.concat(model_parts, ignore_index=True) if model_parts else pd.DataFrame(
        columns=["year", "term", "coef", "std_err", "ci_low", "ci_high", "p_value", "r_squared",
                 "adj_r_squared", "n", "formula"])
    return deviation.sort_values(["year", "municipality_code"]).reset_index(drop=True), model


def run_cost(con, config: dict | None = None, make_default: bool = False) -> str:
    """Compute and store cost_deviation and cost_model for all years; returns the run_id."""
    config = {**DEFAULT_CONFIG, **(config or {})}
    wide = load_inputs(con)
    deviation, model = compute(wide, formula=config["formula"], min_n=config["min_n"])
    with transaction(con):
        run = start_run(con, "cost", config, shipped=DEFAULT_CONFIG, make_default=make_default)
        store_rows(con, "cost_deviation", deviation, run)
        store_rows(con, "cost_model", model, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration."""
    return run_cost(con, config, make_default=make_default)
