"""Deterministic demo data (flagged is_demo) where no real data exists.

Real ÖJ quality indicators per municipality and unit-level Balansen figures are not in the
shipped sources, so `styrkort build` generates stand-ins:

* ÖJ-style indicators (warehouse/demo_kpis.csv) for all 290 municipalities, 2007–2013,
  gender 'T' (plus 'K'/'M' for the user-survey KPIs). Each value is a municipality effect
  plus an AR(1) year effect mapped into the KPI's low..high range, so year-to-year
  persistence is weak (correlation ≈ 0.4), like the study found. Nothing reads population
  or cost: SKL 2010's Öppna jämförelser analys found no relation between quality and cost or size, and the demo must
  not invent one. KPIs with missing_share > 0 miss that share of municipalities in every
  year (so the index's completeness rule leaves them out); the others are complete.
* Balansen units: home-care and special-housing units in Göteborg (Linnéstaden and
  Bergsjön as in Göteborg's Balansen), Stockholm and Tierp, monthly 2011-01..2013-12 in the four
  perspectives, with a few months missing, as Balansen's own reports had.

Everything comes from one numpy Generator seeded with `seed`, in a fixed order, so the same
seed gives the same rows.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from warehouse.value_source import insert_kpi_values

HERE = Path(__file__).resolve().parent
DEMO_KPIS_CSV = HERE / "demo_kpis.csv"
DEMO_SOURCE = "DEMO – genererad (styrkort), ej verklig"
YEARS = tuple(range(2007, 2014))
PERSISTENCE_RHO = 0.3        # AR(1) coefficient of the year effect
MUNICIPALITY_WEIGHT = 0.15   # share of variance that is a stable municipality effect
# year-to-year correlation = w + (1 - w)·rho ≈ 0.40: "weak persistence"
GENDER_KPIS = ("DEMO_HT_HELHET", "DEMO_HT_BEMOT", "DEMO_HT_TRYGG",
               "DEMO_SB_HELHET", "DEMO_SB_BEMOT", "DEMO_SB_MAT")
FEMALE_SHARE = 2 / 3         # most care recipients are women: T = 2/3·K + 1/3·M


# --------------------------------------------------------------------------- ÖJ-style KPIs

def read_demo_kpis(path: Path = DEMO_KPIS_CSV) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("low", "high", "missing_share"):
        df[col] = df[col].astype(float)
    bad = df[(df.low >= df.high) | (df.missing_share < 0) | (df.missing_share >= 1)]
    if len(bad):
        raise ValueError(f"{path}: bad low/high/missing_share for {list(bad.kpi_id)}")
    if df.kpi_id.duplicated().any():
        raise ValueError(f"{path}: duplicate kpi_id {list(df.kpi_id[df.kpi_id.duplicated()])}")
    return df


def persistent_scores(rng: np.random.Generator, n: int, years: int,
                      rho: float = PERSISTENCE_RHO, w: float = MUNICIPALITY_WEIGHT) -> np.ndarray:
    """Standard-normal scores, shape (years, n): sqrt(w)·municipality + sqrt(1-w)·AR(1)."""
    municipality = rng.standard_normal(n)
    shocks = rng.standard_normal((years, n))
    ar = np.empty((years, n))
    ar[0] = shocks[0]
    for t in range(1, years):
        ar[t] = rho * ar[t - 1] + np.sqrt(1 - rho**2) * shocks[t]
    return np.sqrt(w) * municipality + np.sqrt(1 - w) * ar


def to_range(z: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map standard-normal scores into (low, high) through the normal CDF, squeezed so that
    values spread over the range without piling up at the ends."""
    return low + (high - low) * ndtr(0.8 * z)


def decimals(unit: str) -> int:
    return {"kr": -2, "index": 0, "dagar": 0}.get(unit, 1)


