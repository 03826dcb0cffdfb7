"""The embedded default warehouse answers through its public views with the real sources.

Expectations come from the source files read with the csv module, or from hand checks
against the files (noted beside each case), never from the loader's own output."""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from _warehouse import SOURCES, con, layer_db, read_rows  # noqa: F401  (fixtures)

from warehouse.loaders import SourceError, load_kolada_extract, parse_provenance, parse_unit


# --------------------------------------------------------------------------- municipalities

def test_290_municipalities_with_4_digit_text_codes(con):
    rows = con.execute("SELECT municipality_code, name, county_code, county_name FROM municipalities").fetchall()
    assert len(rows) == 290
    assert all(re.fullmatch(r"\d{4}", code) for code, *_ in rows)
    assert all(re.fullmatch(r"\d{2}", county) for _, _, county, _ in rows)
    by_code = {code: (name, county, county_name) for code, name, county, county_name in rows}
    assert by_code["0180"] == ("Stockholm", "01", "Stockholms län")
    assert by_code["1480"] == ("Göteborg", "14", "Västra Götalands län")
    assert by_code["0980"][0] == "Gotland"
    # Heby moved from Västmanland (19) to Uppsala county (03) in 2007: the latest county counts
    assert by_code["0331"][1:] == ("03", "Uppsala län")
    assert len({county for _, county, _ in by_code.values()}) == 21


def test_names_and_groups_are_the_sources(con):
    panel = {r["municip_code"]: r["municip_name"] for r in read_rows("scb_municipality_panel.csv")}
    skl = {r["municipality_code"]: r["skl_group_2005"] for r in read_rows("skl_kommungrupper_2005.csv")}
    got = {c: (n, g) for c, n, g in con.execute("SELECT municipality_code, name, skl_group_2005 FROM municipalities").fetchall()}
    assert got == {c: (panel[c], skl[c]) for c in panel}


def test_twenty_glesbygd_municipalities(con):
    assert con.execute("SELECT count(*) FROM municipalities WHERE is_glesbygd").fetchall()[0][0] == 20
    assert sum(r["skl_group_2005"] == "Glesbygdskommuner" for r in read_rows("skl_kommungrupper_2005.csv")) == 20


# --------------------------------------------------------------------------- municipality_years

def test_every_municipality_has_every_year_1998_2014(con):
    counts = con.execute(
        "SELECT municipality_code, count(DISTINCT year), min(population) FROM municipality_years "
        "WHERE year BETWEEN 1998 AND 2014 GROUP BY 1"
    ).fetchall()
    assert len(counts) == 290
    assert {n for _, n, _ in counts} == {17}
    assert min(p for *_, p in counts) > 2000     # Bjurholm, the smallest, has ~2 500


@pytest.mark.parametrize("code,year,population,size_group", [
    # hand-read from scb_municipality_panel.csv (panel 2010 = 31 Dec 2009) and skl_kommungrupper_2005.csv
    ("0180", 2009, 829417, "large"),    # Stockholm
    ("2283", 2009, 20442, "small"),     # Sollefteå: Glesbygdskommun with > 12 500 → small
    ("2161", 2009, 19077, "small"),     # Ljusdal: Glesbygdskommun
    ("1737", 2009, 12508, "small"),     # Torsby: 12 508 would be medium, but Glesbygdskommun
    ("0360", 2009, 20044, "medium"),    # Tierp: ~20 000, Varuproducerande kommun
    ("1883", 2009, 29742, "medium"),    # Karlskoga
    ("1730", 2009, 8577, "small"),      # Eda: under 12 500, not glesbygd
])
def test_size_groups_hand_checked(con, code, year, population, size_group):
    got = con.execute(
        "SELECT population, size_group FROM municipality_years WHERE municipality_code = ? AND year = ?",
        [code, year]).fetchall()
    assert got == [(population, size_group)]


# --------------------------------------------------------------------------- Kolada

