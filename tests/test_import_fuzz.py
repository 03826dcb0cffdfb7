"""Property-based import fuzz (hypothesis): files generated from a grammar of valid Kolada rows
(municipality by code, name or both; KPI id in any case; years 1990..next year; genders as
letters or words; values with decimal comma or point, thousands spaces, %; missing markers) in
CSV (separators, quoting, encodings, any line ends), .xlsx and JSON, with at most one mutation
(a year with a fraction or out of range, a value that is not a finite number, a code with another
municipality's name, an unknown municipality, a conflicting duplicate, a bad gender, an
over-long field, a broken byte). Either the import is exactly the generated truth, or it is
refused naming the file and the mutated row's line; the warehouse is then as before."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_import_common import rules_warehouse, tiny_wh  # noqa: F401  (fixtures)
from warehouse.importers.common import ImportFailure
from warehouse.importers.kolada import import_kolada

NEXT_YEAR = dt.date.today().year + 1
MUNICIPALITIES = [("0114", "Upplands Väsby"), ("2023", "Malung-Sälen"), ("1480", "Göteborg"), ("1880", "Örebro"),
                  ("1440", "Ale"), ("0180", "Stockholm")]
KPIS = ["N20014", "N00905"]
GENDER_TEXT = {"T": ["T", "Totalt", ""], "K": ["K", "Kvinnor"], "M": ["M", "Män"]}
BAD_VALUES = ["12abc", "1_000", "inf", "-Infinity", "nan", "--5", "1,2,3", "0x1A", "5 5 %%", "1e400", "2024-05-01", "e5"]


@dataclass
class Row:
    area: str
    kpi: str
    year: str
    gender: str
    value: str
    truth: tuple | None          # (kpi_id, code, year, gender, value) or None for a missing value


@st.composite
def value_text(draw):
    """(text as a user writes it, the number it means) or a missing marker."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["..", "", "-", "x", "NA"])), None
    neg = draw(st.booleans())
    whole = draw(st.integers(0, 9_999_999))
    decimals = draw(st.integers(0, 3))
    frac = draw(st.integers(0, 10 ** decimals - 1)) if decimals else 0
    exact = f"{'-' if neg else ''}{whole}" + (f".{frac:0{decimals}d}" if decimals else "")
    digits = str(whole)
    if draw(st.booleans()) and whole >= 1000:          # thousands separated by spaces
        rev = digits[::-1]
        digits = " ".join(rev[i:i + 3] for i in range(0, len(rev), 3))[::-1]
    sep = draw(st.sampled_from([",", "."]))
    text = ("-" if neg else "") + digits + (f"{sep}{frac:0{decimals}d}" if decimals else "")
    if draw(st.integers(0, 5)) == 0:
        text += draw(st.sampled_from(["%", " %"]))
    return text, float(exact)


@st.composite
def tables(draw):
    keys = draw(st.lists(st.tuples(st.integers(0, len(MUNICIPALITIES) - 1), st.sampled_from(KPIS),
                                   st.integers(1990, NEXT_YEAR), st.sampled_from("TKM")),
                         min_size=1, max_size=10, unique=True))
    rows = []
    for mi, kpi, year, g in keys:
        code, name = MUNICIPALITIES[mi]
        area = draw(st.sampled_from([code, name, f"{code} {name}"]))
        text, value = draw(value_text())
        rows.append(Row(area, draw(st.sampled_from([kpi, kpi.lower()])), str(year),
                        draw(st.sampled_from(GENDER_TEXT[g])), text,
                        None if value is None else (kpi, code, year, g, value)))
    return rows


MUTATIONS = ["year-fraction", "year-range", "bad-value", "code-other-name", "unknown-municipality",
             "duplicate-other-value", "bad-gender", "long-field", "broken-byte"]
CSV_ONLY = ("long-field", "broken-byte")


def mutate(rows: list[Row], kind: str, k: int, draw) -> tuple[list[Row], int | None, str | None]:
    """(rows, index of the row the refusal must name, words) after one mutation."""
    rows = [Row(**vars(r)) for r in rows]
    r = rows[k]
    if kind == "year-fraction":
        r.year = r.year + draw(st.sampled_from([".5", ".25", ",5"]))
        return rows, k, "invalid year"
    if kind == "year-range":
        r.year = str(draw(st.sampled_from([1800, 1989, NEXT_YEAR + 1, 3000, 0])))
        return rows, k, "invalid year"
    if kind == "bad-value":
        r.value = draw(st.sampled_from(BAD_VALUES))
        return rows, k, "non-numeric value"
    if kind == "code-other-name":
        code = next(c for c, n in MUNICIPALITIES if r.area in (c, n) or r.area.startswith(c))
        other = next(n for c, n in MUNICIPALITIES if c != code)
        r.area = f"{code} {other}"
        return rows, k, "code and name disagree"
    if kind == "unknown-municipality":
        r.area = draw(st.sampled_from(["Skogsby", "Nykommun", "9999", "01800"]))
        return rows, k, "unknown municipality"
    if kind == "duplicate-other-value":
        if r.truth is None:
            return rows, None, None
        dup = Row(**vars(r))
        dup.value = str(r.truth[4] + 1).replace(".", ",")
        dup.truth = None
        return rows + [dup], len(rows), "duplicate key with a different value"
    if kind == "bad-gender":
        r.gender = draw(st.sampled_from(["X", "Båda", "2"]))
        return rows, k, "invalid gender"
    if kind == "long-field":
        r.kpi = "N" * 40_000
        return rows, k, "field too long"
    if kind == "broken-byte":
        r.area = "\udcff" + r.area          # written as the raw byte 0xFF (CSV only)
        return rows, k, "unreadable encoding"
    return rows, None, None


