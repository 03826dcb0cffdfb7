"""`styrkort import indicators` (long CSV + META) and `fetch kolada` on recorded responses
(the HTTP getter is injected: no network)."""
from __future__ import annotations

import json

import pytest

from test_import_common import FIXTURES, cli, query, snapshot, tiny_wh, wh, write  # noqa: F401


def test_indicators_with_meta(wh):
    r = cli("import", "indicators", FIXTURES / "indicators_long.csv", "--kpis", FIXTURES / "indicators_meta.csv", "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT kpi_id, title, higher_is_better, area, perspective, unit, is_demo FROM kpis "
                            "WHERE kpi_id LIKE 'OJ_%'")) == [
        ("OJ_HT_HELHET", "Brukarbedömning hemtjänst – helhetssyn, andel (%)", True, "Brukarbedömning", "omsorgstagare", "%", False),
        ("OJ_SJUK", "Sjukfrånvaro undersköterskor, (%)", False, "Medarbetare", "medarbetare", "%", False)]
    # Values by hand from fixtures/indicators_long.csv: decimal comma, empty gender = T, '..' skipped,
    # N20014 (in Kolada's catalogue, not in META) gets a kpi row from the catalogue.
    assert sorted(query(wh, "SELECT municipality_code, kpi_id, year, gender, value FROM kpi_values")) == [
        ("0114", "N20014", 2012, "T", 8200.0), ("0180", "OJ_HT_HELHET", 2012, "T", 88.5),
        ("1440", "OJ_SJUK", 2012, "T", 7.25), ("1480", "OJ_HT_HELHET", 2012, "T", 91.2)]
    assert query(wh, "SELECT title FROM kpis WHERE kpi_id = 'N20014'") == [("Nettokostnad äldreomsorg, kr/inv",)]
    assert query(wh, "SELECT inserted, skipped FROM import_log") == [(4, 1)]


def test_indicators_unknown_kpi_without_meta(wh):
    before = snapshot(wh)
    r = cli("import", "indicators", FIXTURES / "indicators_long.csv", "--db", wh)
    assert r.exit_code != 0
    out = " ".join(r.output.split())
    assert "indicators_long.csv, rad (line) 2:" in out and "unknown KPI" in out and "'OJ_HT_HELHET'" in out
    assert snapshot(wh) == before
    r = cli("import", "indicators", FIXTURES / "indicators_long.csv", "--allow-unmapped", "--db", wh)
    assert r.exit_code == 0
    assert query(wh, "SELECT kpi_id, value FROM kpi_values") == [("N20014", 8200.0)]
    assert "OJ_HT_HELHET" in r.output and "OJ_SJUK" in r.output


def test_indicators_bad_meta(wh):
    meta = write(wh.parent / "meta.csv", "kpi_id,title,higher_is_better,area,perspective\nA1,Titel,kanske,Område,\n")
    data = write(wh.parent / "d.csv", "municipality_code,kpi_id,year,value\n0180,A1,2012,1\n")
    before = snapshot(wh)
    r = cli("import", "indicators", data, "--kpis", meta, "--db", wh)
    assert r.exit_code != 0
    out = " ".join(r.output.split())
    assert "meta.csv, rad (line) 2:" in out and "invalid boolean" in out
    meta2 = write(wh.parent / "meta2.csv", "kpi_id,title,higher_is_better,area,perspective\nA1,Titel,true,Område,kunder\n")
    r = cli("import", "indicators", data, "--kpis", meta2, "--db", wh)
    assert r.exit_code != 0 and "invalid perspective" in " ".join(r.output.split())
    # A valid META but a bad data file: the META's KPI is not kept either (one transaction).
    meta3 = write(wh.parent / "meta3.csv", "kpi_id,title,higher_is_better,area\nA1,Titel,true,Område\n")
    bad = write(wh.parent / "bad.csv", "municipality_code,kpi_id,year,value\n9999,A1,2012,1\n")
    r = cli("import", "indicators", bad, "--kpis", meta3, "--db", wh)
    assert r.exit_code != 0 and "unknown municipality" in " ".join(r.output.split())
    assert snapshot(wh) == before


def test_indicators_reject_aggregate_rows(wh):
    data = write(wh.parent / "d.csv", "municipality_code,kpi_id,year,value\nRiket,N20014,2012,1\n")
    r = cli("import", "indicators", data, "--db", wh)
    assert r.exit_code != 0 and "aggregate row not allowed" in " ".join(r.output.split())


# ------------------------------------------------------------------------------------- fetch

def _recorded(url: str) -> bytes:
    if "page=2" in url:
        return (FIXTURES / "kolada_v3_page2.json").read_bytes()
    assert url == "https://api.kolada.se/v3/data/kpi/N01960/year/2011", url
    return (FIXTURES / "kolada_v3_page1.json").read_bytes()


def test_fetch_follows_pages_and_imports(wh, tmp_path):
    from warehouse.importers.fetch import fetch_kolada, save_pages
    from warehouse.importers.kolada import import_kolada

    seen = []
    pages = fetch_kolada(["N01960"], [2011], getter=lambda u: (seen.append(u), _recorded(u))[1])
    assert len(pages) == 2 and seen[1].endswith("page=2&per_page=2")
    path = save_pages(pages, tmp_path / "out" / "n01960.json")
    import duckdb

    con = duckdb.connect(str(wh))
    con.execute("BEGIN")
    s = import_kolada(con, [path])
    con.execute("COMMIT")
    con.close()
    assert (s.inserted, s.benchmark_rows) == (4, 1)


def test_fetch_url_and_years():
    from warehouse.importers.fetch import FetchError, build_url, parse_years

    assert parse_years("2008-2010,2012") == [2008, 2009, 2010, 2012]
    with pytest.raises(FetchError):
        parse_years("tjugo")
    assert build_url(["N20014", "N20028"], [2010, 2011], ["0180"], api="v2") == \
        "http://api.kolada.se/v2/data/kpi/N20014,N20028/municipality/0180/year/2010,2011"


def test_fetch_v2_next_page_and_bad_response():
    from warehouse.importers.fetch import FetchError, fetch_kolada

    page1 = json.loads((FIXTURES / "kolada_v2_data.json").read_text(encoding="utf-8"))
    page1["next_page"] = "http://api.kolada.se/v2/data/kpi/N20014/year/2010?page=2"
    page2 = dict(page1, next_page=None, values=[])
    calls = []

    def getter(url):
        calls.append(url)
        return json.dumps(page2 if "page=2" in url else page1).encode()

    pages = fetch_kolada(["N20014"], [2010], api="v2", getter=getter)
    assert len(pages) == 2 and calls[0] == "http://api.kolada.se/v2/data/kpi/N20014/year/2010"
    with pytest.raises(FetchError, match="not JSON"):
        fetch_kolada(["N20014"], [2010], getter=lambda u: b"<html>404</html>")
