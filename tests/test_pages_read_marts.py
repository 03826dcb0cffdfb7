"""Pages, the PDF and downloads show the marts' figures, not their own: each test reads the
figure from the mart with plain SQL and finds exactly that value (formatted as the page formats
it) on the page, in its download or in the nämndrapport.

- /trender reference lines = kpi_reference_series (group mean of the municipality's size group
  that year, municipality_size_groups; national mean);
- /statsbidrag rounds table total row and paid shares = grant_round_summary;
- map grant measure (/) and /kommun header grant share = grant_uptake_by_year;
- /kommun panel counts (any year and 'senaste') = scorecard_status_counts; composite 'rang N av M'
  = composite_index n_ranked / group_n, on screen and in the PDF;
- grant reconciliation: agreement words from the catalogue for the mart's codes, never the
  internal check codes (screen and CSV); grant sources without notes.
"""
from __future__ import annotations

import io
import json
import re
import sys

import duckdb
import plotly
import pytest

from layout_support import by_id as _by_id
from layout_support import find as _find
from layout_support import table_rows
from layout_support import texts as _texts
from layout_support import trace_values
from styrkort import formats


@pytest.fixture(scope="module")
def app(built_db):
    from dashboard.app import create_app
    return create_app(built_db)


@pytest.fixture(scope="module")
def sql(built_db):
    con = duckdb.connect(str(built_db), read_only=True)
    yield lambda q, p=(): con.execute(q, list(p)).fetchall()
    con.close()


def _page(name):
    return sys.modules[f"pages.{name}"]


def _render(app, page, path="/", **query):
    with app.server.test_request_context(path):
        return page.layout(**query)


# ---------------------------------------------------------------- /trender


@pytest.mark.parametrize("code", ["1480", "0509"])
def test_trender_reference_lines_are_the_reference_mart(app, sql, code):
    db_kpi = sql("SELECT kpi_id FROM scorecard WHERE municipality_code = ? AND NOT is_demo "
                 "ORDER BY kpi_id LIMIT 1", [code]) or sql(
        "SELECT kpi_id FROM scorecard WHERE municipality_code = ? ORDER BY kpi_id LIMIT 1", [code])
    kpi_id = db_kpi[0][0]
    expected = {y: (g, n) for y, g, n in sql(
        """SELECT s.year, r.group_mean, r.national_mean FROM scorecard s
           JOIN municipality_size_groups m ON m.municipality_code = s.municipality_code AND m.year = s.year
           JOIN kpi_reference_series r ON r.kpi_id = s.kpi_id AND r.year = s.year AND r.size_group = m.size_group
           WHERE s.municipality_code = ? AND s.kpi_id = ?""", [code, kpi_id])}
    assert expected
    from dashboard.data import get_db

    with app.server.test_request_context("/trender"):
        charts = _page("trender").build_charts(get_db(), code, [kpi_id], "sv")
    (_kpi, fig, _cap, _verdict), = charts
    traces = {tr["name"]: dict(zip(tr["x"], tr["y"])) for tr in fig["data"]}
    national = traces["Riket (medel)"]
    group, = [v for k, v in traces.items() if k.startswith("Medel, ")]   # 'Medel, stora'
    for year, (g, n) in expected.items():
        assert group[year] == pytest.approx(g, abs=0), year
        assert national[year] == pytest.approx(n, abs=0), year


def test_trender_without_the_reference_mart_names_it(db_copy):
    con = duckdb.connect(str(db_copy))
    con.execute("DROP VIEW kpi_reference_series")
    con.close()
    from dashboard.app import create_app

    app = create_app(db_copy)
    text = json.dumps(_render(app, _page("trender"), "/trender", code="1480"), cls=plotly.utils.PlotlyJSONEncoder,
                      ensure_ascii=False)
    assert "kpi_reference_series har inte beräknats i lagret. Kör `styrkort refresh`." in text
    assert "trender-graph" not in text


