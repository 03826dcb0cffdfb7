"""Known definition changes (warehouse/kpi_series_breaks.csv): the shipped file loads into the
public view, a bad file is refused with file and line and nothing is written."""
from __future__ import annotations

import duckdb
import pytest

from warehouse.loaders import SourceError
from warehouse.series_breaks import SERIES_BREAKS_CSV, load_series_breaks, read_series_breaks

HEADER = "kpi_id,year,note,source\n"


@pytest.fixture
def con():
    from warehouse.db import apply_schema

    c = duckdb.connect()
    apply_schema(c)
    c.execute("INSERT INTO kpi (kpi_id, title, source) VALUES ('N20896', 't', 's'), ('N20014', 'c', 's')")
    yield c
    c.close()


def test_the_shipped_file_names_n20896_2009_with_its_evidence():
    rows = {(k, y): (n, s) for k, y, n, s in read_series_breaks()}
    note, source = rows[("N20896", 2009)]
    assert "18,7" in note and "23,3" in note           # Göteborg 2008 -> 2009, as in the extract
    assert "kolada_extract_1998_2011.csv" in source


def test_loads_into_the_view_and_again_changes_nothing(con, tmp_path):
    f = tmp_path / "b.csv"
    f.write_text(HEADER + 'N20896,2009,"ny mätning, se not",Kolada\nN20014,2001,ändrad,RS\n', encoding="utf-8")
    assert load_series_breaks(con, f) == 2
    assert load_series_breaks(con, f) == 2
    assert con.execute("SELECT kpi_id, year, note, source FROM kpi_series_breaks ORDER BY kpi_id").fetchall() == [
        ("N20014", 2001, "ändrad", "RS"), ("N20896", 2009, "ny mätning, se not", "Kolada")]


@pytest.mark.parametrize("body, message", [
    ("N20896,2009,a,b\nX999,2010,a,b\n", r"b\.csv, rad \(line\) 3: unknown KPI 'X999'"),
    ("N20896,09,a,b\n", r"rad \(line\) 2: year '09' is not a year"),
    ("N20896,2009,,b\n", r"rad \(line\) 2: note and source are required"),
    ("N20896,2009,a,b\nN20896,2009,c,d\n", r"rad \(line\) 3: N20896 2009 already on line 2"),
    ("N20896,2009,a\n", r"rad \(line\) 2: 3 fields, expected 4"),
])
def test_a_bad_file_is_refused_with_its_line_and_nothing_written(con, tmp_path, body, message):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "N20014,2001,x,y\n", encoding="utf-8")
    load_series_breaks(con, good)
    f = tmp_path / "b.csv"
    f.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        load_series_breaks(con, f)
    assert con.execute("SELECT kpi_id, year FROM kpi_series_breaks").fetchall() == [("N20014", 2001)]


def test_a_wrong_header_is_refused(con, tmp_path):
    f = tmp_path / "b.csv"
    f.write_text("kpi,year,note\nN20896,2009,a\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"b\.csv, rad \(line\) 1: the header must be kpi_id,year,note,source"):
        load_series_breaks(con, f)


def test_the_shipped_file_exists_next_to_the_loader():
    assert SERIES_BREAKS_CSV.name == "kpi_series_breaks.csv" and SERIES_BREAKS_CSV.exists()
