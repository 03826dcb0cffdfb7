"""`styrkort import kolada`: the real exports in warehouse/sources/, hand-made variants of the
web-export format, Excel, and recorded API v2/v3 JSON. Expected values are read from the
files independently (csv module) or written by hand here."""
from __future__ import annotations

import hashlib
import json

import pytest

from test_import_common import (  # noqa: F401  (fixtures)
    FIXTURES, SOURCES, cli, query, read_csv_rows, scb_names, snapshot, tiny_wh, wh, write,
)

AGGREGATES = {"Alla kommuner (ovägt medel)", "Kommuner per län"}


def _catalogue_ids(title: str) -> set[str]:
    rows = read_csv_rows(SOURCES / "kolada_kpi_catalogue_2012.csv")
    return {r["Kod"] for r in rows if r["Kortnamn"] == title}


def test_real_cp1252_export(wh):
    """The export as downloaded: Windows-1252, ';', CRLF. Every municipality row lands in
    kpi_values, the aggregate rows in benchmark_values, letters å/ä/ö intact."""
    raw = (SOURCES / "kolada_export_bakgrund_2008_2011_cp1252.csv").read_bytes()
    assert b"\r\n" in raw and b"\xe4" in raw            # really CRLF + cp1252 'ä'
    rows = read_csv_rows(SOURCES / "kolada_export_bakgrund_2008_2011_cp1252.csv", "cp1252", ";")
    agg = [r for r in rows if r["Kommun/Landsting"] in AGGREGATES]
    assert agg and len(rows) - len(agg) > 13000

    r = cli("import", "kolada", SOURCES / "kolada_export_bakgrund_2008_2011_cp1252.csv", "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT count(*) FROM kpi_values")[0][0] == len(rows) - len(agg)
    assert query(wh, "SELECT count(*) FROM benchmark_values")[0][0] == len(agg)

    # One value checked end to end: Ale's median net income 2009 (title -> N00905 via catalogue).
    names = scb_names()
    row = next(r for r in rows if r["Kommun/Landsting"] == "Ale" and r["Nyckeltal"] == "Mediannettoinkomst, kr/inv 20+"
               and r["År"] == "2009")
    assert _catalogue_ids("Mediannettoinkomst, kr/inv 20+") == {"N00905"}
    got = query(wh, "SELECT value FROM kpi_values WHERE kpi_id = 'N00905' AND municipality_code = ? AND year = 2009",
                [names["Ale"]])
    assert got == [(float(row["Visat Värde"]),)]
    # A title with two catalogue ids (municipal N00919 and county-council N60932) takes the municipal one.
    assert _catalogue_ids("Arbetslöshet, (%)") == {"N00919", "N60932"}
    assert query(wh, "SELECT count(*) FROM kpi_values WHERE kpi_id = 'N60932'")[0][0] == 0
    assert query(wh, "SELECT count(*) FROM kpi_values WHERE kpi_id = 'N00919'")[0][0] > 0
    # Title not in the catalogue -> new KPI X_<sha1[:8]>, warned about, title kept (ö intact).
    title = "Utpendlingsomfattning i kommunen, (%)"
    kid = "X_" + hashlib.sha1(title.encode()).hexdigest()[:8]
    assert query(wh, "SELECT title FROM kpis WHERE kpi_id = ?", [kid]) == [(title,)]
    assert kid in r.output
    # The summary names the counts.
    assert str(len(rows) - len(agg)) in r.output
    log = query(wh, "SELECT kind, inserted, updated, benchmark_rows, sha256 FROM import_log")
    assert log == [("kolada", len(rows) - len(agg), 0, len(agg), hashlib.sha256(raw).hexdigest())]