def missing_mask(rng: np.random.Generator, share: float, n: int, years: int) -> np.ndarray:
    """Boolean (years, n), True = missing. share > 0 → at least one municipality every year."""
    mask = np.zeros((years, n), dtype=bool)
    if share <= 0:
        return mask
    k = max(1, int(round(share * n)))
    for t in range(years):
        mask[t, rng.choice(n, size=k, replace=False)] = True
    return mask


def kpi_values_frame(kpis: pd.DataFrame, codes: list[str], rng: np.random.Generator,
                     years: tuple[int, ...] = YEARS) -> pd.DataFrame:
    """Long frame kpi_id, municipality_code, year, gender, value for all demo KPIs."""
    n, y = len(codes), len(years)
    frames = []
    year_col = np.repeat(np.array(years), n)
    code_col = np.tile(np.array(codes, dtype=object), y)
    for row in kpis.itertuples(index=False):
        z = persistent_scores(rng, n, y)
        # a small national drift per KPI (ÖJ results moved a little year to year)
        z = z + rng.normal(0.0, 0.05) * np.arange(y)[:, None]
        values = np.round(to_range(z, row.low, row.high), decimals(row.unit))
        mask = missing_mask(rng, row.missing_share, n, y)
        keep = ~mask.ravel()
        frames.append(pd.DataFrame({
            "kpi_id": row.kpi_id, "municipality_code": code_col[keep], "year": year_col[keep],
            "gender": "T", "value": values.ravel()[keep],
        }))
        if row.kpi_id in GENDER_KPIS:
            # K and M around T so that 2/3·K + 1/3·M = T before rounding
            gap = rng.normal(0.0, 2.0, size=(y, n))
            k = np.clip(values + gap * (1 - FEMALE_SHARE), 0, 100).round(1)
            m = np.clip(values - gap * FEMALE_SHARE, 0, 100).round(1)
            for gender, v in (("K", k), ("M", m)):
                frames.append(pd.DataFrame({
                    "kpi_id": row.kpi_id, "municipality_code": code_col[keep], "year": year_col[keep],
                    "gender": gender, "value": v.ravel()[keep],
                }))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- Balansen units

@dataclass(frozen=True)
class DemoUnit:
    unit_id: str
    municipality_code: str
    name: str
    kind: str                    # 'hemtjanst' | 'sarskilt_boende'


UNITS = (
    DemoUnit("1480-HT-LINNE", "1480", "Hemtjänst Linnéstaden", "hemtjanst"),
    DemoUnit("1480-HT-BERGSJON", "1480", "Hemtjänst Bergsjön", "hemtjanst"),
    DemoUnit("1480-HT-MAJORNA", "1480", "Hemtjänst Majorna", "hemtjanst"),
    DemoUnit("1480-SB-GULDHEDEN", "1480", "Särskilt boende Guldheden", "sarskilt_boende"),
    DemoUnit("1480-SB-KORTEDALA", "1480", "Särskilt boende Kortedala", "sarskilt_boende"),
    DemoUnit("0180-HT-SODERMALM", "0180", "Hemtjänst Södermalm", "hemtjanst"),
    DemoUnit("0180-SB-KUNGSHOLMEN", "0180", "Särskilt boende Kungsholmen", "sarskilt_boende"),
    DemoUnit("0360-HT-TIERP", "0360", "Hemtjänst Tierp", "hemtjanst"),
    DemoUnit("0360-SB-KARLHOLM", "0360", "Särskilt boende Karlholm", "sarskilt_boende"),
)

