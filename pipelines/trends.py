"""Trends: per KPI (gender 'T') and municipality, the OLS slope over the KPI's last N years
with a 95 % confidence interval, and a verdict that uses the KPI's direction.

Window: the last N calendar years of the KPI's own data (latest year with any value minus
N−1 up to it), the same window for every municipality so trends are comparable; a
municipality needs at least MIN_POINTS values in the window. Closed-form OLS per group,
vectorised over all groups (no model object per series):

    slope = Sxy / Sxx,  s² = (Syy − slope·Sxy) / (n − 2),  se = √(s² / Sxx),
    CI = slope ± t(0.975, n − 2) · se

Verdict, stored as a code (the text catalogue translates it): CI entirely on the good side of 0
by the KPI's direction → "improving", entirely on the bad side → "worsening", CI covering 0 →
"no_change"; a KPI without direction (higher_is_better NULL) → "no_direction".

Change, also a code, for every KPI with or without direction (so a cost can be described in plain
words, "ökar med 78 kr/inv per år"): CI above 0 → "rising", below 0 → "falling", covering 0 → "flat".

Series breaks (the public view kpi_series_breaks, warehouse/kpi_series_breaks.csv): break_year is
the latest known definition change inside the trend's years (first_year < year ≤ last_year), NULL
when none; the trend is still fitted over the whole window, and the page says it straddles a break.

Mart contract (pipelines/core.py): `styrkort trends --years 3` stores its own rows beside the
default run's; the public view `trends` (and so /kommun and /trender) keeps showing the default.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from pipelines.core import relation_exists, store_rows, transaction
from pipelines.effective import ensure_effective
from pipelines.runs import start_run

DEFAULT_YEARS = 5
MIN_POINTS = 3
IMPROVING, WORSENING, UNCLEAR, NO_DIRECTION = "improving", "worsening", "no_change", "no_direction"
VERDICTS = (IMPROVING, WORSENING, UNCLEAR, NO_DIRECTION)
RISING, FALLING, FLAT = "rising", "falling", "flat"
CHANGES = (RISING, FALLING, FLAT)


def load_inputs(con) -> pd.DataFrame:
    """Effective values (pipelines/effective.py): a demo indicator's years replaced by its real
    twin are not part of its trend."""
    ensure_effective(con)
    return con.execute("""
        SELECT v.kpi_id, v.municipality_code, v.year, v.value, v.is_demo, k.higher_is_better
        FROM effective_kpi_values v JOIN kpis k USING (kpi_id)
        WHERE v.gender = 'T' AND v.value IS NOT NULL""").df()


def load_breaks(con) -> pd.DataFrame:
    """kpi_id, year of the known definition changes (empty in a warehouse built before them)."""
    if not relation_exists(con, "kpi_series_breaks"):
        return pd.DataFrame({"kpi_id": pd.Series(dtype=str), "year": pd.Series(dtype="int64")})
    return con.execute("SELECT kpi_id, year FROM kpi_series_breaks").df()


def window(values: pd.DataFrame, years: int = DEFAULT_YEARS) -> pd.DataFrame:
    """Keep each KPI's last `years` calendar years (pure)."""
    last = values.groupby("kpi_id")["year"].transform("max")
    return values[values["year"] > last - years]


def ols_slopes(values: pd.DataFrame, min_points: int = MIN_POINTS, level: float = 0.95) -> pd.DataFrame:
    """Closed-form OLS of value on year per (kpi_id, municipality_code) (pure, vectorised)."""
    keys = ["kpi_id", "municipality_code"]
    v = values[keys + ["year", "value"]].copy()
    v["year"] = v["year"].astype(float)
    g = v.groupby(keys, sort=False)
    v["n"] = g["year"].transform("size")
    v = v[v["n"] >= min_points]
    g = v.groupby(keys, sort=True)
    dx = v["year"] - g["year"].transform("mean")
    dy = v["value"] - g["value"].transform("mean")
    v = v.assign(sxx=dx * dx, sxy=dx * dy, syy=dy * dy)
    agg = v.groupby(keys, sort=True).agg(
        first_year=("year", "min"), last_year=("year", "max"), n_years=("year", "size"),
        sxx=("sxx", "sum"), sxy=("sxy", "sum"), syy=("syy", "sum")).reset_index()
    slope = agg["sxy"] / agg["sxx"]
    dof = agg["n_years"] - 2
    sse = (agg["syy"] - slope * agg["sxy"]).clip(lower=0.0)
    se = np.sqrt(sse / dof / agg["sxx"])
    tcrit = stats.t.ppf(0.5 + level / 2, dof)
    agg["slope"] = slope
    agg["ci_low"] = slope - tcrit * se
    agg["ci_high"] = slope + tcrit * se
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(se > 0, slope / se, np.where(slope == 0, 0.0, np.inf))
    agg["p_value"] = 2 * stats.t.sf(np.abs(tstat), dof)
    agg["first_year"] = agg["first_year"].astype(int)
    agg["last_year"] = agg["last_year"].astype(int)
    return agg.drop(columns=["sxx", "sxy", "syy"])