def test_kolada_n20014_equals_the_source_file(con):
    names = {r["municip_name"]: r["municip_code"] for r in read_rows("scb_municipality_panel.csv")}
    expected = {(names[r["Kommun"]], int(r["År"])): float(r["Värde"])
                for r in read_rows("kolada_extract_1998_2011.csv") if r["Variabelkod"] == "N20014"}
    got = {(c, y): v for c, y, v in con.execute(
        "SELECT municipality_code, year, value FROM kpi_values WHERE kpi_id = 'N20014' AND gender = 'T'").fetchall()}
    assert got == expected
    # one case by eye: Ale 2009, line "N20014,Ale,2009,6303.93516812…" of the extract
    assert got[("1440", 2009)] == pytest.approx(6303.935168, abs=1e-5)


def test_all_35_extract_kpis_loaded_as_real(con):
    ids = {r["Variabelkod"] for r in read_rows("kolada_extract_1998_2011.csv")}
    assert len(ids) == 35
    got = dict(con.execute("SELECT kpi_id, is_demo FROM kpis WHERE kpi_id IN (SELECT UNNEST(?))", [sorted(ids)]).fetchall())
    assert set(got) == ids and not any(got.values())
    # every extract row is in the warehouse, except Knivsta's zero-inhabitant placeholders
    rows = read_rows("kolada_extract_1998_2011.csv")
    placeholders = sum(r["Variabelkod"] in ("N01918", "N01938") and float(r["Värde"]) == 0 for r in rows)
    assert placeholders == 8   # Knivsta 1998–2001 × N01918/N01938 (formed 2003)
    n = con.execute("SELECT count(*) FROM kpi_values WHERE NOT is_demo AND kpi_id IN (SELECT UNNEST(?))", [sorted(ids)]).fetchall()[0][0]
    assert n == len(rows) - placeholders


def test_kpi_metadata(con):
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT kpi_id, title, unit, higher_is_better, perspective, source FROM kpis WHERE NOT is_demo "
        "AND kpi_id NOT IN (SELECT kpi_id FROM unit_kpis)").fetchall()}
    assert rows["N20014"][:4] == ("Nettokostnad äldreomsorg, kr/inv", "kr/inv", None, "ekonomi")
    assert rows["N20028"][1:4] == ("kr/inv 65+", None, "ekonomi")
    assert rows["N20896"][3] == "verksamhet"
    assert rows["N00093"][2:4] == (False, "medarbetare")      # sick leave: lower is better
    assert rows["N01960"][2:4] == (None, None)                # background figure
    assert all(src.startswith("Kolada (RKA)") for *_, src in rows.values())
    # the unit KPIs (Balansen, warehouse/unit_kpis.csv) are definitions, not Kolada data
    unit = con.execute("SELECT count(*), count(DISTINCT perspective), min(source) FROM unit_kpis "
                       "WHERE NOT is_demo").fetchall()[0]
    assert unit[:2] == (12, 4) and "unit_kpis.csv" in unit[2]


def test_value_sources_carry_the_year(con):
    bad = con.execute(
        "SELECT count(*) FROM kpi_values v JOIN kpis k USING (kpi_id) "
        "WHERE NOT v.is_demo AND k.source LIKE '%kolada_extract%' AND v.source <> 'Kolada (RKA), ' || v.year"
    ).fetchall()[0][0]
    assert bad == 0


def test_catalogue_deduplicated(con):
    rows = read_rows("kolada_kpi_catalogue_2012.csv")
    assert len(rows) == 3480
    codes = {r["Kod"]: r["Kortnamn"].strip() for r in rows}
    got = dict(con.execute("SELECT kpi_id, title FROM kpi_catalogue").fetchall())
    assert got == codes
    assert got["N20016"].startswith("Strukturårsjusterad standardkostnad äldreomsorg")


@pytest.mark.parametrize("title,unit", [
    ("Invånare 65+, andel (%)", "%"),
    ("Arbetslöshet, (%)", "%"),
    ("Nettokostnad äldreomsorg, kr/inv", "kr/inv"),
    ("Nettokostnad äldreomsorg, kr/inv 65+", "kr/inv 65+"),
    ("Mediannettoinkomst, kr/inv 20+", "kr/inv 20+"),
    ("U. Anmälda våldsbrott, antal/1000 inv", "antal/1000 inv"),
    ("U. Anmälda brott om skadegörelse per 1 000 inv.", "antal/1000 inv"),
    ("Invånare 65+, antal", "antal"),
    ("U. Nöjd Inflytande Index - Helheten", "index"),
    ("U. Ginikoefficient", None),
])
def test_parse_unit(title, unit):
    assert parse_unit(title) == unit


