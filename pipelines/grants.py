"""Uptake of the performance grants for local dignity guarantees 2011–2013 (Socialstyrelsen's
status report of February 2014 on performance grants for local dignity guarantees) and
the reconciliation the product shows beside it.

Frames (fördelningsram):
- 2011:1 a fixed 100 000 kr per municipality (Tabell 2: "100 000 kr per kommun").
- 2011:2, 2012, 2013:1 (pot 1) and 2013:2 (pot 2): each municipality's share of the country's
  inhabitants 75+ times the round's announced sum. Pot 2 frames are thereby 33/65 of pot 1
  frames (announced 33 and 65 mnkr).
- Inhabitants 75+ = population × share 75+ from the SCB panel (view municipality_panel; panel year t
  holds 31 Dec t−1), interpolated linearly between panel years to 31 December of the year
  FRAME_LAG_YEARS (default 2) before the round's year. The lag is chosen because it
  reproduces the 2013 awards best: granted/frame for the 68 pot-1 grants has median 0.999
  and sd 1.0 % at 31 Dec 2011, against sd 1.8 % at 31 Dec 2012 and 2.9 % at 31 Dec 2009/2013
  (the reconciliation view lists each candidate date).

Per-municipality outcomes exist only for 2013 (Bilaga 1 → view grant_awards). For 2011:1,
2011:2 and 2012 only round totals exist (grant_rounds): those rows carry the frame and
`data_level = 'round_total_only'`, and applied / granted / paid / returned / uptake_share are
NULL ("uppgift saknas"), never an invented zero. For 2013 (`data_level = 'municipality'`) a
municipality not in Bilaga 1 did not apply: applied = false and zero amounts. Bilaga 1 lists
the amounts "beviljats ... och vilka belopp som utbetalats", so paid = granted when the
warehouse holds no separate paid figure.

Stockholm's returned money (the elderly-care administration's return of unspent
stimulus grant 2012–2013) is a different grant (stimulansbidrag for value-base
work 2012–2013), so it is not mixed into grant_uptake: it is in its own view
`stimulus_returns`; grant_uptake.returned_sek holds only returns of the performance grant
itself (none in the sources, so 0 for 2013).

Marts (declared in pipelines/marts/): grant_uptake, grant_uptake_by_year,
grant_uptake_by_size_group, grant_round_summary, grant_reconciliation, grant_not_applied_2013,
stimulus_returns. Every uptake share shown anywhere is computed here (granted / frame); size
groups follow the one rule of pipelines/sql/size_groups.sql (as the scorecard and the index).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from pipelines.core import declaration, size_groups_sql, store_rows, transaction
from pipelines.runs import start_run

FIXED_FRAMES = {"2011:1": 100_000.0}
FRAME_LAG_YEARS = 2
POT_RATIO = 33 / 65
FULL_GRANT_TOLERANCE = 0.05   # "within a few percent": share of full grants within ±5 %

# ---------------------------------------------------------------- pure transforms

def round_year(round_id: str) -> int:
    return int(str(round_id)[:4])


def inhabitants_75_plus(panel: pd.DataFrame, ref_year: int) -> pd.Series:
    """Inhabitants 75+ per municipality at 31 Dec `ref_year`, interpolated linearly between
    SCB panel years (panel year t = 31 Dec t−1); outside the panel range the nearest panel
    year is used. panel: municipality_code, panel_year, population, share_75_plus."""
    p = panel.dropna(subset=["population", "share_75_plus"]).copy()
    p["n75"] = p["population"].astype(float) * p["share_75_plus"].astype(float)
    p["date_year"] = p["panel_year"] - 1          # the 31 December the figure refers to
    wide = p.pivot_table(index="municipality_code", columns="date_year", values="n75")
    years = np.array(sorted(wide.columns), dtype=float)
    out = {}
    for code, row in wide.iterrows():
        ok = row.notna().to_numpy()
        if not ok.any():
            continue
        out[code] = float(np.interp(ref_year, years[ok], row.to_numpy(float)[ok]))
    return pd.Series(out, name="population_75_plus", dtype=float)


def frames(rounds: pd.DataFrame, n75_by_year: dict[int, pd.Series], codes: list[str],
           lag: int = FRAME_LAG_YEARS, fixed: dict[str, float] = FIXED_FRAMES) -> pd.DataFrame:
    """Frame per municipality, round and pot. rounds: round, pot, announced_sek.
    n75_by_year: {reference year: inhabitants 75+ per code}."""
    parts = []
    for r in rounds.itertuples(index=False):
        year = round_year(r.round)
        if r.round in fixed:
            part = pd.DataFrame({"municipality_code": codes, "frame_sek": fixed[r.round],
                                 "population_75_plus": np.nan,
                                 "frame_basis": "fixed_per_municipality"})
        else:
            ref = year - lag
            n75 = n75_by_year[ref].reindex(codes)
            share = n75 / n75.sum()
            part = pd.DataFrame({"municipality_code": codes,
                                 "frame_sek": (share * float(r.announced_sek)).round(0).to_numpy(),
                                 "population_75_plus": n75.to_numpy(),
                                 "frame_basis": f"share_75_plus_31dec{ref}"})
        part["round"] = r.round
        part["pot"] = int(r.pot)
        part["round_year"] = year
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def uptake(frame_rows: pd.DataFrame, awards: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """grant_uptake rows: frames joined with awards where per-municipality data exists."""
    award_level = set(map(tuple, awards[["round", "pot"]].drop_duplicates().itertuples(index=False)))
    a = awards.rename(columns={"source": "award_source"})
    u = frame_rows.merge(a, on=["municipality_code", "round", "pot"], how="left")
    u = u.merge(rounds[["round", "pot", "paid_share_pct", "municipalities_granted", "source"]]
                .rename(columns={"paid_share_pct": "round_paid_share_pct",
                                 "municipalities_granted": "round_municipalities_granted",
                                 "source": "round_source"}),
                on=["round", "pot"], how="left")
    level = np.array([(r, p) in award_level for r, p in zip(u["round"], u["pot"])])
    u["data_level"] = np.where(level, "municipality", "round_total_only")
    applied = u["applied"].astype("boolean").fillna(False)
    granted = u["granted_sek"].astype("Float64").where(applied, 0).fillna(0)
    paid = u["paid_sek"].astype("Float64").fillna(granted).where(applied, 0).fillna(0)
    returned = u["returned_sek"].astype("Float64").where(applied, 0).fillna(0)
    u["applied"] = applied.where(level, pd.NA)
    u["granted_sek"] = granted.where(level, pd.NA).astype("Int64")
    u["paid_sek"] = paid.where(level, pd.NA).astype("Int64")
    u["returned_sek"] = returned.where(level, pd.NA).astype("Int64")
    u["uptake_share"] = (u["granted_sek"].astype("Float64") / u["frame_sek"]).where(level, pd.NA)
    # the source itself (document and year), no note: a municipality missing from Bilaga 1 did
    # not apply (same source); rounds without per-municipality outcomes cite the round table.
    # That outcomes are missing is said by data_level (the catalogue words it), not the source.
    award_src = a["award_source"].dropna()
    muni_src = u["award_source"].fillna(award_src.mode().iloc[0] if len(award_src)
                                        else "Socialstyrelsen 2014, Bilaga 1")
    total_src = u["round_source"].fillna("Socialstyrelsen 2014, Tabell 2")
    u["source"] = muni_src.where(level, total_src)
    return u


# A reconciliation row: the check (code), the printed and the computed figure, and what it means as
# a note code with its figures (JSON); never prose, so the catalogue words it in either language.
RECON_COLUMNS = ["check", "expected", "actual", "difference", "note", "note_values"]


def note_values(values: dict) -> str:
    """The figures a note's text needs, as stable JSON (numbers stay numbers)."""
    return json.dumps({k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else
                           v.item() if hasattr(v, "item") else v) for k, v in values.items()},
                      sort_keys=True, ensure_ascii=False)