# ---------------------------------------------------------------- /statsbidrag


def test_statsbidrag_rounds_total_and_shares_are_the_mart(app, sql):
    page = _render(app, _page("statsbidrag"), "/statsbidrag")
    rows = table_rows(page, "statsbidrag-rounds")
    mart = {r: (a, p, s) for r, a, p, s in sql(
        "SELECT round, announced_sek, paid_sek, paid_share FROM grant_round_summary")}
    total = rows[-1]
    assert total["round"] == "Totalt 2011–2013"
    assert (total["announced_sek"], total["paid_sek"], total["paid_share"]) == mart["total"]
    shown = [td for td in _find(page, lambda c: type(c).__name__ == "Td" and getattr(c, "data-col", None) == "paid_share")]
    assert shown[-1].children == formats.percent(100 * mart["total"][2], 0, "sv")   # the total row as shown
    for r in rows[:-1]:
        assert (r["announced_sek"], r["paid_sek"], r["paid_share"]) == mart[r["round"]]
    # the CSV carries the mart's share as a number in percent, rounded as on screen
    from dashboard import components as C

    meta = _by_id(page, {"type": "sk-dl-meta", "index": "statsbidrag-rounds"}).data
    body, _name = C.table_file(rows, meta, "csv", "sv")
    last = body.decode("utf-8-sig").strip().splitlines()[-1].split(";")
    assert last[0] == "Totalt 2011–2013"
    assert str(round(100 * mart["total"][2])) in last


# ---------------------------------------------------------------- grant uptake by year


def test_map_grant_measure_is_grant_uptake_by_year(built_db, sql):
    from dashboard.data import Warehouse, map_data, measure_years

    w = Warehouse(built_db)
    try:
        years = measure_years(w, "grant")
        df, meta = map_data(w, "grant", 2013, "sv")
    finally:
        w.close()
    assert years == [y for (y,) in sql("SELECT DISTINCT year FROM grant_uptake_by_year "
                                       "WHERE data_level = 'municipality' ORDER BY 1")]
    mart = dict(sql("SELECT municipality_code, uptake_share FROM grant_uptake_by_year WHERE year = 2013"))
    got = dict(zip(df["municipality_code"], df["value"]))
    assert len(mart) == 290 and meta["unit"] == "%"
    for code, share in mart.items():
        assert got[code] == pytest.approx(100 * share, rel=1e-12), code


@pytest.mark.parametrize("code", ["0180", "1480", "0114"])
def test_kommun_header_grant_share_is_grant_uptake_by_year(app, sql, code):
    (year, applied, rounds, granted, share), = sql(
        "SELECT year, rounds_applied, rounds_with_data, granted_sek, uptake_share FROM grant_uptake_by_year "
        "WHERE municipality_code = ? AND data_level = 'municipality'", [code])
    page = _render(app, _page("kommun"), f"/kommun/{code}", code=code)
    line, = [" ".join(_texts(c)) for c in _find(page, lambda c: "sk-grant-year" in (getattr(c, "className", "") or ""))]
    assert line == (f"{year}: sökte i {applied} av {rounds} potter; beviljat {formats.kr(granted, 0, 'sv')} "
                    f"({formats.percent(100 * share, 0, 'sv')} av ramarna)")


def test_grant_sources_carry_no_note(app, sql):
    sources = {s for (s,) in sql("SELECT DISTINCT source FROM grant_uptake")}
    assert sources == {"Socialstyrelsen 2014, lägesrapport prestationsbidrag värdighetsgarantier, Bilaga 1",
                       "Socialstyrelsen 2014, lägesrapport prestationsbidrag värdighetsgarantier, Tabell 2"}
    page = _render(app, _page("kommun"), "/kommun/0180", code="0180")
    text = " ".join(_texts(page))
    assert "utfall per kommun saknas;" not in text and "(ej sökande)" not in text
    # the note is the catalogue's, once, beside the source with the years
    assert "2011, 2012: utfall per kommun saknas (bara omgångarnas totaler är kända)" in text