def test_elderly_care_export_loaded_through_the_importer(con):
    """kolada_export_aldreomsorg_2008_2011.csv goes through helper B's Kolada importer:
    municipality rows to kpi_values (titles mapped via the catalogue), aggregates to benchmarks."""
    rows = read_rows("kolada_export_aldreomsorg_2008_2011.csv")
    aggregates = {"Alla kommuner (ovägt medel)", "Kommuner per län"}
    municipal = [r for r in rows if r["Kommun.Landsting"] not in aggregates]
    # title → id as the 2012 catalogue has it (hand-checked: N23890 and N21890)
    ale = {(r["Nyckeltal"], int(r["År"])): float(r["Visat.Värde"]) for r in municipal if r["Kommun.Landsting"] == "Ale"}
    got = dict(((k, y), v) for k, y, v in con.execute(
        "SELECT kpi_id, year, value FROM kpi_values WHERE municipality_code = '1440' AND kpi_id IN ('N23890', 'N21890')").fetchall())
    assert got[("N23890", 2009)] == pytest.approx(ale[("Invånare 65+ i särskilda boendeformer, andel (%)", 2009)])
    assert got[("N21890", 2010)] == pytest.approx(
        ale[("Invånare 65+ som var beviljade hemtjänst i ordinärt boende, andel (%)", 2010)])
    titles = sorted({r["Nyckeltal"] for r in rows})
    n = con.execute("SELECT count(*) FROM kpi_values v JOIN kpis k USING (kpi_id) WHERE k.title IN (SELECT UNNEST(?))",
                    [titles]).fetchall()[0][0]
    assert n == len(municipal)
    bench = con.execute("SELECT DISTINCT benchmark FROM benchmark_values").fetchall()
    assert {b for (b,) in bench} == aggregates
    meta = con.execute("SELECT DISTINCT unit, perspective, is_demo FROM kpis WHERE title IN (SELECT UNNEST(?))",
                       [titles]).fetchall()
    assert meta == [("%", "verksamhet", False)]


def test_grant_seeds_loaded(con):
    rounds = {r["round"] for r in read_rows("grant_rounds_2011_2013.csv")}
    assert {r for (r,) in con.execute("SELECT DISTINCT round FROM grant_rounds").fetchall()} == rounds
    applicants = {r["municipality_code"] for r in read_rows("grants_2013_by_municipality.csv")}
    got = {c for (c,) in con.execute("SELECT DISTINCT municipality_code FROM grant_awards "
                                     "WHERE round LIKE '2013%' AND applied").fetchall()}
    assert got == applicants and len(got) == 88
    # seed 001: Stockholm returned 3 569 733 kr
    assert con.execute("SELECT returned_sek FROM stimulus_grant_returns WHERE municipality_code = '0180'"
                       ).fetchall() == [(3569733,)]
    files = {f for (f,) in con.execute("SELECT file FROM datasets").fetchall()}
    assert {"warehouse/sources/grants_2013_by_municipality.csv",
            "warehouse/sources/kolada_export_aldreomsorg_2008_2011.csv"} <= files


# --------------------------------------------------------------------------- provenance

def test_datasets_record_files_with_their_checksums(con):
    rows = con.execute("SELECT dataset, file, sha256, source, is_demo FROM datasets").fetchall()
    real = {d: (f, s, src) for d, f, s, src, demo in rows if not demo}
    for name in ("scb_municipality_panel", "skl_kommungrupper_2005", "kolada_extract_1998_2011",
                 "kolada_kpi_catalogue_2012"):
        file, sha, source = real[name]
        assert sha == hashlib.sha256((SOURCES / f"{name}.csv").read_bytes()).hexdigest()
        assert file == f"warehouse/sources/{name}.csv" and source
    assert "mattiasnordin/Regression" in real["scb_municipality_panel"][2]
    assert "Metadata_Kolada.csv" in real["kolada_kpi_catalogue_2012"][2]
    assert any(demo for *_, demo in rows)
    meta = dict(con.execute("SELECT key, value FROM warehouse_meta").fetchall())
    assert meta["schema_version"] and meta["built_from"]


