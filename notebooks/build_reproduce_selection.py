"""Writes notebooks/reproduce_selection.ipynb (outputs empty). Edit the cells here, then run
`.venv/bin/python notebooks/build_reproduce_selection.py`; the notebook itself is executed by
tests/test_notebook.py against the embedded default warehouse."""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS: list[tuple[str, str]] = [
    ("md", """# Reproducera urvalet 15 höga / 15 låga — Reproduce the 15/15 selection

SKL:s studie 2010 (*Framgångsfaktorer i äldreomsorgen*, kapitel 2) valde 30 kommuner ur ett
sammanvägt index av Öppna jämförelser: i små och mellanstora kommuner de sex högsta och sex
lägsta, i stora kommuner tre och tre. Sedan justerades urvalet "något" för geografisk spridning.

This notebook rebuilds that selection for one year **from the warehouse's public views only**,
checks that it equals what `styrkort build` stored, shows it in the shape of the study's
Table 1, makes the geographic-spread step an explicit rule, records a manual swap, and shows
how certain the ranks of the chosen 30 are.

The quality indicators in the embedded default are **demo data** (flagged `is_demo`); import
real Kolada data (`styrkort import kolada …`) and rerun the notebook for real results."""),
    ("code", """import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from styrkort.paths import REPO_ROOT, default_db
from pipelines.ranking.pipeline import load_inputs, default_config_hash
from pipelines.ranking.config import load_config
from pipelines.ranking.index import compute_index
from pipelines.ranking.selection import Swap, apply_swaps, select, table1
from pipelines.ranking.uncertainty import simulate_index, summarise

db = default_db()                       # STYRKORT_DB, else data/warehouse.duckdb
if not db.is_absolute():
    db = REPO_ROOT / db
con = duckdb.connect(str(db), read_only=True)   # the notebook only reads
YEAR = int(os.environ.get("STYRKORT_YEAR", "2009"))
pd.set_option("display.width", 160)
print(f"Lager/warehouse: {db}  ·  år/year: {YEAR}")"""),
    ("md", """## 1. Index — which KPIs count

The default config (`pipelines/configs/oj_default.toml`) groups the KPIs into areas with
weights. A KPI is used only if **all 290 municipalities** have a value that year — the study
left out *väntetid till särskilt boende* and *personalkontinuitet* for this reason."""),
    ("code", """config = load_config()
print(open(REPO_ROOT / "pipelines/configs/oj_default.toml", encoding="utf-8").read())
inputs = load_inputs(con, YEAR, config)
index = compute_index(inputs.values, inputs.municipalities, inputs.kpi_meta, config)
index.usage[["kpi_id", "area", "used", "reason"]]"""),
    ("md", """## 2. Ranks, and the check against the stored index

z-scores per KPI (sign flipped where lower is better), area = mean of its KPIs, composite =
weighted mean of the areas; rank 1 = highest of 290, ties by municipality code. The recomputed
ranks must equal the `composite_index` rows that `styrkort build` stored for the default config."""),
    ("code", """ranked = index.composite.merge(
    inputs.municipalities[["municipality_code", "name", "county_code", "county_name"]],
    on="municipality_code")
stored = con.execute(
    "SELECT municipality_code, rank, group_rank, composite FROM composite_index "
    "WHERE year = ? AND is_default ORDER BY municipality_code", [YEAR]).df()
check = ranked.merge(stored, on="municipality_code", suffixes=("", "_stored"))
assert len(check) == len(ranked) == 290, len(check)
assert (check["rank"] == check["rank_stored"]).all()
assert (check["group_rank"].astype(int) == check["group_rank_stored"]).all()
print("Omräknat index = lagrat index / recomputed index equals the stored one:",
      default_config_hash())
ranked.sort_values("rank").head(10)[["rank", "municipality_code", "name", "size_group",
                                     "group_rank", "composite"]]"""),
    ("md", """Each KPI's normalised score (the z-score, oriented so higher = better) is stored too, in
`index_kpi_scores`: one row per year, municipality and used KPI with the raw value."""),
    ("code", """z = con.execute(
    "SELECT municipality_code, kpi_id, value, direction, score FROM index_kpi_scores "
    "WHERE year = ? ORDER BY kpi_id, municipality_code", [YEAR]).df()
mine = index.kpi_scores.sort_values(["kpi_id", "municipality_code"]).reset_index(drop=True)
assert np.allclose(mine["score"], z["score"]) and (mine["kpi_id"] == z["kpi_id"]).all()
z.pivot(index="municipality_code", columns="kpi_id", values="score").round(2).head()"""),
    ("md", """## 3. The selection in the shape of the study's Table 1

Plain ranking: per size group the top and bottom 6 (large: 3). The study's own Table 1
(`warehouse/sources/oj2009_sample_ranks.csv`) is shown beside it for the shape — its ranks are
the 2009 ÖJ ranks, ours come from the warehouse's data."""),
    ("code", """plain = select(ranked)
stored_sel = con.execute(
    \"\"\"SELECT i.municipality_code, i.result FROM selections s
       JOIN selection_items i USING (selection_id)
       WHERE s.year = ? AND s.is_default\"\"\", [YEAR]).df()
assert set(zip(plain.municipality_code, plain.result)) == set(zip(stored_sel.municipality_code,
                                                                  stored_sel.result))
study = pd.read_csv(REPO_ROOT / "warehouse/sources/oj2009_sample_ranks.csv")
pd.concat({"detta lager / this warehouse": table1(plain).set_index("size_group"),
           "studien 2010 / the study": table1(study).set_index("size_group")}, axis=1)"""),
    ("code", """plain[["size_group", "result", "rank", "group_rank", "municipality_code", "name",
       "county_name", "composite"]]"""),
    ("md", """## 4. Geographic spread as a rule (`--max-per-county`)

The study adjusted "slightly for better geographic spread" without saying how. Here the step
is a rule anyone can rerun: walk the ranks 1, 2, … and take a municipality if its size group
still has a place **and fewer than K from its county are already in the high list**; the low
list likewise from rank 290 upward. Same as `styrkort select --year YEAR --max-per-county 1`."""),
    ("code", """spread = select(ranked, max_per_county=1)
print("Län med mer än en kommun i en lista före regeln / counties with more than one before:")
for result in ("high", "low"):
    c = plain.loc[plain.result == result, "county_name"].value_counts()
    print(f"  {result}: {({k: int(v) for k, v in c[c > 1].items()})}")
    assert spread.loc[spread.result == result, "county_code"].value_counts().max() == 1
spread.loc[spread.adjusted, ["size_group", "result", "rank", "municipality_code", "name",
                             "county_name", "reason"]]"""),
    ("md", """## 5. A manual swap, recorded with its reason (`--swap OUT:IN:REASON`)

The study's manual adjustment becomes visible: here the lowest-ranked *medium* municipality in
the high list is replaced by the best medium municipality not yet selected from a county that
is not yet in the high list (so the spread is kept). In the CLI:
`styrkort select --year YEAR --max-per-county 1 --swap OUT:IN:"reason"`."""),
    ("code", """medium_high = spread[(spread.size_group == "medium") & (spread.result == "high")]
out = medium_high.sort_values("rank").iloc[-1]
high_counties = set(spread.loc[(spread.result == "high")
                              & (spread.municipality_code != out.municipality_code), "county_code"])
candidates = ranked[(ranked.size_group == "medium")
                    & ~ranked.municipality_code.isin(spread.municipality_code)
                    & ~ranked.county_code.isin(high_counties)].sort_values("rank")
inn = candidates.iloc[0]
swap = Swap(out.municipality_code, inn.municipality_code,
            "exempel: kommuntyp matchas bättre / example: better match of municipality type")
final = apply_swaps(spread, ranked, [swap])
assert out.municipality_code not in set(final.municipality_code)
print(f"Ut/out: {out.municipality_code} {out['name']} (rang {out['rank']}) · "
      f"in: {inn.municipality_code} {inn['name']} (rang {inn['rank']}) · skäl/reason: {swap.reason}")
final.loc[final.adjusted, ["size_group", "result", "rank", "municipality_code", "name",
                           "reason", "replaces"]]"""),
    ("code", """table1(final)"""),
    ("md", """## 6. How certain are the ranks of the chosen 30?

The index rests on choices: the area weights and the normalisation. `rank_uncertainty` (built
with 500 draws, seed 2010) draws weights from a Dirichlet distribution around the configured
ones (concentration 50) and the normalisation from z-score / min–max / rank. For each
municipality: median rank, 5–95 % interval, and the share of draws in which it is in its size
group's top 6 / bottom 6 (large: 3). Low shares mean the selection of that municipality depends
on the index's arbitrary choices. The stored figures are recomputed here (same seed → same
numbers)."""),
    ("code", """unc = con.execute("SELECT * FROM rank_uncertainty WHERE year = ?",
                  [YEAR]).df()
draws, seed = int(unc.draws.iloc[0]), int(unc.seed.iloc[0])
sim = simulate_index(index, ranked["size_group"].to_numpy(dtype=object), draws, seed,
                     float(unc.concentration.iloc[0]))
again = summarise(sim, ranked["municipality_code"].tolist())
cmp = again.merge(unc, on="municipality_code", suffixes=("", "_stored"))
assert (cmp.rank_median == cmp.rank_median_stored).all() and (cmp.p_top == cmp.p_top_stored).all()

chosen = final.merge(unc[["municipality_code", "rank_median", "rank_p05", "rank_p95",
                          "p_top", "p_bottom"]], on="municipality_code")
chosen["share_in_own_list"] = chosen.p_top.where(chosen.result == "high", chosen.p_bottom)
chosen[["size_group", "result", "rank", "municipality_code", "name", "rank_median",
        "rank_p05", "rank_p95", "share_in_own_list"]].round(2)"""),
    ("code", """robust = (chosen.share_in_own_list >= 0.8).sum()
fragile = chosen.loc[chosen.share_in_own_list < 0.5, ["municipality_code", "name", "result",
                                                      "share_in_own_list"]]
print(f"{robust} av {len(chosen)} valda ligger i sin lista i minst 80 % av dragningarna; "
      f"{len(fragile)} i mindre än hälften.")
fragile"""),
    ("code", """import plotly.graph_objects as go

c = chosen.sort_values("rank")
fig = go.Figure(go.Scatter(
    x=c.rank_median, y=c.municipality_code + " " + c.name, mode="markers",
    error_x=dict(type="data", symmetric=False, array=c.rank_p95 - c.rank_median,
                 arrayminus=c.rank_median - c.rank_p05),
    marker=dict(symbol=["triangle-up" if r == "high" else "triangle-down" for r in c.result])))
fig.update_layout(title=f"Rangens osäkerhet {YEAR} (median, 5–95 %) — demo data",
                  xaxis_title="Rang (1 = högst)", height=700, separators=", ")
fig"""),
    ("code", """con.close()"""),
]


def build() -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in CELLS]
    return nb


if __name__ == "__main__":
    path = Path(__file__).with_name("reproduce_selection.ipynb")
    nbformat.write(build(), path)
    print(f"wrote {path}")