def _whole(x):
    return None if x is None or pd.isna(x) else int(round(float(x)))


def _announced(rounds: pd.DataFrame, rnd, pot):
    return rounds.set_index(["round", "pot"])["announced_sek"].get((rnd, pot))


def _basis_values(basis: str, frame_sek: float, announced_sek) -> dict:
    """The frame basis code as note values: {'basis': 'fixed', 'amount'} or {'basis': 'share_75_plus',
    'ref_year', 'announced'} (styrkort/grant_texts.py words them)."""
    m = re.fullmatch(r"share_75_plus_31dec(\d{4})", str(basis))
    if m:
        return {"basis": "share_75_plus", "ref_year": int(m.group(1)), "announced": int(round(float(announced_sek)))}
    return {"basis": "fixed", "amount": int(round(float(frame_sek)))}


def reconciliation(u: pd.DataFrame, rounds: pd.DataFrame, facts: dict[str, float],
                   printed_totals: pd.DataFrame, names: pd.Series,
                   fit_candidates: dict[int, pd.Series] | None = None) -> pd.DataFrame:
    """Checks of the computed uptake against the printed figures (pure)."""
    rows: list[dict] = []

    def add(check, expected, actual, note, **values):
        """One check; `note` is a code and `values` its figures (styrkort/grant_texts.py words them)."""
        e = None if expected is None or pd.isna(expected) else float(expected)
        a = None if actual is None or pd.isna(actual) else float(actual)
        rows.append({"check": check, "expected": e, "actual": a,
                     "difference": None if e is None or a is None else a - e, "note": note,
                     "note_values": note_values(values)})

    muni = u[u["data_level"] == "municipality"]
    # 1. Frames against the amounts actually granted (full grants = granted > 0).
    for (rnd, pot), g in muni.groupby(["round", "pot"]):
        full = g[g["granted_sek"].astype("Float64") > 0]
        if full.empty:
            continue
        ratio = (full["granted_sek"].astype(float) / full["frame_sek"]).to_numpy()
        within = int((np.abs(ratio - 1) <= FULL_GRANT_TOLERANCE).sum())
        q = np.quantile(ratio, [0, 0.05, 0.5, 0.95, 1])
        basis = _basis_values(g["frame_basis"].iloc[0], g["frame_sek"].iloc[0], _announced(rounds, rnd, pot))
        add(f"frame_vs_granted_{rnd}_median_ratio", 1.0, float(np.median(ratio)), "frame_ratio",
            n=len(full), min=round(q[0], 3), p5=round(q[1], 3), median=round(q[2], 3), p95=round(q[3], 3),
            max=round(q[4], 3), sd=round(float(ratio.std(ddof=1)) if len(ratio) > 1 else 0.0, 3), decimals=3,
            **basis)
        add(f"frame_vs_granted_{rnd}_within_{int(FULL_GRANT_TOLERANCE * 100)}pct", len(full), within,
            "frame_within", pct=int(FULL_GRANT_TOLERANCE * 100))
    # 2. Pot 2 = 33/65 of pot 1 for municipalities granted both.
    p1 = muni[muni["pot"] == 1].set_index("municipality_code")["granted_sek"].astype("Float64")
    p2 = muni[muni["pot"] == 2].set_index("municipality_code")["granted_sek"].astype("Float64")
    both = (p1 > 0).reindex(p2.index, fill_value=False) & (p2 > 0)
    if both.any():
        r = (p2[both] / p1.reindex(p2.index)[both]).astype(float)
        add("pot2_over_pot1_2013_median", POT_RATIO, float(r.median()), "pot_ratio",
            ratio=round(POT_RATIO, 6), n=int(both.sum()), min=round(float(r.min()), 6), max=round(float(r.max()), 6),
            decimals=6)
    # 3. Printed column sums against the sums of the rows.
    sums = {pot: int(muni.loc[muni["pot"] == pot, "granted_sek"].astype("Int64").sum()) for pot in (1, 2)}
    printed_rows_total = int(printed_totals["total_granted_sek"].sum()) if len(printed_totals) else None
    for key, actual, pot in (("printed_sum_pot1_2013_sek", sums.get(1), 1),
                             ("printed_sum_pot2_2013_sek", sums.get(2), 2),
                             ("printed_sum_total_2013_sek", printed_rows_total, None)):
        if pot is None:
            add(f"{key}_vs_row_sum", facts.get(key), actual, "printed_total")
        else:
            add(f"{key}_vs_row_sum", facts.get(key), actual, "printed_pot", pot=pot)
    # 4. Rows whose pot 1 + pot 2 differ from the printed row total.
    if len(printed_totals):
        pt = printed_totals.set_index("municipality_code")["total_granted_sek"]
        row_sum = (p1.fillna(0).reindex(pt.index, fill_value=0) + p2.fillna(0).reindex(pt.index, fill_value=0))
        gaps = pt[(row_sum - pt) != 0]
        add("row_total_gaps_2013_count", 0, len(gaps), "row_gaps")
        for code, printed in gaps.items():
            add(f"row_total_2013 {code} {names.get(code, '')}".strip(), float(printed), float(row_sum[code]),
                "row_total")
    # 5. Counts against grant_facts / Tabell 1–2.
    if len(muni):
        applied1 = set(muni[(muni["pot"] == 1) & (muni["applied"] == True)]["municipality_code"])  # noqa: E712
        applied2 = set(muni[(muni["pot"] == 2) & (muni["applied"] == True)]["municipality_code"])  # noqa: E712
        n_all = u["municipality_code"].nunique()
        granted_round = rounds.set_index(["round", "pot"])["municipalities_granted"].to_dict()
        counts = [
            ("municipalities_applied_2013", len(applied1 | applied2), "applied_any", {}),
            ("municipalities_applied_both_pots_2013", len(applied1 & applied2), "applied_both", {}),
            ("municipalities_applied_only_pot1_2013", len(applied1 - applied2), "applied_only", {"pot": 1}),
            ("municipalities_applied_only_pot2_2013", len(applied2 - applied1), "applied_only", {"pot": 2}),
            ("municipalities_not_applied_2013", n_all - len(applied1 | applied2), "not_applied", {}),
        ]
        for fact, actual, note, values in counts:
            add(fact, facts.get(fact), actual, note, **values)
        add("applications_pot1_2013", facts.get("follow_up_plans_submitted_2013"), len(applied1),
            "applications", pot=1, printed=_whole(facts.get("follow_up_plans_submitted_2013")))
        for (rnd, pot), g in muni.groupby(["round", "pot"]):
            n_granted = int((g["granted_sek"].astype("Float64") > 0).sum())
            add(f"municipalities_granted_{rnd}", granted_round.get((rnd, pot)), n_granted, "granted")
            paid_total = float(g["paid_sek"].astype("Float64").sum())
            round_paid = rounds.set_index(["round", "pot"])["paid_sek"].get((rnd, pot))
            add(f"paid_total_{rnd}_sek", round_paid, paid_total, "paid")
    # 6. Frame sums against the announced sums (fixed frames: 290 × 100 000 = 29 mnkr).
    for (rnd, pot), g in u.groupby(["round", "pot"]):
        announced = rounds.set_index(["round", "pot"])["announced_sek"].get((rnd, pot))
        add(f"frame_sum_{rnd}_sek", announced, float(g["frame_sek"].sum()), "frame_sum",
            **_basis_values(g["frame_basis"].iloc[0], g["frame_sek"].iloc[0], announced))
    # 7. What the data cannot answer.
    add("municipalities_never_applied_2011_2013", facts.get("municipalities_never_applied_2011_2013"), None,
        "never_applied")
    add("municipalities_applied_only_in_2011", facts.get("municipalities_applied_only_in_2011"), None,
        "only_in_2011")
    # 8. Which population date fits the 2013 awards best (documents the frame date choice).
    for ref, ratio_sd in (fit_candidates or {}).items():
        add(f"frame_date_candidate_31dec{ref}_sd", None, ratio_sd, "frame_date", ref_year=int(ref))
    return with_agreement(pd.DataFrame(rows, columns=RECON_COLUMNS))