def test_parse_provenance_hand_made():
    text = (
        "| file | what | original source |\n|---|---|---|\n"
        "| a.csv | A | Repo X (data/a.csv) |\n"
        "| b.csv | B | same repository (data/b.csv) |\n\n"
        "| file | from |\n|---|---|\n"
        "| c.csv | Report R, Bilaga 1 (as printed) |\n"
        "| d.csv, e.csv | same report, Tabell 2 |\n"
        "```\n" + "ab" * 32 + "  a.csv\n```\n"
    )
    p = parse_provenance(text)
    assert p.source == {"a.csv": "Repo X (data/a.csv)", "b.csv": "Repo X (data/b.csv)",
                        "c.csv": "Report R, Bilaga 1 (as printed)", "d.csv": "Report R, Tabell 2",
                        "e.csv": "Report R, Tabell 2"}
    assert p.sha256 == {"a.csv": "ab" * 32}


# --------------------------------------------------------------------------- bad input

@pytest.fixture
def bad_sources(tmp_path) -> Path:
    for f in ("scb_municipality_panel.csv", "skl_kommungrupper_2005.csv", "kolada_kpi_catalogue_2012.csv",
              "kolada_extract_1998_2011.csv", "PROVENANCE.md"):
        shutil.copy(SOURCES / f, tmp_path / f)
    return tmp_path


def _fresh_with_municipalities(sources: Path):
    from warehouse.db import apply_schema
    from warehouse.loaders import load_aliases, load_kpi_catalogue, load_municipalities
    from warehouse.names import build_name_index

    c = duckdb.connect()
    apply_schema(c)
    load_municipalities(c, sources)
    load_aliases(c)
    load_kpi_catalogue(c, sources)
    return c, build_name_index(c)


def test_unknown_municipality_name_names_file_and_line(bad_sources):
    path = bad_sources / "kolada_extract_1998_2011.csv"
    lines = path.read_bytes().split(b"\r\n")
    lines[5] = lines[5].replace(b",Ale,", b",Atlantis,")
    path.write_bytes(b"\r\n".join(lines))
    c, index = _fresh_with_municipalities(bad_sources)
    with pytest.raises(SourceError, match=r"kolada_extract_1998_2011\.csv.*'Atlantis' \(line 6\)"):
        load_kolada_extract(c, index, bad_sources)
    assert c.execute("SELECT count(*) FROM kpi_value").fetchall() == [(0,)]


def test_non_numeric_value_names_the_file(bad_sources):
    path = bad_sources / "kolada_extract_1998_2011.csv"
    text = path.read_text(encoding="utf-8").replace("N20014,Ale,1999,5752.0", "N20014,Ale,1999,fem", 1)
    path.write_text(text, encoding="utf-8")
    c, index = _fresh_with_municipalities(bad_sources)
    with pytest.raises(SourceError, match=r"kolada_extract_1998_2011\.csv"):
        load_kolada_extract(c, index, bad_sources)


def test_changed_source_file_fails_its_checksum(bad_sources):
    from warehouse.db import apply_schema
    from warehouse.loaders import load_embedded

    with open(bad_sources / "skl_kommungrupper_2005.csv", "a", encoding="utf-8") as f:
        f.write("9999,Atlantis,Glesbygdskommuner\n")
    c = duckdb.connect()
    apply_schema(c)
    with pytest.raises(SourceError, match=r"skl_kommungrupper_2005\.csv: sha256 .* differs from PROVENANCE"):
        load_embedded(c, bad_sources)


# --------------------------------------------------------------------------- the full build

def test_full_build_answers_through_public_views(built_db):
    c = duckdb.connect(str(built_db), read_only=True)
    try:
        assert c.execute("SELECT count(*) FROM municipalities").fetchall() == [(290,)]
        assert c.execute("SELECT count(DISTINCT municipality_code) FROM municipality_years "
                         "WHERE year = 2014").fetchall() == [(290,)]
        assert c.execute("SELECT count(*) FROM kpi_values WHERE kpi_id = 'N20014'").fetchall()[0][0] > 3000
        mixed = c.execute("SELECT count(*) FROM kpi_values v JOIN kpis k USING (kpi_id) "
                          "WHERE v.is_demo <> k.is_demo").fetchall()[0][0]
        assert mixed == 0
        assert c.execute("SELECT count(*) FROM org_units WHERE is_demo").fetchall()[0][0] >= 5
    finally:
        c.close()
