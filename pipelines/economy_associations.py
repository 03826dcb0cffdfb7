"""Does quality relate to cost or structure? (SKL 2010, *Öppna jämförelser analys –
framgångsfaktorer inom äldreomsorgen*, ch. 1: "inget samband").

Per year, on the composite index (`composite_index`) of that year:

| test                      | statistic | estimate            | CI                          |
|---------------------------|-----------|---------------------|-----------------------------|
| pearson_cost_deviation    | r         | Pearson r           | 95 % (Fisher z, scipy)      |
| spearman_cost_deviation   | rho       | Spearman rho        | – (NULL)                    |
| ols_cost_deviation        | slope     | composite per deviation-%-point (statsmodels OLS) | 95 % t |
| ols_line_cost_deviation   | slope     | deviation-%-points per composite unit, with `intercept`: the line /kostnad draws through its scatter (composite x, deviation y) | 95 % t |
| anova_size_group          | F         | F of composite ~ C(size_group) (statsmodels anova_lm) | –  |
| anova_skl_group           | F         | F of composite ~ C(skl_group_2005)  | –                     |
| pearson_share_80_plus     | r         | Pearson r of composite vs Kolada N01813 | 95 % (Fisher z)    |

A test is computed for every year where its inputs exist (cost tests: years with both the
index and cost deviation; the others: every index year with the input), with at least
MIN_N municipalities. `note` carries degrees of freedom and what was compared.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

from pipelines.core import relation_exists, store_rows, transaction
from pipelines.runs import start_run

MIN_N = 5
TESTS = ("pearson_cost_deviation", "spearman_cost_deviation", "ols_cost_deviation",
         "ols_line_cost_deviation", "anova_size_group", "anova_skl_group", "pearson_share_80_plus")

SHIPPED_CONFIG = {"tests": list(TESTS), "min_n": MIN_N, "ci": 0.95, "index": "default"}


def load_inputs(con, index_config_hash: str | None = None) -> pd.DataFrame:
    """Composite per municipality-year with cost deviation (the default cost run), size group,
    SKL group and share 80+. The index is the default one (public view composite_index), or
    the stored run of `index_config_hash` (view composite_index_all). Empty when no composite
    index has been built."""
    cols = ["year", "municipality_code", "composite", "size_group", "skl_group_2005", "deviation_pct",
            "share_80_plus", "index_config_hash", "is_demo"]
    index_view = "composite_index" if index_config_hash is None else "composite_index_all"
    if not relation_exists(con, index_view):
        return pd.DataFrame(columns=cols)
    cost = ("LEFT JOIN cost_deviation c ON c.year = ci.year AND c.municipality_code = ci.municipality_code"
            if relation_exists(con, "cost_deviation") else
            "LEFT JOIN (SELECT NULL::INTEGER AS year, NULL::VARCHAR AS municipality_code, "
            "NULL::DOUBLE AS deviation_pct) c ON false")
    where = "ci.composite IS NOT NULL" + ("" if index_config_hash is None else " AND ci.config_hash = $h")
    return con.execute(f"""
        SELECT ci.year, ci.municipality_code, ci.composite,
               coalesce(ci.size_group, my.size_group) AS size_group,
               m.skl_group_2005, c.deviation_pct, s.value AS share_80_plus,
               ci.config_hash AS index_config_hash, ci.is_demo
        FROM {index_view} ci
        LEFT JOIN municipality_years my ON my.municipality_code = ci.municipality_code AND my.year = ci.year
        LEFT JOIN municipalities m ON m.municipality_code = ci.municipality_code
        {cost}
        LEFT JOIN kpi_values s ON s.kpi_id = 'N01813' AND s.gender = 'T'
             AND s.municipality_code = ci.municipality_code AND s.year = ci.year
        WHERE {where}
        ORDER BY ci.year, ci.municipality_code""", {} if index_config_hash is None else {"h": index_config_hash}).df()


def _row(test, statistic, estimate, ci_low, ci_high, p_value, n, note, intercept=None):
    f = (lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v))
    return {"test": test, "statistic": statistic, "estimate": f(estimate), "ci_low": f(ci_low),
            "ci_high": f(ci_high), "p_value": f(p_value), "n": int(n), "note": note,
            "intercept": f(intercept)}


def pearson(x: np.ndarray, y: np.ndarray, test: str, what: str) -> dict:
    res = stats.pearsonr(x, y)
    ci = res.confidence_interval(confidence_level=0.95)
    return _row(test, "r", res.statistic, ci.low, ci.high, res.pvalue, len(x),
                f"Pearson r, {what}; 95 % KI via Fisher z")


def spearman(x: np.ndarray, y: np.ndarray, test: str, what: str) -> dict:
    res = stats.spearmanr(x, y)
    return _row(test, "rho", res.statistic, None, None, res.pvalue, len(x), f"Spearman rho, {what}")


def ols_slope(d: pd.DataFrame, y: str, x: str, test: str, what: str) -> dict:
    res = smf.ols(f"{y} ~ {x}", data=d).fit()
    lo, hi = res.conf_int(alpha=0.05).loc[x]
    return _row(test, "slope", res.params[x], lo, hi, res.pvalues[x], int(res.nobs),
                f"OLS {y} ~ {x} ({what}); R² = {res.rsquared:.3f}; 95 % KI (t, df = {int(res.df_resid)})",
                intercept=res.params["Intercept"])


def anova(d: pd.DataFrame, group: str, test: str) -> dict | None:
    d = d.dropna(subset=[group, "composite"])
    if d[group].nunique() < 2 or len(d) < MIN_N:
        return None
    table = anova_lm(smf.ols(f"composite ~ C({group})", data=d).fit())
    f_value = table.loc[f"C({group})", "F"]
    p_value = table.loc[f"C({group})", "PR(>F)"]
    df1, df2 = int(table.loc[f"C({group})", "df"]), int(table.loc["Residual", "df"])
    means = d.groupby(group)["composite"].mean().round(3).to_dict()
    return _row(test, "F", f_value, None, None, p_value, len(d),
                f"enkel ANOVA composite ~ C({group}), df = ({df1}, {df2}); medel per grupp {means}")


def compute_year(d: pd.DataFrame) -> list[dict]:
    """All tests for one year's frame (pure)."""
    rows: list[dict] = []
    c = d.dropna(subset=["composite", "deviation_pct"])
    if len(c) >= MIN_N:
        x, y = c["deviation_pct"].to_numpy(float), c["composite"].to_numpy(float)
        what = "sammanvägt index mot kostnadsavvikelse (%)"
        rows.append(pearson(x, y, "pearson_cost_deviation", what))
        rows.append(spearman(x, y, "spearman_cost_deviation", what))
        rows.append(ols_slope(c, "composite", "deviation_pct", "ols_cost_deviation", what))
        # the scatter on /kostnad draws deviation (y) against the composite (x): its line
        rows.append(ols_slope(c, "deviation_pct", "composite", "ols_line_cost_deviation",
                              "kostnadsavvikelse (%) mot sammanvägt index"))
    for group, test in (("size_group", "anova_size_group"), ("skl_group_2005", "anova_skl_group")):
        r = anova(d, group, test)
        if r:
            rows.append(r)
    s = d.dropna(subset=["composite", "share_80_plus"])
    if len(s) >= MIN_N:
        rows.append(pearson(s["share_80_plus"].to_numpy(float), s["composite"].to_numpy(float),
                            "pearson_share_80_plus", "sammanvägt index mot andel 80+ (Kolada N01813)"))
    return rows


def compute(inputs: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for year, d in inputs.groupby("year", sort=True):
        rows = compute_year(d)
        for r in rows:
            r["year"] = int(year)
            r["index_config_hash"] = d["index_config_hash"].iloc[0]
            r["is_demo"] = bool(d["is_demo"].fillna(False).astype(bool).any()) if "is_demo" in d else False
        parts.extend(rows)
    cols = ["year", "test", "statistic", "estimate", "ci_low", "ci_high", "p_value", "n", "note",
            "intercept", "index_config_hash", "is_demo"]
    return pd.DataFrame(parts, columns=cols)


def run_associations(con, index_config_hash: str | None = None, make_default: bool = False) -> str:
    """Compute and store the associations on the default index (or the stored index run of
    `index_config_hash`); returns the run_id."""
    inputs = load_inputs(con, index_config_hash)
    result = compute(inputs)
    config = {**SHIPPED_CONFIG, "index": index_config_hash or "default"}
    with transaction(con):
        run = start_run(con, "associations", config, shipped=SHIPPED_CONFIG, make_default=make_default)
        store_rows(con, "quality_associations", result, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration."""
    index = config.get("index", "default")
    return run_associations(con, None if index == "default" else index, make_default=make_default)