# ---------------------------------------------------------------- panel counts and composite n


SUMMARY = re.compile(r"(\d+) nyckeltal\. Bland alla kommuner: (\d+) bland de 25 % bästa, "
                     r"(\d+) mittersta 50 %, (\d+) bland de 25 % sämsta; (\d+) utan riktning")


def _panel_counts(page):
    out = {}
    for p in ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet"):
        section, = _find(page, lambda c, p=p: c.to_plotly_json()["props"].get("aria-labelledby") == f"persp-{p}")
        hits = [SUMMARY.search(x) for x in _texts(section)]
        out[p] = next(tuple(int(v) for v in h.groups()) for h in hits if h)
    return out


@pytest.mark.parametrize("code,year", [("1480", 2013), ("1480", 2009), ("0180", 2012), ("2583", None)])
def test_kommun_panel_counts_are_the_status_counts_mart(app, sql, code, year):
    page = _render(app, _page("kommun"), f"/kommun/{code}", code=code, year=year)
    mart = {p: tuple(n) for p, *n in sql(
        "SELECT perspective, n_kpis, n_best, n_middle, n_worst, n_no_direction FROM scorecard_status_counts "
        "WHERE municipality_code = ? AND year IS NOT DISTINCT FROM ?", [code, year])}
    assert mart and _panel_counts(page) == mart


def test_kommun_panel_counts_without_the_mart_name_it(db_copy):
    con = duckdb.connect(str(db_copy))
    con.execute("DROP VIEW scorecard_status_counts")
    con.close()
    from dashboard.app import create_app

    app = create_app(db_copy)
    text = " ".join(_texts(_render(app, _page("kommun"), "/kommun/1480", code="1480")))
    assert "scorecard_status_counts har inte beräknats i lagret. Kör `styrkort refresh`." in text
    assert "nyckeltal. Bland alla kommuner" not in text


@pytest.mark.parametrize("code", ["0180", "0509"])
def test_composite_rank_of_n_is_the_marts_n(app, sql, built_db, code):
    (year, rank, n, group_rank, group_n), = sql(
        "SELECT year, rank, n_ranked, group_rank, group_n FROM composite_index WHERE municipality_code = ? "
        "QUALIFY year = max(year) OVER ()", [code])
    page = _render(app, _page("kommun"), f"/kommun/{code}", code=code)
    text = " ".join(_texts(page))
    assert f"{rank} av {n}" in text and f"{group_rank} av {group_n} i storleksgruppen" in text
    # the nämndrapport's cover: the same n
    from pypdf import PdfReader

    from dashboard import report as R
    from dashboard.data import get_db

    with app.server.test_request_context("/trender"):
        content, figs = _page("trender").report_content(get_db(built_db), code, [], "sv")
        pdf = R.build_report(content, figs)
    cover = " ".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert f"rang {rank} av {n}, {group_rank} i gruppen ({year})" in cover


# ---------------------------------------------------------------- reconciliation


def test_reconciliation_shows_catalogue_texts_never_check_codes(app, sql):
    from dashboard import components as C

    page = _render(app, _page("statsbidrag"), "/statsbidrag")
    recon = table_rows(page, "statsbidrag-recon")
    meta = _by_id(page, {"type": "sk-dl-meta", "index": "statsbidrag-recon"}).data
    mart = sql('SELECT "check", agreement FROM grant_reconciliation')
    words = {"equal": "ja", "within_1pct": "nästan (inom 1 %)", "differs": "nej", "no_comparison": "kan inte jämföras"}
    assert sorted(r["agrees"] for r in recon) == sorted(words[a] for _c, a in mart)
    shown = json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)
    body = C.table_file(recon, meta, "csv", "sv")[0].decode("utf-8-sig")
    for check, _a in mart:
        assert check not in shown and check not in body, check
    checks = [r["check_text"] for r in recon]
    assert "Övrig kontroll" not in checks                      # every code the grants step writes has a text
    assert "Pott 1 + pott 2 mot tryckt total, Kinda (0513), kr (2013)" in checks
    assert "Återbetalt stimulansbidrag, Stockholm (2012–2013)" in checks
    for code in ("equal", "within_1pct", "differs", "no_comparison"):
        assert code not in body.split(";")