# kpi_id, title, unit, higher_is_better, perspective, level range per kind (hemtjänst, boende)
UNIT_KPIS = (
    ("DEMO_U_NOJD", "Enhet: nöjda omsorgstagare, andel (%)", "%", True, "omsorgstagare",
     (72, 94), (68, 92)),
    ("DEMO_U_KOST_VT", "Enhet: kostnad per vårdtagare (kr/månad)", "kr/månad", False, "ekonomi",
     (14000, 26000), (48000, 62000)),
    ("DEMO_U_FRANVARO", "Enhet: sjukfrånvaro bland personalen (%)", "%", False, "medarbetare",
     (4, 11), (5, 12)),
    ("DEMO_U_OMSATTN", "Enhet: personalomsättning, rullande tolv månader (%)", "%", False, "medarbetare",
     (6, 24), (5, 20)),
    ("DEMO_U_INFOAVV", "Enhet: informationsavvikelser (antal/månad)", "antal/månad", False, "verksamhet",
     (0.5, 6), (0.5, 4)),
    ("DEMO_U_VARDPL", "Enhet: samordnad vårdplanering inom tre dagar (%)", "%", True, "verksamhet",
     (60, 96), (65, 97)),
)
MONTHS = pd.date_range("2011-01-01", "2013-12-01", freq="MS")


def unit_values_frame(rng: np.random.Generator, units=UNITS, kpis=UNIT_KPIS,
                      months: pd.DatetimeIndex = MONTHS) -> pd.DataFrame:
    """Monthly unit figures: a unit level inside the KPI's range, a seasonal swing (summer
    substitutes, winter sick leave), AR(1) noise, and a few unreported months."""
    t = np.arange(len(months))
    month_of_year = months.month.to_numpy()
    summer = np.isin(month_of_year, (6, 7, 8)).astype(float)
    winter = np.isin(month_of_year, (1, 2, 3, 12)).astype(float)
    rows = []
    for kpi_id, _title, unit, _hib, _persp, r_ht, r_sb in kpis:
        for u in units:
            low, high = r_ht if u.kind == "hemtjanst" else r_sb
            level = rng.uniform(0.2, 0.8)
            noise = np.empty(len(t))
            shocks = rng.standard_normal(len(t))
            noise[0] = shocks[0]
            for i in range(1, len(t)):
                noise[i] = 0.6 * noise[i - 1] + np.sqrt(1 - 0.36) * shocks[i]
            span = high - low
            if kpi_id == "DEMO_U_INFOAVV":
                mean = low + span * level + 0.3 * span * summer
                values = rng.poisson(np.clip(mean, 0.1, None)).astype(float)
            else:
                season = {"DEMO_U_FRANVARO": 0.15 * winter, "DEMO_U_KOST_VT": 0.06 * summer,
                          "DEMO_U_NOJD": -0.05 * summer}.get(kpi_id, 0.0)
                x = level + 0.07 * noise + season
                if kpi_id == "DEMO_U_KOST_VT":
                    x = x + 0.004 * t          # costs creep up ~2 % a year
                values = low + span * np.clip(x, 0.0, 1.1)
                values = np.round(values, -1 if unit == "kr/månad" else 1)
            reported = rng.random(len(t)) >= 0.04
            rows.append(pd.DataFrame({
                "kpi_id": kpi_id, "unit_id": u.unit_id, "period": months.date[reported],
                "value": values[reported],
            }))
    return pd.concat(rows, ignore_index=True)


def store_twins(con, kpis: pd.DataFrame) -> None:
    """demo_kpi_twin: the real Kolada KPI each demo indicator stands in for (column stands_for),
    which must be one of the presets' KPIs (kpi_preset, loaded before the demo)."""
    known = {k for (k,) in con.execute("SELECT kpi_id FROM kpi_preset").fetchall()}
    twins = kpis.loc[kpis["stands_for"] != "", ["kpi_id", "stands_for"]]
    unknown = sorted(set(twins["stands_for"]) - known)
    if unknown:
        raise ValueError(f"{DEMO_KPIS_CSV.name}: stands_for {unknown} is in no preset (warehouse/presets/)")
    taken = twins["stands_for"][twins["stands_for"].duplicated()]
    if len(taken):
        raise ValueError(f"{DEMO_KPIS_CSV.name}: stands_for {sorted(set(taken))} named twice")
    con.executemany("INSERT INTO demo_kpi_twin VALUES (?, ?)", list(twins.itertuples(index=False, name=None)))


# --------------------------------------------------------------------------- entry point

