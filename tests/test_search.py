"""Forgiving search (dashboard/search.py): folding, tiers and ranking on hand-made entries and
on the real municipality list."""
from __future__ import annotations

import csv

import pytest

from dashboard.search import (CODE_PREFIX, CONTAINS, EXACT_CODE, EXACT_NAME, NAME_PREFIX, NEAR, WORD_PREFIX,
                              fold, search, search_entries)
from tests.conftest import SOURCES

MUNIS = [("1480", "Göteborg"), ("0509", "Ödeshög"), ("1280", "Malmö"), ("2023", "Malung-Sälen"),
         ("2418", "Malå"), ("0114", "Upplands Väsby"), ("0180", "Stockholm"), ("0513", "Kinda")]
UNITS = [("U1", "Hemtjänst Linnéstaden", "Göteborg"), ("U2", "Äldreboende Malmgården", "Malmö")]


@pytest.fixture(scope="module")
def entries():
    return search_entries(MUNIS, UNITS)


def names(hits):
    return [h.entry.name for h in hits]


@pytest.mark.parametrize("text,folded", [
    ("Göteborg", "goteborg"), ("ÖDESHÖG", "odeshog"), ("Malung-Sälen", "malung salen"),
    ("  Upplands   Väsby ", "upplands vasby"), ("Malå", "mala"), ("Ærø–Øst", "aero ost"), ("", ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize("query,first,tier", [
    ("goteborg", "Göteborg", EXACT_NAME),
    ("GÖTEBORG", "Göteborg", EXACT_NAME),
    ("odeshog", "Ödeshög", EXACT_NAME),
    ("malmo", "Malmö", EXACT_NAME),
    ("malu", "Malung-Sälen", NAME_PREFIX),
    ("malung salen", "Malung-Sälen", EXACT_NAME),
    ("salen", "Malung-Sälen", WORD_PREFIX),
    ("upp vas", "Upplands Väsby", WORD_PREFIX),
    ("0509", "Ödeshög", EXACT_CODE),
    ("Ödeshög (0509)", "Ödeshög", EXACT_CODE),
    ("linne", "Hemtjänst Linnéstaden", WORD_PREFIX),
    ("gotebrog", "Göteborg", NEAR),
])
def test_first_hit(entries, query, first, tier):
    hits = search(entries, query)
    assert hits, query
    assert hits[0].entry.name == first
    assert hits[0].tier == tier


def test_ranking_prefix_before_contains_and_municipalities_before_units(entries):
    # "mal": Malå, Malmö, Malung-Sälen begin with it (shorter names first); the unit
    # "Äldreboende Malmgården" has a word beginning with it and comes after.
    assert names(search(entries, "mal")) == ["Malå", "Malmö", "Malung-Sälen", "Äldreboende Malmgården"]
    # "borg" only inside a name
    hits = search(entries, "borg")
    assert names(hits) == ["Göteborg"] and hits[0].tier == CONTAINS


def test_code_prefix_lists_codes(entries):
    hits = search(entries, "05")
    assert sorted(names(hits)) == ["Kinda", "Ödeshög"]
    assert {h.tier for h in hits} == {CODE_PREFIX}


def test_nothing_and_limit(entries):
    assert search(entries, "Atlantis") == []
    assert search(entries, "   ") == []
    assert search(entries, None) == []
    assert len(search(entries, "m", limit=3)) == 3


def test_unit_hits_carry_their_id_and_municipality(entries):
    hit = search(entries, "linnestaden")[0]
    assert (hit.entry.kind, hit.entry.key, hit.entry.detail) == ("unit", "U1", "Göteborg")


def test_real_names_the_issue_asks_for():
    """The four queries of the issue on the shipped list of 290 municipalities."""
    with open(SOURCES / "scb_municipality_panel.csv", encoding="utf-8", newline="") as f:
        rows = {(r["municip_code"], r["municip_name"]) for r in csv.DictReader(f)}
    entries = search_entries(sorted(rows))
    assert len({e.key for e in entries}) == 290
    for query, name in [("goteborg", "Göteborg"), ("odeshog", "Ödeshög"), ("malu", "Malung-Sälen"),
                        ("0509", "Ödeshög"), ("malmo", "Malmö")]:
        assert search(entries, query)[0].entry.name == name, query
