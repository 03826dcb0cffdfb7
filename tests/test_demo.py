"""Demo data: flagged, shaped as demo_kpis.csv says, deterministic, and unrelated to cost or size."""
from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pytest
from _warehouse import build_layer, con, layer_db, read_rows  # noqa: F401  (fixtures)

from warehouse.demo import DEMO_SOURCE, missing_mask, persistent_scores, to_range

DEMO_KPIS = {r["kpi_id"]: r for r in read_rows("../demo_kpis.csv")}
YEARS = range(2007, 2014)


# --------------------------------------------------------------------------- flags

def test_every_demo_row_is_flagged_and_labelled(con):
    for table in ("kpi_values", "unit_value"):
        rows = con.execute(f"SELECT is_demo, source = ?, count(*) FROM {table} "
                           f"WHERE is_demo OR source = ? GROUP BY ALL", [DEMO_SOURCE, DEMO_SOURCE]).fetchall()
        assert rows and all(flag and labelled for flag, labelled, _ in rows), table
    assert con.execute("SELECT count(*) FROM unit_values WHERE NOT is_demo").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM org_units WHERE NOT is_demo").fetchall() == [(0,)]
    assert "ej verklig" in DEMO_SOURCE


def test_demo_and_real_never_mix(con):
    # a value's flag is its KPI's flag: no demo value under a real KPI, no real value under a demo KPI
    mixed = con.execute("SELECT count(*) FROM kpi_values v JOIN kpis k USING (kpi_id) "
                        "WHERE v.is_demo <> k.is_demo").fetchall()[0][0]
    assert mixed == 0
    real_ids = {r["Variabelkod"] for r in read_rows("kolada_extract_1998_2011.csv")}
    assert not real_ids & {k for (k,) in con.execute("SELECT kpi_id FROM kpis WHERE is_demo").fetchall()}
    assert all(k.startswith("DEMO_") for (k,) in con.execute("SELECT kpi_id FROM kpis WHERE is_demo").fetchall())


def test_demo_kpis_as_listed(con):
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT kpi_id, title, unit, higher_is_better, perspective, area FROM kpis WHERE kpi_id IN (SELECT UNNEST(?))",
        [list(DEMO_KPIS)]).fetchall()}
    assert set(got) == set(DEMO_KPIS)
    for kpi_id, r in DEMO_KPIS.items():
        assert got[kpi_id] == (r["title"], r["unit"], r["higher_is_better"] == "true", r["perspective"],
                               r["area"] or None)


# --------------------------------------------------------------------------- shape

def test_complete_kpis_cover_all_290_every_year_and_gappy_ones_never_do(con):
    counts = {(k, y): n for k, y, n in con.execute(
        "SELECT kpi_id, year, count(*) FROM kpi_values WHERE is_demo AND gender = 'T' GROUP BY ALL").fetchall()}
    for kpi_id, r in DEMO_KPIS.items():
        share = float(r["missing_share"])
        for year in YEARS:
            n = counts[(kpi_id, year)]
            if share == 0:
                assert n == 290, (kpi_id, year)
            else:
                # about the stated share missing, and at least one, in EVERY year
                assert n < 290 and abs((290 - n) - share * 290) <= 1, (kpi_id, year)
    assert {y for _, y in counts} == set(YEARS)


def test_values_inside_the_stated_range(con):
    rows = con.execute("SELECT kpi_id, min(value), max(value) FROM kpi_values "
                       "WHERE is_demo AND gender = 'T' GROUP BY 1").fetchall()
    for kpi_id, lo, hi in rows:
        r = DEMO_KPIS[kpi_id]
        assert float(r["low"]) <= lo and hi <= float(r["high"]), kpi_id
        # spread over the range, not a constant
        assert hi - lo > 0.5 * (float(r["high"]) - float(r["low"])), kpi_id


def test_gender_split_for_survey_kpis_is_consistent(con):
    rows = con.execute(
        "SELECT t.value, k.value, m.value FROM kpi_values t "
        "JOIN kpi_values k ON k.kpi_id = t.kpi_id AND k.municipality_code = t.municipality_code AND k.year = t.year AND k.gender = 'K' "
        "JOIN kpi_values m ON m.kpi_id = t.kpi_id AND m.municipality_code = t.municipality_code AND m.year = t.year AND m.gender = 'M' "
        "WHERE t.gender = 'T' AND t.kpi_id = 'DEMO_HT_TRYGG'").fetchall()
    assert len(rows) == 290 * 7
    # women are 2/3 of the recipients: T ≈ 2/3·K + 1/3·M (within rounding, unless clipped at 100)
    close = [abs(t - (2 * k + m) / 3) <= 0.1 for t, k, m in rows if k < 100 and m < 100]
    assert all(close)
    assert any(k != m for _, k, m in rows)


def test_weak_year_to_year_persistence(con):
    r = con.execute(
        "SELECT a.kpi_id, corr(a.value, b.value) FROM kpi_values a JOIN kpi_values b "
        "ON b.kpi_id = a.kpi_id AND b.municipality_code = a.municipality_code AND b.year = a.year + 1 AND b.gender = a.gender "
        "WHERE a.is_demo AND a.gender = 'T' GROUP BY 1").fetchall()
    mean = sum(c for _, c in r) / len(r)
    # persistent (ranks are not pure noise) but weak: expected 0.15 + 0.85·0.3 ≈ 0.4
    assert 0.25 < mean < 0.55
    assert all(0.1 < c < 0.7 for _, c in r)