RECONCILIATION_TOLERANCE = 0.01   # "nästan": within 1 % of the printed figure (rounding in the source)


def agreement(expected, difference) -> str:
    """equal / within_1pct / differs / no_comparison for one reconciliation row (pure)."""
    if difference is None or pd.isna(difference):
        return "no_comparison"
    if abs(difference) < 1e-9:
        return "equal"
    if expected is not None and not pd.isna(expected) and expected != 0 \
            and abs(difference) / abs(expected) <= RECONCILIATION_TOLERANCE:
        return "within_1pct"
    return "differs"


def with_agreement(recon: pd.DataFrame) -> pd.DataFrame:
    recon = recon.copy()
    recon["agreement"] = [agreement(e, d) for e, d in zip(recon["expected"], recon["difference"])]
    return recon


def _share(num, den):
    return num / den if den else None


def by_size_group(u: pd.DataFrame, size: pd.DataFrame) -> pd.DataFrame:
    """Uptake per round, pot and size group (size group of the round year) (pure).
    size: municipality_code, round_year, size_group."""
    d = u.merge(size, on=["municipality_code", "round_year"], how="left")
    rows = []
    for (rnd, pot, sg), g in d.groupby(["round", "pot", "size_group"], dropna=False):
        muni_level = (g["data_level"] == "municipality").all()
        granted_sum = int(g["granted_sek"].astype("Int64").sum()) if muni_level else None
        frame_sum = float(g["frame_sek"].sum())
        applied = int((g["applied"] == True).sum()) if muni_level else None  # noqa: E712
        rows.append({
            "round": rnd, "pot": int(pot), "round_year": int(g["round_year"].iloc[0]),
            "size_group": None if pd.isna(sg) else sg, "municipalities": len(g), "applied": applied,
            "granted": int((g["granted_sek"].astype("Float64") > 0).sum()) if muni_level else None,
            "frame_sek": frame_sum, "granted_sek": granted_sum,
            "uptake_share": _share(granted_sum, frame_sum) if muni_level else None,
            "applied_share": _share(applied, len(g)) if muni_level else None,
            "data_level": g["data_level"].iloc[0],
        })
    return pd.DataFrame(rows)