def verdicts(ci_low: pd.Series, ci_high: pd.Series, higher_is_better: pd.Series) -> pd.Series:
    """Verdict per row from the CI and the KPI's direction (pure)."""
    up, down = ci_low > 0, ci_high < 0
    hib = higher_is_better.astype("boolean")
    out = np.full(len(ci_low), UNCLEAR, dtype=object)
    good = (hib.fillna(False).to_numpy() & up.to_numpy()) | ((~hib).fillna(False).to_numpy() & down.to_numpy())
    bad = (hib.fillna(False).to_numpy() & down.to_numpy()) | ((~hib).fillna(False).to_numpy() & up.to_numpy())
    out[good] = IMPROVING
    out[bad] = WORSENING
    out[hib.isna().to_numpy()] = NO_DIRECTION
    return pd.Series(out, index=ci_low.index)


def changes(ci_low: pd.Series, ci_high: pd.Series) -> pd.Series:
    """rising / falling / flat from the CI alone, whatever the KPI's direction (pure)."""
    out = np.full(len(ci_low), FLAT, dtype=object)
    out[(ci_low > 0).to_numpy()] = RISING
    out[(ci_high < 0).to_numpy()] = FALLING
    return pd.Series(out, index=ci_low.index)


def break_years(trends: pd.DataFrame, breaks: pd.DataFrame | None) -> pd.Series:
    """Per trend row the latest break year b with first_year < b <= last_year, else NA (pure)."""
    out = pd.Series(pd.NA, index=trends.index, dtype="Int64")
    if breaks is None or breaks.empty or trends.empty:
        return out
    m = trends[["kpi_id", "first_year", "last_year"]].reset_index().merge(breaks[["kpi_id", "year"]], on="kpi_id")
    m = m[(m["year"] > m["first_year"]) & (m["year"] <= m["last_year"])]
    latest = m.groupby("index")["year"].max()
    out.loc[latest.index] = latest.astype("int64")
    return out


def compute(values: pd.DataFrame, years: int = DEFAULT_YEARS, min_points: int = MIN_POINTS,
            breaks: pd.DataFrame | None = None) -> pd.DataFrame:
    w = window(values, years)
    res = ols_slopes(w, min_points)
    meta = (w.groupby(["kpi_id", "municipality_code"])
            .agg(is_demo=("is_demo", "max"), higher_is_better=("higher_is_better", "first"))
            .reset_index())
    res = res.merge(meta, on=["kpi_id", "municipality_code"], how="left")
    res["verdict"] = verdicts(res["ci_low"], res["ci_high"], res["higher_is_better"])
    res["change"] = changes(res["ci_low"], res["ci_high"])
    res["break_year"] = break_years(res, breaks)
    res["window_years"] = years
    return res


def trends_config(years: int = DEFAULT_YEARS, min_points: int = MIN_POINTS) -> dict:
    return {"window_years": years, "min_points": min_points, "ci": 0.95, "gender": "T",
            "window": "last N calendar years of each KPI"}


SHIPPED_CONFIG = trends_config()


def run_trends(con, years: int = DEFAULT_YEARS, min_points: int = MIN_POINTS,
               make_default: bool = False) -> str:
    """Compute and store a trends run; returns its run_id."""
    if years < min_points:
        raise ValueError(f"--years must be at least {min_points} (a trend needs {min_points} points)")
    result = compute(load_inputs(con), years, min_points, load_breaks(con))
    with transaction(con):
        run = start_run(con, "trends", trends_config(years, min_points), shipped=SHIPPED_CONFIG,
                        make_default=make_default)
        store_rows(con, "trends", result, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration."""
    return run_trends(con, years=int(config["window_years"]), min_points=int(config["min_points"]),
                      make_default=make_default)