def test_no_relation_to_cost_or_size(con):
    """Seed 003 found no link between quality and cost or size; the demo must not invent one.
    With 290 independent draws the sampling s.e. of r is ≈ 0.06, so |r| < 0.25 for every KPI
    is what unrelated data gives (a built-in link of even modest size would exceed it)."""
    rows = con.execute(
        "SELECT v.kpi_id, corr(v.value, ln(p.population)), corr(v.value, c.value) "
        "FROM kpi_values v JOIN municipality_years p USING (municipality_code, year) "
        "JOIN kpi_values c ON c.kpi_id = 'N20014' AND c.municipality_code = v.municipality_code AND c.year = v.year "
        "WHERE v.is_demo AND v.gender = 'T' AND v.year = 2009 GROUP BY 1").fetchall()
    assert len(rows) == len(DEMO_KPIS)
    for kpi_id, r_size, r_cost in rows:
        assert abs(r_size) < 0.25 and abs(r_cost) < 0.25, kpi_id


# --------------------------------------------------------------------------- units

def test_balansen_units(con):
    units = con.execute("SELECT unit_id, municipality_code, name, kind FROM org_units").fetchall()
    names = {(m, n, k) for _, m, n, k in units}
    assert ("1480", "Hemtjänst Linnéstaden", "hemtjanst") in names
    assert ("1480", "Hemtjänst Bergsjön", "hemtjanst") in names
    assert any(m == "1480" and k == "sarskilt_boende" for m, _, k in names)
    assert len({m for m, _, _ in names} - {"1480"}) >= 2
    assert {k for _, _, k in names} == {"hemtjanst", "sarskilt_boende"}


def test_unit_values_monthly_2011_2013_in_four_perspectives(con):
    periods = {p for (p,) in con.execute("SELECT DISTINCT period FROM unit_values").fetchall()}
    assert periods == {date(y, m, 1) for y in (2011, 2012, 2013) for m in range(1, 13)}
    persp = con.execute(
        "SELECT u.unit_id, count(DISTINCT k.perspective) FROM unit_values u JOIN kpis k USING (kpi_id) "
        "WHERE k.is_demo GROUP BY 1").fetchall()
    assert len(persp) == con.execute("SELECT count(*) FROM org_units").fetchall()[0][0]
    assert {n for _, n in persp} == {4}
    # some months unreported, as in Balansen's own reports, but most are there
    per_series = con.execute("SELECT count(*) FROM unit_values GROUP BY kpi_id, unit_id").fetchall()
    assert min(n for (n,) in per_series) >= 28 and sum(n for (n,) in per_series) < 36 * len(per_series)


def test_unit_values_plausible(con):
    rows = dict(((k, kind), (lo, hi)) for k, kind, lo, hi in con.execute(
        "SELECT kpi_id, kind, min(value), max(value) FROM unit_values JOIN org_units USING (unit_id) GROUP BY 1, 2").fetchall())
    lo, hi = rows[("DEMO_U_NOJD", "hemtjanst")]
    assert 50 <= lo and hi <= 100
    # a care-home place costs more per month than home care
    assert rows[("DEMO_U_KOST_VT", "sarskilt_boende")][0] > rows[("DEMO_U_KOST_VT", "hemtjanst")][1]
    lo, hi = rows[("DEMO_U_INFOAVV", "hemtjanst")]
    assert lo >= 0 and float(hi).is_integer()


# --------------------------------------------------------------------------- determinism

TIMESTAMPS = {"loaded_at", "imported_at", "created_at", "started_at"}


def _dump(path):
    """Every stored table, rows sorted, build-time timestamps and run ids left out."""
    c = duckdb.connect(str(path), read_only=True)
    try:
        tables = [t for (t,) in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_name NOT IN ('import_log') ORDER BY 1").fetchall()]
        out = {}
        for t in tables:
            cols = [col for (col,) in c.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [t]).fetchall() if col not in TIMESTAMPS]
            out[t] = c.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY ALL").fetchall()
        return out
    finally:
        c.close()


def test_building_twice_gives_identical_tables(layer_db, tmp_path):
    again = _dump(build_layer(tmp_path / "again.duckdb"))
    first = _dump(layer_db)
    assert {"municipality", "population", "kpi", "kpi_value", "org_unit", "unit_value", "dataset"} <= set(first)
    assert len(first["kpi_value"]) > 150000
    assert again == first


def test_another_seed_gives_other_values(tmp_path):
    other = _dump(build_layer(tmp_path / "other.duckdb", seed=7))
    base = _dump(build_layer(tmp_path / "base.duckdb"))
    assert other["kpi"] == base["kpi"]
    assert other["kpi_value"] != base["kpi_value"]


# --------------------------------------------------------------------------- pure pieces

def test_persistent_scores_correlation():
    z = persistent_scores(np.random.default_rng(1), 20000, 3, rho=0.3, w=0.15)
    assert z.std() == pytest.approx(1, abs=0.03)
    r = np.corrcoef(z[0], z[1])[0, 1]
    assert r == pytest.approx(0.15 + 0.85 * 0.3, abs=0.03)      # hand: w + (1-w)·rho


def test_to_range_stays_inside():
    z = np.array([-50.0, -1.0, 0.0, 1.0, 50.0])
    v = to_range(z, 10, 20)
    assert v[2] == 15 and 10 <= v.min() and v.max() <= 20 and np.all(np.diff(v) >= 0)


def test_missing_mask_counts():
    rng = np.random.default_rng(3)
    assert not missing_mask(rng, 0.0, 290, 7).any()
    m = missing_mask(rng, 0.1, 290, 7)
    assert list(m.sum(axis=1)) == [29] * 7                 # 10 % of 290, every year
    assert list(missing_mask(rng, 0.001, 290, 7).sum(axis=1)) == [1] * 7   # at least one
    assert not (m[0] == m[1]).all()                         # a different set each year