def by_year(u: pd.DataFrame) -> pd.DataFrame:
    """Uptake per municipality and year, the year's rounds and pots together (pure, vectorised:
    one row per municipality and round year)."""
    cols = ["municipality_code", "year", "rounds", "rounds_applied", "rounds_with_data", "frame_sek",
            "granted_sek", "applied", "uptake_share", "data_level"]
    if u.empty:
        return pd.DataFrame(columns=cols)
    d = u.assign(is_muni=u["data_level"] == "municipality",
                 applied_i=u["applied"].astype("boolean").fillna(False).astype(int),
                 granted_f=u["granted_sek"].astype("Float64"))
    g = d.groupby(["municipality_code", "round_year"], sort=True)
    out = g.agg(frame_sek=("frame_sek", "sum"), granted=("granted_f", "sum"), n=("round", "size"),
                muni_level=("is_muni", "all"), rounds_applied=("applied_i", "sum")).reset_index()
    rounds = d.groupby("round_year")["round"].agg(lambda r: ", ".join(sorted(r.astype(str).unique())))
    level = out["muni_level"]
    out["year"] = out["round_year"].astype(int)
    out["rounds"] = out["round_year"].map(rounds)
    out["granted_sek"] = out["granted"].round().astype("Int64").where(level, pd.NA)
    out["rounds_applied"] = out["rounds_applied"].astype("Int64").where(level, pd.NA)
    out["rounds_with_data"] = out["n"].where(level, 0).astype(int)
    out["applied"] = (out["rounds_applied"] > 0).astype("boolean").where(level, pd.NA)
    share = out["granted_sek"].astype("Float64") / out["frame_sek"].where(out["frame_sek"] != 0)
    out["uptake_share"] = share.where(level, pd.NA).astype("Float64")
    out["data_level"] = level.map({True: "municipality", False: "round_total_only"})
    return out[cols]