@pytest.mark.parametrize("code", ["0180", "1480", "0509", "2583"])
def test_success_factor_box_follows_the_status_counts_mart(app, sql, code):
    """A perspective is weak when at least half of its rated KPIs are among the worst 25 %: the
    rule applied to the mart's counts (SQL here), never to counts made on the page."""
    weak = {p: rated >= 2 and 2 * worst >= rated for p, rated, worst in sql(
        "SELECT perspective, n_best + n_middle + n_worst, n_worst FROM scorecard_status_counts "
        "WHERE municipality_code = ? AND year IS NULL", [code])}
    page = _render(app, _page("kommun"), f"/kommun/{code}", code=code)
    for p in ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet"):
        section, = _find(page, lambda c, p=p: c.to_plotly_json()["props"].get("aria-labelledby") == f"persp-{p}")
        boxes = list(_find(section, lambda c: "sk-success-factors" in (getattr(c, "className", "") or "")))
        assert bool(boxes) == weak.get(p, False), p


# ---------------------------------------------------------------- /kostnad


def test_kostnad_scatter_line_and_words_are_the_associations_mart(app, sql):
    (year,), = sql("SELECT max(year) FROM quality_associations WHERE test = 'ols_line_cost_deviation'")
    (slope, intercept), = sql("SELECT estimate, intercept FROM quality_associations "
                              "WHERE year = ? AND test = 'ols_line_cost_deviation'", [year])
    (r, p), = sql("SELECT estimate, p_value FROM quality_associations "
                  "WHERE year = ? AND test = 'pearson_cost_deviation'", [year])
    page = _render(app, _page("kostnad"), "/kostnad", year=year)
    words = " ".join(_texts(_by_id(page, "kostnad-words")))
    assert f"r = {formats.number(r, 2, 'sv')}" in words
    p_shown = "p < 0,001" if p < 0.001 else f"p = {formats.number(p, 2 if p >= 0.01 else 3, 'sv')}"
    assert p_shown in words
    fig = _by_id(page, "kostnad-scatter").figure          # the screen variant: words above it as text
    line, = [tr for tr in fig["data"] if tr.get("mode") == "lines"]
    xs, ys = trace_values(line["x"]), trace_values(line["y"])
    assert len(xs) == 2
    for x, y in zip(xs, ys):
        assert y == pytest.approx(intercept + slope * x, rel=1e-12)


# ---------------------------------------------------------------- /urval Tabell 1


def test_urval_table1_is_the_selection_mart(db_copy):
    """/urval's Tabell 1 for the default selection comes from the selection_table1 mart: a value
    changed in the mart (here, in a copy) is what the page shows; with a swap no stored run has,
    the page shows the pipeline's count of its own what-if selection instead."""
    from dashboard.app import create_app

    con = duckdb.connect(str(db_copy))
    try:
        year = con.execute("SELECT max(year) FROM composite_index").fetchone()[0]
        con.execute("UPDATE mart_selection_table1 SET ranks = '1,2,3,4,5,999', n = 6 "
                    "WHERE is_default AND year = ? AND size_group = 'small' AND result = 'high'", [year])
    finally:
        con.close()
    app = create_app(db_copy)
    page = _render(app, _page("urval"), "/urval", year=str(year))
    small = next(r for r in table_rows(page, "urval-table1") if r["size_group"] == "Små kommuner")
    assert small["high"] == "1, 2, 3, 4, 5, 999" and small["high_n"] == 6