def test_real_r_style_export(wh):
    """The quoted R-style re-save: row-number column, 'Kommun.Landsting', 'Visat.Värde'.
    'Kommuner per län' and 'Alla kommuner (ovägt medel)' are benchmarks, never municipalities."""
    path = SOURCES / "kolada_export_aldreomsorg_2008_2011.csv"
    rows = read_csv_rows(path)
    by_name = [r for r in rows if r["Kommun.Landsting"] not in AGGREGATES]
    agg = [r for r in rows if r["Kommun.Landsting"] in AGGREGATES]
    r = cli("import", "kolada", path, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT count(*) FROM kpi_values")[0][0] == len(by_name)
    bench = dict(query(wh, "SELECT benchmark, count(*) FROM benchmark_values GROUP BY 1"))
    assert bench == {"Alla kommuner (ovägt medel)": sum(r["Kommun.Landsting"] == "Alla kommuner (ovägt medel)" for r in agg),
                     "Kommuner per län": sum(r["Kommun.Landsting"] == "Kommuner per län" for r in agg)}
    # A value: 'Invånare 65+ i särskilda boendeformer, andel (%)' is N23890 in the catalogue.
    assert _catalogue_ids("Invånare 65+ i särskilda boendeformer, andel (%)") == {"N23890"}
    one = next(x for x in by_name if x["Nyckeltal"].startswith("Invånare 65+ i särskilda") and x["År"] == "2010")
    code = scb_names()[one["Kommun.Landsting"]]
    assert query(wh, "SELECT value FROM kpi_values WHERE kpi_id='N23890' AND municipality_code=? AND year=2010",
                 [code]) == [(float(one["Visat.Värde"]),)]
    alla = next(x for x in agg if x["Kommun.Landsting"] == "Alla kommuner (ovägt medel)"
                and x["Nyckeltal"].startswith("Invånare 65+ i särskilda") and x["År"] == "2008")
    assert query(wh, "SELECT value FROM benchmark_values WHERE kpi_id='N23890' AND benchmark='Alla kommuner (ovägt medel)' "
                     "AND year=2008") == [(float(alla["Visat.Värde"]),)]


def test_real_long_extract_and_reimport_changes_nothing(wh):
    path = SOURCES / "kolada_extract_1998_2011.csv"
    rows = read_csv_rows(path)
    r = cli("import", "kolada", path, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT count(*) FROM kpi_values")[0][0] == len(rows)
    stockholm = next(x for x in rows if x["Variabelkod"] == "N20014" and x["Kommun"] == "Stockholm" and x["År"] == "2010")
    assert query(wh, "SELECT value FROM kpi_values WHERE kpi_id='N20014' AND municipality_code='0180' AND year=2010") \
        == [(float(stockholm["Värde"]),)]
    before = snapshot(wh)
    r2 = cli("import", "kolada", path, "--db", wh)
    assert r2.exit_code == 0, r2.output
    after = snapshot(wh)
    log = query(wh, "SELECT inserted, updated FROM import_log ORDER BY imported_at")
    assert log[-1] == (0, 0)
    before.pop("import_log"), after.pop("import_log")
    assert before == after


def test_web_export_variants_by_hand(wh):
    """UTF-8 with BOM, ',' separator, quoted, CRLF, columns in another order, a Kön column,
    decimal comma and point, Kolada's missing markers, a name as Kolada writes it."""
    text = ("\ufeff\"År\",\"Visat Värde\",\"Kön\",\"Nyckeltal\",\"Kommun/Landsting\"\r\n"
            "\"2010\",\"12,5\",\"Totalt\",\"Nettokostnad äldreomsorg, kr/inv\",\"Malung-Sälen\"\r\n"
            "\"2010\",\"13.25\",\"Kvinnor\",\"Nettokostnad äldreomsorg, kr/inv\",\"Malung-Sälen\"\r\n"
            "\"2010\",\"..\",\"Män\",\"Nettokostnad äldreomsorg, kr/inv\",\"Malung-Sälen\"\r\n"
            "\"2011\",\"\",\"Totalt\",\"N20014\",\"Upplands Väsby\"\r\n"
            "\"2011\",\"-\",\"Totalt\",\"N20014\",\"0180\"\r\n"
            "\"2011\",\"x\",\"Totalt\",\"N20014\",\"1480\"\r\n"
            "\"2011\",\"NA\",\"Totalt\",\"N20014\",\"1440\"\r\n"
            "\"2011\",\"7\",\"Totalt\",\"N20014\",\"Alla kommuner (ovägt medel)\"\r\n")
    f = write(wh.parent / "export.csv", text)
    assert _catalogue_ids("Nettokostnad äldreomsorg, kr/inv") == {"N20014"}
    r = cli("import", "kolada", f, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT kpi_id, municipality_code, year, gender, value FROM kpi_values")) == [
        ("N20014", "2023", 2010, "K", 13.25), ("N20014", "2023", 2010, "T", 12.5)]
    assert query(wh, "SELECT kpi_id, benchmark, year, value FROM benchmark_values") == [
        ("N20014", "Alla kommuner (ovägt medel)", 2011, 7.0)]
    assert query(wh, "SELECT skipped, benchmark_rows FROM import_log") == [(5, 1)]


def test_semicolon_unquoted_cp1252_with_en_dash(wh):
    """Windows-1252's en dash (0x96) is not Latin-1: the title must survive as '–'."""
    title = "Brukarbedömning – test, andel (%)"
    text = "Kommun/Landsting;Nyckeltal;År;Visat Värde\r\nÖrebro;" + title + ";2012;55,5\r\n"
    f = write(wh.parent / "cp.csv", text.encode("cp1252"))
    r = cli("import", "kolada", f, "--db", wh)
    assert r.exit_code == 0, r.output
    kid = "X_" + hashlib.sha1(title.encode()).hexdigest()[:8]
    assert query(wh, "SELECT title FROM kpis WHERE kpi_id = ?", [kid]) == [(title,)]
    assert query(wh, "SELECT municipality_code, value FROM kpi_values") == [("1880", 55.5)]


def test_existing_key_with_new_value_is_an_update(wh):
    f1 = write(wh.parent / "a.csv", "Variabelkod,Kommun,År,Värde\nN20014,Ale,2010,100\nN20014,Alingsås,2010,200\n")
    f2 = write(wh.parent / "b.csv", "Variabelkod,Kommun,År,Värde\nN20014,Ale,2010,150\nN20014,Alingsås,2010,200\n"
                                    "N20014,Arvika,2010,300\n")
    assert cli("import", "kolada", f1, "--db", wh).exit_code == 0
    r = cli("import", "kolada", f2, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT municipality_code, value, source FROM kpi_values")) == [
        ("1440", 150.0, "Kolada (fil: b.csv)"), ("1489", 200.0, "Kolada (fil: a.csv)"), ("1784", 300.0, "Kolada (fil: b.csv)")]
    assert query(wh, "SELECT inserted, updated, skipped FROM import_log ORDER BY imported_at")[-1] == (1, 1, 0)


def test_identical_duplicate_rows_are_skipped_not_errors(wh):
    f = write(wh.parent / "d.csv", "Variabelkod,Kommun,År,Värde\nN20014,Ale,2010,100\nN20014,1440,2010,100.0\n")
    r = cli("import", "kolada", f, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT value FROM kpi_values") == [(100.0,)]
    assert query(wh, "SELECT inserted, skipped FROM import_log") == [(1, 1)]


@pytest.mark.parametrize("seed", range(6))
def test_neighbouring_keys_are_distinct_and_repeats_are_skipped(wh, seed):
    """Keys that differ only in gender, year, municipality or KPI are all stored; a row
    repeated with the same value (in any order, even written as the code instead of the
    name) is skipped and counted. Reference: a Python set of the keys."""
    import random

    rnd = random.Random(seed)
    names = scb_names()
    areas = rnd.sample(sorted(names), 3)
    keys = [(k, a, y, g) for k in ("N20014", "N00905", "N00919") for a in areas
            for y in (2010, 2011, 2013) for g in "TKM"]
    chosen = rnd.sample(keys, rnd.randint(2, len(keys)))
    rows = chosen + [rnd.choice(chosen) for _ in range(rnd.randint(0, 30))]
    rnd.shuffle(rows)
    value = {key: float(i) for i, key in enumerate(keys)}
    lines = [f"{k};{rnd.choice([a, names[a]])};{y};{g};{value[(k, a, y, g)]}" for k, a, y, g in rows]
    f = write(wh.parent / "grid.csv", "Variabelkod;Kommun;År;Kön;Värde\n" + "\n".join(lines) + "\n")
    r = cli("import", "kolada", f, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT kpi_id, municipality_code, year, gender, value FROM kpi_values")) == sorted(
        (k, names[a], y, g, value[(k, a, y, g)]) for k, a, y, g in set(rows))
    assert query(wh, "SELECT inserted, skipped FROM import_log") == [(len(set(rows)), len(rows) - len(set(rows)))]


def test_xlsx_with_title_row(wh):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Kolada – export 2012-03-01"])          # a title row above the header
    ws.append(["Kommun/Landsting", "Nyckeltal", "År", "Visat Värde"])
    ws.append(["Göteborg", "N20014", 2010, 9100.5])
    ws.append(["Stockholm", "N20014", 2010.0, "9 200,25"])
    ws.append(["Riket", "N20014", 2010, 8000])
    path = wh.parent / "export.xlsx"
    wb.save(path)
    r = cli("import", "kolada", path, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT municipality_code, year, value FROM kpi_values")) == [
        ("0180", 2010, 9200.25), ("1480", 2010, 9100.5)]
    assert query(wh, "SELECT benchmark, value FROM benchmark_values") == [("Riket", 8000.0)]


def test_xls(wh):
    xlwt = pytest.importorskip("xlwt")
    book = xlwt.Workbook()
    sh = book.add_sheet("Kolada")
    for i, row in enumerate([["Kommun/Landsting", "Nyckeltal", "År", "Visat Värde"],
                             ["Ale", "N20014", 2011, 5000.0], ["Arvika", "N20014", 2011, "x"]]):
        for j, v in enumerate(row):
            sh.write(i, j, v)
    path = wh.parent / "export.xls"
    book.save(str(path))
    r = cli("import", "kolada", path, "--db", wh)
    assert r.exit_code == 0, r.output
    assert query(wh, "SELECT municipality_code, year, value FROM kpi_values") == [("1440", 2011, 5000.0)]
    assert query(wh, "SELECT skipped FROM import_log") == [(1,)]


def test_api_v2_json(wh):
    r = cli("import", "kolada", FIXTURES / "kolada_v2_data.json", "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT municipality_code, year, gender, value FROM kpi_values")) == [
        ("0180", 2010, "T", 9876.25), ("1440", 2010, "T", 7123.5)]
    assert query(wh, "SELECT benchmark, value FROM benchmark_values") == [("Riket", 8100.0)]
    assert query(wh, "SELECT skipped FROM import_log") == [(2,)]       # two null values


def test_api_v3_json_pages(wh):
    """Two recorded v3 pages saved as a list (as `fetch kolada` does), plus K/M genders and a
    municipality-group id (a benchmark)."""
    pages = [json.loads((FIXTURES / n).read_text(encoding="utf-8")) for n in ("kolada_v3_page1.json", "kolada_v3_page2.json")]
    f = write(wh.parent / "pages.json", json.dumps(pages))
    r = cli("import", "kolada", f, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT municipality_code, gender, value FROM kpi_values")) == [
        ("1480", "K", 17.9), ("1480", "M", 12.4), ("1480", "T", 15.2), ("2023", "T", 26.1)]
    assert query(wh, "SELECT benchmark, value FROM benchmark_values") == [("Kommungrupp G124026", 19.75)]
    # A single page file works too.
    r = cli("import", "kolada", FIXTURES / "kolada_v3_page2.json", "--db", wh)
    assert r.exit_code == 0 and query(wh, "SELECT inserted, updated FROM import_log ORDER BY imported_at")[-1] == (0, 0)


def test_import_kolada_in_callers_transaction(tiny_wh, tmp_path):
    """As the build uses it: no commit or rollback of its own, the caller decides."""
    import shutil

    import duckdb

    from warehouse.importers.kolada import import_kolada

    db = tmp_path / "w.duckdb"
    shutil.copy(tiny_wh, db)
    con = duckdb.connect(str(db))
    con.execute("BEGIN")
    s = import_kolada(con, [FIXTURES / "kolada_v2_data.json"], source="test")
    assert (s.inserted, s.benchmark_rows) == (2, 1)
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM kpi_value").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'temp'").fetchone()[0] == 0
    con.close()


def test_several_files_of_different_kinds_in_one_command(wh):
    """JSON v2 + JSON v3 page + an xlsx in ONE command: one batch, one transaction."""
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["Kommun", "Nyckeltal", "År", "Värde"])
    wb.active.append(["Arvika", "N20014", 2010, 1.5])
    x = wh.parent / "one.xlsx"
    wb.save(x)
    r = cli("import", "kolada", FIXTURES / "kolada_v2_data.json", FIXTURES / "kolada_v3_page2.json", x, "--db", wh)
    assert r.exit_code == 0, r.output
    assert sorted(query(wh, "SELECT municipality_code, kpi_id, value FROM kpi_values")) == [
        ("0180", "N20014", 9876.25), ("1440", "N20014", 7123.5), ("1784", "N20014", 1.5), ("2023", "N01960", 26.1)]
    assert [row[0] for row in query(wh, "SELECT file FROM import_log ORDER BY file")] == sorted(
        [str(FIXTURES / "kolada_v2_data.json"), str(FIXTURES / "kolada_v3_page2.json"), str(x)])
