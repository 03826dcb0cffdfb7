"""Municipality name resolution (warehouse/names.py) on hand-made cases and on every name
written in the shipped real sources."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from warehouse.names import candidates, is_aggregate, make_index, normalise, read_alias_file, resolve

SOURCES = Path(__file__).resolve().parent.parent / "warehouse" / "sources"


def _scb_names() -> dict[str, str]:
    with open(SOURCES / "scb_municipality_panel.csv", encoding="utf-8", newline="") as f:
        return {r["municip_code"]: r["municip_name"] for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def index():
    return make_index(_scb_names(), read_alias_file())


def test_normalise_and_candidates():
    assert normalise("  Upplands-Väsby\u00a0 ") == "upplands väsby"
    assert normalise("MALUNG–SÄLEN") == "malung sälen"
    assert candidates("Arjeplogs kommun") == ["arjeplogs kommun", "arjeplogs", "arjeplog"]
    assert candidates("Region Gotland")[-1] == "gotland"


@pytest.mark.parametrize("name,code", [
    ("Stockholm", "0180"), ("Stockholms stad", "0180"), ("0180", "0180"), ("180", "0180"),
    ("0180 Stockholm", "0180"), ("Göteborgs Stad", "1480"), ("Region Gotland", "0980"),
    ("Falu kommun", "2080"), ("Malung", "2023"), ("Malung-Sälen", "2023"),
    ("Upplands Väsby", "0114"), ("upplands-väsby", "0114"), ("Alingsås kommun", "1489"),
    ("Arjeplogs kommun", "2506"), ("Mölndals stad", "1481"), ("Hofors kommun", "2104"),
    ("Östra Göinge", "1256"), ("Dals-Ed", "1438"),
])
def test_resolve_hand_cases(index, name, code):
    assert resolve(name, index) == code


@pytest.mark.parametrize("name", ["Atlantis", "", "9999", "Stockholms län", "Kommun"])
def test_unknown_names_do_not_resolve(index, name):
    assert resolve(name, index) is None


def test_index_rejects_conflicts():
    with pytest.raises(ValueError, match="maps to both"):
        make_index({"0001": "A", "0002": "B"}, {"a": "0002"})
    with pytest.raises(ValueError, match="unknown municipality code"):
        make_index({"0001": "A"}, {"X": "9999"})


@pytest.mark.parametrize("name", [
    "Alla kommuner (ovägt medel)", "Stockholms län (ovägt medel)", "Kommuner per län",
    "Riket", "Alla kommuner (vägt medel)", "Region Skåne", "Stockholms läns landsting",
])
def test_aggregates(index, name):
    assert is_aggregate(name) and is_aggregate(name, index)


def test_no_municipality_is_an_aggregate(index):
    names = list(_scb_names().values()) + list(read_alias_file())
    assert [n for n in names if is_aggregate(n)] == []


def _column(path, column, encoding="utf-8", delimiter=","):
    with open(SOURCES / path, encoding=encoding, newline="") as f:
        return {row[column] for row in csv.DictReader(f, delimiter=delimiter)}


@pytest.mark.parametrize("path,column,encoding,delimiter,aggregates", [
    ("kolada_extract_1998_2011.csv", "Kommun", "utf-8", ",", set()),
    ("kolada_export_aldreomsorg_2008_2011.csv", "Kommun.Landsting", "utf-8", ",",
     {"Alla kommuner (ovägt medel)", "Kommuner per län"}),
    ("kolada_export_bakgrund_2008_2011_cp1252.csv", "Kommun/Landsting", "cp1252", ";",
     {"Alla kommuner (ovägt medel)"}),
    ("grants_2013_by_municipality.csv", "name_in_source", "utf-8", ",", set()),
])
def test_every_real_source_name_maps(index, path, column, encoding, delimiter, aggregates):
    names = _column(path, column, encoding, delimiter)
    unmapped = {n for n in names if resolve(n, index) is None}
    assert unmapped == aggregates
    assert {n for n in names if is_aggregate(n, index)} == aggregates


def test_grant_names_map_to_the_printed_codes(index):
    with open(SOURCES / "grants_2013_by_municipality.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 88
    assert all(resolve(r["name_in_source"], index) == r["municipality_code"] for r in rows)