HEADER = ["Kommun", "Nyckeltal", "År", "Kön", "Värde"]


def write(path: Path, fmt: dict, rows: list[Row]) -> tuple[Path, int]:
    """The file, and the line of data row 0."""
    cells = [[r.area, r.kpi, r.year, r.gender, r.value] for r in rows]
    if fmt["kind"] == "xlsx":
        import openpyxl
        wb = openpyxl.Workbook()
        wb.active.append(HEADER)
        for c in cells:
            wb.active.append([int(v) if i == 2 and v.isdigit() and fmt["int_years"] else v for i, v in enumerate(c)])
        wb.save(path)
        return path, 2
    if fmt["kind"] == "json":
        items = []
        for r in rows:
            value = r.truth[4] if r.truth else (None if r.value in ("..", "", "-", "x", "NA") else r.value)
            period = int(r.year) if r.year.isdigit() else r.year
            items.append({"kpi": r.kpi, "municipality": r.area, "period": period,
                          "values": [{"gender": r.gender or "T", "value": value}]})
        path.write_text(json.dumps({"values": items}), encoding="utf-8")
        return path, 1
    delim, quote, enc, ends = fmt["delim"], fmt["quote"], fmt["enc"], fmt["ends"]

    def line(c):
        return delim.join('"' + x.replace('"', '""') + '"' if quote else x for x in c)
    texts = [line(HEADER)] + [line(c) for c in cells]
    cont = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(enc, enc)
    out = []
    for i, t in enumerate(texts):
        codec = enc if i == 0 else cont
        out.append(t.encode(codec, "surrogateescape") if codec.startswith("utf-8") else t.encode(codec))
        out.append(ends[i % len(ends)].encode(cont))
    path.write_bytes(b"".join(out))
    return path, 2


@st.composite
def formats(draw, csv_utf8: bool = False):
    if csv_utf8:
        return {"kind": "csv", "delim": draw(st.sampled_from([";", ",", "\t"])), "quote": True, "enc": "utf-8",
                "ends": draw(st.sampled_from([["\r\n"], ["\n", "\r"]]))}
    kind = draw(st.sampled_from(["csv", "csv", "csv", "xlsx", "json"]))
    if kind != "csv":
        return {"kind": kind, "int_years": draw(st.booleans())}
    delim = draw(st.sampled_from([";", ",", "\t"]))
    return {"kind": "csv", "delim": delim, "quote": delim == "," or draw(st.booleans()),
            "enc": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"])),
            "ends": draw(st.sampled_from([["\r\n"], ["\n"], ["\r"], ["\r\n", "\n"], ["\n", "\r", "\r\n"]]))}


@pytest.fixture(scope="module")
def fuzz_con(tiny_wh, tmp_path_factory):
    db = rules_warehouse(tiny_wh, tmp_path_factory.mktemp("fuzz") / "w.duckdb")
    con = duckdb.connect(str(db))
    yield con
    con.close()


def _values(con):
    return {tuple(r) for r in con.execute("SELECT kpi_id, municipality_code, year, gender, value FROM kpi_value").fetchall()}


SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@settings(max_examples=24, **SETTINGS)
@given(rows=tables(), fmt=formats())
def test_valid_files_are_imported_exactly(fuzz_con, rows, fmt):
    check(fuzz_con, rows, fmt, None, None, "none")


@pytest.mark.parametrize("kind", MUTATIONS)
@settings(max_examples=8, **SETTINGS)
@given(rows=tables(), data=st.data())
def test_one_mutation_is_refused_at_its_line(fuzz_con, kind, rows, data):
    fmt = data.draw(formats(csv_utf8=kind in CSV_ONLY))
    k = data.draw(st.integers(0, len(rows) - 1))
    rows, bad_row, words = mutate(rows, kind, k, data.draw)
    if kind == "duplicate-other-value" and bad_row is None:
        return                       # the drawn row was a missing value: nothing to duplicate
    if fmt["kind"] == "json" and kind == "bad-value":
        rows[bad_row].truth = None   # the bad text goes into the JSON as a string
    check(fuzz_con, rows, fmt, bad_row, words, kind)


def check(con, rows, fmt, bad_row, words, kind):
    with tempfile.TemporaryDirectory() as tmp:
        suffix = {"csv": ".csv", "xlsx": ".xlsx", "json": ".json"}[fmt["kind"]]
        path, line0 = write(Path(tmp) / f"fuzz{suffix}", fmt, rows)
        before = _values(con)
        con.execute("BEGIN")
        try:
            try:
                import_kolada(con, [path])
                outcome, got = "ok", _values(con)
            except ImportFailure as e:
                outcome, got = e, None
        finally:
            con.execute("ROLLBACK")
        assert _values(con) == before
    if bad_row is None:
        assert outcome == "ok", f"{fmt} refused a good file: {outcome}"
        truth = {r.truth for r in rows if r.truth}
        assert got - before == truth - before, (fmt, sorted(got - before), sorted(truth))
        changed_keys = {t[:4] for t in truth}
        assert {t for t in before if t[:4] not in changed_keys} <= got
        return
    assert isinstance(outcome, ImportFailure), f"{fmt} {kind} accepted: {sorted(got - before)}"
    msg = str(outcome)
    assert msg.startswith(str(path)), msg
    if fmt["kind"] == "json":
        assert f"post (entry) {bad_row + 1}" in msg, msg
    else:
        assert f"rad (line) {line0 + bad_row}:" in msg, (fmt, kind, msg)
    assert words in msg, (fmt, kind, msg)