def round_summary(rounds: pd.DataFrame) -> pd.DataFrame:
    """The rounds with paid / announced, and a total row over all rounds (pure)."""
    r = rounds.copy()
    r["is_total"] = False
    total = {"round": "total", "pot": None, "is_total": True,
             "announced_sek": int(r["announced_sek"].sum()),
             "paid_sek": int(r["paid_sek"].sum()) if r["paid_sek"].notna().all() else None,
             "municipalities_granted": None, "performance_required": None, "allocation_basis": None,
             "source": "; ".join(dict.fromkeys(r["source"].dropna().astype(str)))}
    r = pd.concat([r, pd.DataFrame([total])], ignore_index=True)
    r["paid_share"] = [_share(p, a) if pd.notna(p) else None for p, a in zip(r["paid_sek"], r["announced_sek"])]
    return r[["round", "pot", "is_total", "announced_sek", "paid_sek", "paid_share", "municipalities_granted",
              "performance_required", "allocation_basis", "source"]]


# ---------------------------------------------------------------- warehouse I/O

def _facts(con) -> dict[str, float]:
    return dict(con.execute("SELECT fact, value FROM grant_facts").fetchall())


def _printed_totals(con) -> pd.DataFrame:
    return con.execute("""SELECT municipality_code, total_granted_sek FROM grant_award_printed_totals
                          WHERE year = 2013""").df()