def generate_demo(con, seed: int = 20101) -> dict[str, int]:
    """Insert all demo rows (is_demo = true) into the warehouse. Deterministic in `seed`."""
    rng = np.random.default_rng(seed)
    kpis = read_demo_kpis()
    codes = [c for (c,) in con.execute("SELECT municipality_code FROM municipality ORDER BY 1").fetchall()]
    if len(codes) != 290:
        raise RuntimeError(f"generate_demo needs the 290 municipalities loaded first (found {len(codes)})")
    missing_units = sorted({u.municipality_code for u in UNITS} - set(codes))
    if missing_units:
        raise RuntimeError(f"demo units refer to unknown municipalities {missing_units}")

    kpi_rows = [
        (r.kpi_id, r.title, "Demodata: genererad av styrkort (ej verklig), ÖJ-liknande indikator.",
         r.unit or None, {"true": True, "false": False}.get(r.higher_is_better),
         r.perspective or None, r.area or None, DEMO_SOURCE, True)
        for r in kpis.itertuples(index=False)
    ] + [
        (kpi_id, title, "Demodata: genererad av styrkort (ej verklig), Balansen-nyckeltal per enhet och månad.",
         unit, hib, persp, None, DEMO_SOURCE, True)
        for kpi_id, title, unit, hib, persp, _a, _b in UNIT_KPIS
    ]
    con.executemany("INSERT INTO kpi VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", kpi_rows)
    store_twins(con, kpis)

    values = kpi_values_frame(kpis, codes, rng)
    values["source"] = DEMO_SOURCE
    values["is_demo"] = True
    insert_kpi_values(con, values)

    con.executemany("INSERT INTO org_unit (unit_id, municipality_code, name, kind, is_demo, source) "
                    "VALUES (?, ?, ?, ?, true, ?)",
                    [(u.unit_id, u.municipality_code, u.name, u.kind, DEMO_SOURCE) for u in UNITS])
    con.executemany("INSERT INTO unit_kpi VALUES (?, 'month', ?)",
                    [(k[0], "Demodata: genererad av styrkort") for k in UNIT_KPIS])
    units = unit_values_frame(rng)
    units["source"] = DEMO_SOURCE
    units["is_demo"] = True
    con.register("demo_unit_values", units)
    con.execute("INSERT INTO unit_value (kpi_id, unit_id, period, value, source, is_demo) "
                "SELECT kpi_id, unit_id, period, value, source, is_demo FROM demo_unit_values "
                "ORDER BY kpi_id, unit_id, period")
    con.unregister("demo_unit_values")

    _record(con, seed, len(values), len(units))
    from warehouse.demo_targets import load_demo_targets
    n_targets = load_demo_targets(con)
    return {"target": n_targets, "kpi": len(kpi_rows), "kpi_value": len(values), "org_unit": len(UNITS), "unit_value": len(units)}


def _record(con, seed: int, n_values: int, n_units: int) -> None:
    from warehouse.loaders import build_timestamp, sha256_file

    now = build_timestamp()
    con.executemany(
        "INSERT OR REPLACE INTO dataset VALUES (?, ?, ?, ?, ?, ?, true)",
        [
            ("demo_oj_indikatorer",
             f"DEMO: ÖJ-liknande kvalitetsindikatorer 2007–2013 för 290 kommuner, {n_values} värden "
             f"(genererade med frö {seed}, ej verkliga)",
             DEMO_SOURCE, "warehouse/demo_kpis.csv", sha256_file(DEMO_KPIS_CSV), now),
            ("demo_enheter",
             f"DEMO: Balansen-enheter (hemtjänst, särskilt boende) i Göteborg, Stockholm och Tierp, "
             f"månadsvärden 2011–2013, {n_units} värden (genererade med frö {seed}, ej verkliga)",
             DEMO_SOURCE, "warehouse/demo.py", hashlib.sha256(Path(__file__).read_bytes()).hexdigest(), now),
        ],
    )
    con.execute("INSERT OR REPLACE INTO warehouse_meta VALUES ('demo_seed', ?)", [str(seed)])
