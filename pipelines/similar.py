"""Similar municipalities ("liknande kommuner"): for each municipality and year the K = 7
municipalities most alike in structure, a fairer reference than the size band (Kolada's users
compare with structure-matched peers).

Method (stated on /om and stored with every run in pipeline_runs.config_json):
  variables   ln(population) (municipality_years), share 65–79 = N01960 − N01813 and share 80+
              = N01813 (per cent of inhabitants, Kolada), glesbygd (SKL 2005
              Glesbygdskommun, 0/1) and the standard cost for elderly care (kr/inv, the
              `cost_deviation` mart: official where Kolada has it, otherwise modelled);
  per year    only municipalities with all five variables take part (a municipality without
              one has no set that year; pages then use the nearest year's set);
  standardise each variable to a z-score over those municipalities (population sd, ddof 0);
  distance    Euclidean over the five z-scores, equal weights;
  pick        the 7 nearest, never the municipality itself; ties on distance (rounded to 9
              decimals) go to the lower municipality code, so the result is deterministic.

Marts:
  similar_municipalities   year, municipality_code, similar_rank (1–7), similar_code, distance,
                           n_candidates (municipalities with all variables that year)
  similar_reference        per perspective KPI, municipality and year the unweighted mean of
                           the similar municipalities' values that year (similar_mean, similar_n)
                           and the structure year whose set was used (similar_year: the KPI's
                           year if it has a set, else the nearest year with one, the earlier on a
                           tie) — the scorecard's, /jamfor's and /trender's "liknande kommuner"
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.core import read_sql, store_query, store_rows, transaction
from pipelines.cost import SHARE_65_PLUS, SHARE_80_PLUS
from pipelines.effective import ensure_effective
from pipelines.runs import start_run

K = 7
VARIABLES = ("ln_population", "share_65_79", "share_80_plus", "glesbygd", "standard_cost")
DISTANCE_DECIMALS = 9

CONFIG = {
    "k": K,
    "variables": {
        "ln_population": "ln(population), municipality_years",
        "share_65_79": f"{SHARE_65_PLUS} − {SHARE_80_PLUS} (Kolada, % of inhabitants)",
        "share_80_plus": f"{SHARE_80_PLUS} (Kolada, % of inhabitants)",
        "glesbygd": "SKL 2005 Glesbygdskommun (0/1), municipalities.is_glesbygd",
        "standard_cost": "cost_deviation.standard_cost (kr/inv; official or modelled)",
    },
    "standardise": "z-score per year over municipalities with all variables (ddof 0)",
    "distance": "euclidean, equal weights",
    "ties": f"distance rounded to {DISTANCE_DECIMALS} decimals, then municipality code",
    "reference": "unweighted mean of the similar municipalities with a value; nearest structure year",
}


def load_structure(con) -> pd.DataFrame:
    """One row per municipality and year with the five variables (NaN where missing)."""
    shares = con.execute(
        """SELECT municipality_code, year,
                  max(value) FILTER (WHERE kpi_id = ?) AS share_65_plus,
                  max(value) FILTER (WHERE kpi_id = ?) AS share_80_plus
           FROM kpi_values WHERE gender = 'T' AND kpi_id IN (?, ?) GROUP BY ALL""",
        [SHARE_65_PLUS, SHARE_80_PLUS, SHARE_65_PLUS, SHARE_80_PLUS]).df()
    pop = con.execute("SELECT municipality_code, year, population FROM municipality_years").df()
    gles = con.execute("SELECT municipality_code, CAST(coalesce(is_glesbygd, false) AS INTEGER) "
                       "AS glesbygd FROM municipalities").df()
    cost = con.execute("SELECT municipality_code, year, standard_cost FROM cost_deviation "
                       "WHERE standard_cost IS NOT NULL").df()
    d = shares.merge(pop, on=["municipality_code", "year"], how="inner")
    d = d.merge(cost, on=["municipality_code", "year"], how="inner")
    d = d.merge(gles, on="municipality_code", how="left")
    d["share_65_79"] = d["share_65_plus"] - d["share_80_plus"]
    pop = d["population"].astype(float)
    d["ln_population"] = np.log(pop.where(pop > 0))
    return d[["municipality_code", "year", *VARIABLES]]


def nearest(X: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """For each row of X (rows in municipality-code order, already standardised): the indices
    of the k nearest other rows and their distances, nearest first; ties on the rounded
    distance keep code order (stable sort)."""
    n = X.shape[0]
    k = min(k, n - 1)
    diff = X[:, None, :] - X[None, :, :]
    dist = np.sqrt((diff * diff).sum(axis=2))
    dist = np.round(dist, DISTANCE_DECIMALS)
    np.fill_diagonal(dist, np.inf)                    # never itself
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(dist, order, axis=1)


def standardise(X: np.ndarray) -> np.ndarray:
    """Column z-scores (ddof 0); a column without spread contributes nothing."""
    sd = X.std(axis=0, ddof=0)
    return (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def similar_for_year(frame: pd.DataFrame, k: int = K) -> pd.DataFrame:
    """The similar sets of one year from the structure rows of that year."""
    f = frame.dropna(subset=list(VARIABLES)).sort_values("municipality_code").reset_index(drop=True)
    if len(f) <= 1:
        return pd.DataFrame(columns=["municipality_code", "similar_rank", "similar_code", "distance",
                                     "n_candidates"])
    X = standardise(f[list(VARIABLES)].to_numpy(dtype=float))
    idx, dist = nearest(X, k)
    codes = f["municipality_code"].to_numpy()
    kk = idx.shape[1]
    return pd.DataFrame({
        "municipality_code": np.repeat(codes, kk),
        "similar_rank": np.tile(np.arange(1, kk + 1), len(codes)),
        "similar_code": codes[idx].reshape(-1),
        "distance": dist.reshape(-1),
        "n_candidates": len(f),
    })


def compute_similar(structure: pd.DataFrame, k: int = K) -> pd.DataFrame:
    parts = []
    for year, frame in structure.groupby("year", sort=True):
        out = similar_for_year(frame, k)
        if len(out):
            parts.append(out.assign(year=int(year)))
    if not parts:
        return pd.DataFrame(columns=["year", "municipality_code", "similar_rank", "similar_code",
                                     "distance", "n_candidates"])
    return pd.concat(parts, ignore_index=True)


def run_similar(con, k: int = K, make_default: bool = False) -> str:
    """Compute and store `similar_municipalities` and `similar_reference` (pipelines/marts/)
    as one run of the step `similar`; returns the run_id."""
    config = dict(CONFIG, k=int(k))
    sim = compute_similar(load_structure(con), int(k))
    with transaction(con):
        ensure_effective(con)   # the reference reads effective_kpi_values (demo gives way to real)
        run = start_run(con, "similar", config, shipped=CONFIG, make_default=make_default)
        store_rows(con, "similar_municipalities", sim, run)
        # the reference reads this run's sets (not the public view: the run may not be the default)
        store_query(con, "similar_reference", read_sql("similar_reference.sql"),
                    {"run_id": run.run_id}, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration (only k is adjustable)."""
    if {key: v for key, v in config.items() if key != "k"} != {key: v for key, v in CONFIG.items() if key != "k"}:
        raise ValueError("the recorded similar-municipalities configuration differs from this version's method")
    return run_similar(con, k=int(config["k"]), make_default=make_default)