def _size_by_year(con, years: list[int]) -> pd.DataFrame:
    """Size group per municipality for each round year: the one size-group rule
    (pipelines/sql/size_groups.sql, also behind the mart municipality_size_groups)."""
    if not years:
        return pd.DataFrame(columns=["municipality_code", "round_year", "size_group"])
    parts = [con.execute(f"SELECT municipality_code, year AS round_year, size_group FROM ({size_groups_sql(y)})").df()
             for y in sorted({int(y) for y in years})]
    return pd.concat(parts, ignore_index=True)


def grants_config(lag: int = FRAME_LAG_YEARS) -> dict:
    return {"fixed_frames": FIXED_FRAMES, "frame_lag_years": lag, "pot_ratio": "33/65",
            "population_75_plus": "SCB panel population × share_75_plus, linear between panel years",
            "full_grant_tolerance": FULL_GRANT_TOLERANCE, "size_groups": "size_groups.sql (nearest year)"}


SHIPPED_CONFIG = grants_config()


def run_grants(con, lag: int = FRAME_LAG_YEARS, make_default: bool = False) -> str:
    """Compute and store every grant mart; returns the run_id."""
    config = grants_config(lag)
    munis = con.execute("SELECT municipality_code, name, county_name FROM municipalities ORDER BY 1").df()
    codes = munis["municipality_code"].tolist()
    names = munis.set_index("municipality_code")["name"]
    rounds = con.execute("""SELECT round, pot, announced_sek, paid_sek, paid_share_pct,
                                   municipalities_granted, performance_required, allocation_basis, source
                            FROM grant_rounds ORDER BY round, pot""").df()
    awards = con.execute("""SELECT municipality_code, round, pot, applied, granted_sek, paid_sek,
                                   returned_sek, source FROM grant_awards""").df()
    panel = con.execute("SELECT municipality_code, panel_year, population, share_75_plus FROM municipality_panel").df()
    ref_years = sorted({round_year(r) - lag for r in rounds["round"] if r not in FIXED_FRAMES})
    candidates = sorted(set(ref_years) | {2009, 2010, 2011, 2012, 2013})
    n75 = {y: inhabitants_75_plus(panel, y) for y in candidates} if len(panel) else {}

    if len(rounds) and codes:
        frame_rows = frames(rounds, n75, codes, lag)
        u = uptake(frame_rows, awards, rounds)
    else:
        u = pd.DataFrame(columns=declaration("grant_uptake").column_names)

    fit = {}
    pot1 = awards[(awards["round"] == "2013:1") & (awards["granted_sek"].astype("Float64") > 0)]
    if len(pot1) > 1 and "2013:1" in set(rounds["round"]):
        announced = float(rounds.set_index("round").loc["2013:1", "announced_sek"])
        for y in candidates:
            share = n75[y] / n75[y].reindex(codes).sum()
            ratio = pot1.set_index("municipality_code")["granted_sek"].astype(float) / (share * announced)
            fit[y] = float(ratio.dropna().std(ddof=1))
    recon = reconciliation(u, rounds, _facts(con), _printed_totals(con), names, fit) if len(u) else \
        pd.DataFrame(columns=RECON_COLUMNS + ["agreement"])
    size = _size_by_year(con, sorted(u["round_year"].dropna().unique().tolist()) if len(u) else [])
    by_size = by_size_group(u, size) if len(u) else pd.DataFrame()
    per_year = by_year(u) if len(u) else pd.DataFrame()
    summary = round_summary(rounds) if len(rounds) else pd.DataFrame()

    # Municipalities that did not apply in 2013 (the only year with per-municipality data).
    not_applied = pd.DataFrame()
    if len(u) and (u["round"].isin(["2013:1", "2013:2"]) & (u["data_level"] == "municipality")).any():
        y13 = u[u["round"].isin(["2013:1", "2013:2"])]
        ever = y13.groupby("municipality_code")["applied"].apply(lambda s: bool((s == True).any()))  # noqa: E712
        na = ever[~ever].index
        fr = y13.pivot_table(index="municipality_code", columns="pot", values="frame_sek")
        not_applied = munis[munis["municipality_code"].isin(na)].copy()
        not_applied = not_applied.merge(size[size["round_year"] == 2013][["municipality_code", "size_group"]],
                                        on="municipality_code", how="left")
        not_applied["frame_pot1_sek"] = not_applied["municipality_code"].map(fr.get(1, pd.Series(dtype=float)))
        not_applied["frame_pot2_sek"] = not_applied["municipality_code"].map(fr.get(2, pd.Series(dtype=float)))

    stim = con.execute("""SELECT s.municipality_code, m.name, s.grant_type, s.grant_years,
                                 s.received_total_sek, s.spent_sek, s.returned_sek,
                                 s.returned_sek / nullif(s.received_total_sek, 0) AS returned_share,
                                 s.returned_date, s.source
                          FROM stimulus_grant_returns s LEFT JOIN municipalities m USING (municipality_code)""").df()
    for _, s in stim.iterrows():
        if pd.notna(s["received_total_sek"]) and pd.notna(s["spent_sek"]) and pd.notna(s["returned_sek"]):
            expected = float(s["received_total_sek"]) - float(s["spent_sek"])
            recon.loc[len(recon)] = {
                "check": f"stimulus_return {s['municipality_code']} {s['grant_years']}",
                "expected": expected, "actual": float(s["returned_sek"]),
                "difference": float(s["returned_sek"]) - expected,
                "note": "stimulus_return", "note_values": note_values({"grant_type": s["grant_type"]})}

    recon = with_agreement(recon)
    with transaction(con):
        run = start_run(con, "grants", config, shipped=SHIPPED_CONFIG, make_default=make_default)
        for name, df in (("grant_uptake", u), ("grant_uptake_by_year", per_year),
                         ("grant_uptake_by_size_group", by_size), ("grant_round_summary", summary),
                         ("grant_reconciliation", recon), ("grant_not_applied_2013", not_applied),
                         ("stimulus_returns", stim)):
            store_rows(con, name, df, run)
    return run.run_id


def rerun(con, config: dict, year: int | None = None, make_default: bool = False) -> str:
    """Run again from a recorded configuration."""
    return run_grants(con, lag=int(config["frame_lag_years"]), make_default=make_default)
