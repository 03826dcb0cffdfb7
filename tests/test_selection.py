"""The 15/15 selection: hand-worked walks (plain ranking and the county rule), swaps (valid
and every invalid case), Table 1 against the study's sample ranks, JSON shape, and the CLI on a
synthetic warehouse and on the embedded default."""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.ranking.selection import (QUOTAS, SelectionError, Swap, apply_swaps, parse_swap,
                                         select, shortfall, table1)

REPO = Path(__file__).resolve().parent.parent
Q = {"small": 2, "medium": 1, "large": 1}

# rank = code number; worked through by hand in the tests below
LAYOUT = [  # code, size group, county
    ("0001", "small", "01"), ("0002", "small", "01"), ("0003", "large", "01"), ("0004", "small", "02"),
    ("0005", "medium", "02"), ("0006", "medium", "03"), ("0007", "large", "04"), ("0008", "small", "05"),
    ("0009", "medium", "08"), ("0010", "large", "09"), ("0011", "small", "09"), ("0012", "medium", "10"),
    ("0013", "small", "10"), ("0014", "large", "11"), ("0015", "small", "11"), ("0016", "small", "12"),
]
GROUP_RANK = {  # by hand: order within each size group
    "0001": 1, "0002": 2, "0004": 3, "0008": 4, "0011": 5, "0013": 6, "0015": 7, "0016": 8,
    "0005": 1, "0006": 2, "0009": 3, "0012": 4,
    "0003": 1, "0007": 2, "0010": 3, "0014": 4,
}


@pytest.fixture
def ranked() -> pd.DataFrame:
    return pd.DataFrame({
        "municipality_code": [c for c, _, _ in LAYOUT],
        "name": [f"Kommun {c}" for c, _, _ in LAYOUT],
        "size_group": [g for _, g, _ in LAYOUT],
        "county_code": [k for _, _, k in LAYOUT],
        "county_name": [f"Län {k}" for _, _, k in LAYOUT],
        "rank": range(1, 17),
        "group_rank": [GROUP_RANK[c] for c, _, _ in LAYOUT],
        "composite": [1.0 - i / 10 for i in range(16)],
    })


def lists(items: pd.DataFrame) -> tuple[list[str], list[str]]:
    hi = items.loc[items["result"] == "high"].sort_values("rank")["municipality_code"].tolist()
    lo = items.loc[items["result"] == "low"].sort_values("rank")["municipality_code"].tolist()
    return hi, lo


def test_plain_ranking_takes_top_and_bottom_per_group(ranked):
    items = select(ranked, Q)
    assert lists(items) == (["0001", "0002", "0003", "0005"], ["0012", "0014", "0015", "0016"])
    assert not items["adjusted"].any()
    assert items["reason"].str.startswith("rangordning").all()


def test_county_rule_k1_walks_in_rank_order(ranked):
    items = select(ranked, Q, max_per_county=1)
    # high: 0002, 0003 (county 01 taken by 0001) and 0005 (02 taken by 0004) are skipped
    # low from the bottom: 0014 skipped (county 11 taken by 0015), so 0010 takes the large place
    assert lists(items) == (["0001", "0004", "0006", "0007"], ["0010", "0012", "0015", "0016"])
    adj = items.set_index("municipality_code")
    assert adj.loc[["0004", "0006", "0007", "0010"], "adjusted"].all()
    assert not adj.loc[["0001", "0012", "0015", "0016"], "adjusted"].any()
    assert adj.loc[["0004", "0006", "0007", "0010"], "replaces"].tolist() == ["0002", "0005", "0003", "0014"]
    assert "högst 1 per län" in adj.at["0007", "reason"] and "0003" in adj.at["0007", "reason"]
    for result in ("high", "low"):
        counties = items.loc[items["result"] == result, "county_code"]
        assert counties.value_counts().max() == 1


def test_county_rule_k2(ranked):
    items = select(ranked, Q, max_per_county=2)
    # 0001, 0002 fill county 01, so large 0003 is skipped for 0007
    assert lists(items)[0] == ["0001", "0002", "0005", "0007"]
    assert items.set_index("municipality_code").at["0007", "replaces"] == "0003"


def test_shortfall_is_reported_when_the_cap_cannot_be_met(ranked):
    one_county = ranked.assign(county_code="01")
    items = select(one_county, Q, max_per_county=1)
    assert len(items) == 2                          # one high, one low in all
    assert "small/high: 1 of 2 places filled" in shortfall(items, Q)
    assert shortfall(select(ranked, Q), Q) == []


def test_max_per_county_must_be_positive(ranked):
    with pytest.raises(SelectionError, match="at least 1"):
        select(ranked, Q, max_per_county=0)


def test_default_quotas_on_290():
    from pipelines.ranking.pipeline import run_select
    from ranking_fixtures import synthetic_warehouse

    con = duckdb.connect()
    synthetic_warehouse(con, n=290, years=[2009])
    run = run_select(con, 2009)
    items = run.items
    assert len(items) == 30 and (items["result"] == "high").sum() == 15
    counts = items.groupby(["size_group", "result"]).size().to_dict()
    assert counts == {(g, r): q for g, q in QUOTAS.items() for r in ("high", "low")}
    sizes = run.index.ranked["size_group"].value_counts().to_dict()
    for (g, r), grp in items.groupby(["size_group", "result"]):
        expected = list(range(1, QUOTAS[g] + 1)) if r == "high" else \
            list(range(sizes[g] - QUOTAS[g] + 1, sizes[g] + 1))
        assert sorted(grp["group_rank"]) == expected
    stored = con.execute("SELECT count(*) FROM selection_items WHERE selection_id = ?",
                         [run.selection_id]).fetchone()[0]
    assert stored == 30
    con.close()


# --- swaps -----------------------------------------------------------------------------------

def test_valid_swap_and_chained_swap(ranked):
    items = select(ranked, Q)
    out = apply_swaps(items, ranked, [Swap("0002", "0004", "bättre spridning")])
    row = out.set_index("municipality_code").loc["0004"]
    assert "0002" not in set(out["municipality_code"])
    assert (row["result"], row["rank"], row["group_rank"], row["adjusted"], row["reason"], row["replaces"]) == \
        ("high", 4, 3, True, "bättre spridning", "0002")
    assert len(out) == len(items)
    chained = apply_swaps(items, ranked, [Swap("0002", "0004", "a"), Swap("0004", "0008", "b")])
    assert lists(chained)[0] == ["0001", "0003", "0005", "0008"]
    assert chained.set_index("municipality_code").at["0008", "replaces"] == "0004"


@pytest.mark.parametrize("swap, message", [
    (Swap("0002", "0007", "x"), "0007 Kommun 0007 is in size group large, 0002 Kommun 0002 in small"),
    (Swap("0002", "0001", "x"), "already selected (high)"),
    (Swap("0004", "0008", "x"), "0004 Kommun 0004 is not selected"),
    (Swap("0002", "9999", "x"), "unknown municipality code 9999"),
    (Swap("9998", "0004", "x"), "unknown municipality code 9998"),
])
def test_invalid_swaps(ranked, swap, message):
    with pytest.raises(SelectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        apply_swaps(select(ranked, Q), ranked, [swap])


@pytest.mark.parametrize("text, message", [
    ("0002:0004", "expected OUT:IN:REASON"),
    ("2:0004:x", "'2' is not a municipality code"),
    ("0002:abcd:x", "'abcd' is not a municipality code"),
    ("0002:0004: ", "give a reason"),
    ("0002:0002:x", "the same municipality"),
])
def test_swap_parsing_errors(text, message):
    with pytest.raises(SelectionError, match=message):
        parse_swap(text)


def test_swap_reason_may_contain_colons():
    assert parse_swap("0180:0182:län: Stockholm") == Swap("0180", "0182", "län: Stockholm")


# --- Table 1 ---------------------------------------------------------------------------------

def test_table1_shape_against_the_study_sample():
    """oj2009_sample_ranks.csv is the study's Table 1 in long form."""
    sample = pd.read_csv(REPO / "warehouse" / "sources" / "oj2009_sample_ranks.csv")
    counts = sample.groupby(["size_group", "result"]).size().to_dict()
    assert counts == {(g, r): q for g, q in QUOTAS.items() for r in ("high", "low")}
    t1 = table1(sample).set_index("size_group")
    assert list(t1.index) == ["small", "medium", "large"]
    assert t1.at["small", "high"] == "1, 2, 4, 5, 6, 23"
    assert t1.at["large", "high"] == "3, 22, 66"
    assert t1.at["medium", "low"] == "273, 276, 281, 284, 285, 288"


# --- JSON and CLI on a synthetic warehouse ---------------------------------------------------

@pytest.fixture(scope="module")
def synth_db(tmp_path_factory) -> Path:
    from ranking_fixtures import synthetic_warehouse

    path = tmp_path_factory.mktemp("synth") / "w.duckdb"
    con = duckdb.connect(str(path))
    synthetic_warehouse(con, n=120, years=[2009])
    con.close()
    return path


@pytest.fixture
def synth_copy(synth_db, tmp_path) -> Path:
    import shutil

    dst = tmp_path / "w.duckdb"
    shutil.copy(synth_db, dst)
    return dst


def _app():
    from styrkort.cli import app

    return app


def _count(db: Path, sql: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


REQUIRED = {"municipality_code": str, "name": str, "size_group": str, "result": str, "rank": int,
            "group_rank": int, "composite": float, "county_code": str, "adjusted": bool}


def test_cli_json_shape_and_stored_run(synth_copy):
    from pipelines.ranking.pipeline import default_config_hash

    res = CliRunner().invoke(_app(), ["select", "--year", "2009", "--json", "--max-per-county", "2",
                                      "--db", str(synth_copy)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["year"] == 2009 and doc["config_hash"] == default_config_hash()
    assert len(doc["selection"]) == 30
    for item in doc["selection"]:
        for key, typ in REQUIRED.items():
            assert isinstance(item[key], typ), (key, item)
        assert item["result"] in ("high", "low") and "reason" in item
    # a county limit is not the default selection: stored beside it, the dashboard's view is empty
    assert _count(synth_copy, "SELECT count(*) FROM selections_all") == 1
    assert _count(synth_copy, "SELECT count(*) FROM selections") == 0
    assert doc["is_default"] is False
    opts = json.loads(duckdb.connect(str(synth_copy), read_only=True)
                      .execute("SELECT options_json FROM selections_all").fetchone()[0])
    assert opts["max_per_county"] == 2


def test_cli_swap_recorded_and_invalid_swap_changes_nothing(synth_copy):
    runner = CliRunner()
    first = json.loads(runner.invoke(_app(), ["select", "--year", "2009", "--json", "--db", str(synth_copy)]).stdout)
    sel = first["selection"]
    out = next(i for i in sel if i["size_group"] == "medium" and i["result"] == "high")
    chosen = {i["municipality_code"] for i in sel}
    con = duckdb.connect(str(synth_copy), read_only=True)
    candidates = con.execute("""SELECT municipality_code, size_group FROM composite_index
                                WHERE is_default ORDER BY rank""").fetchall()
    con.close()
    inn = next(c for c, g in candidates if g == "medium" and c not in chosen)
    other = next(c for c, g in candidates if g == "large" and c not in chosen)

    ok = runner.invoke(_app(), ["select", "--year", "2009", "--json", "--db", str(synth_copy),
                                "--swap", f"{out['municipality_code']}:{inn}:närmare grannkommun"])
    assert ok.exit_code == 0, ok.output
    swapped = {i["municipality_code"]: i for i in json.loads(ok.stdout)["selection"]}
    assert out["municipality_code"] not in swapped
    assert swapped[inn]["adjusted"] is True and swapped[inn]["reason"] == "närmare grannkommun"
    assert swapped[inn]["result"] == "high"
    before = _count(synth_copy, "SELECT count(*) FROM selections_all")

    bad = runner.invoke(_app(), ["select", "--year", "2009", "--db", str(synth_copy),
                                 "--swap", f"{out['municipality_code']}:{other}:fel grupp"])
    assert bad.exit_code == 1
    assert "size group large" in bad.output and "within" in bad.output
    assert _count(synth_copy, "SELECT count(*) FROM selections_all") == before   # rolled back


def test_cli_table_csv_and_xlsx(synth_copy, tmp_path):
    csv, xlsx = tmp_path / "urval.csv", tmp_path / "urval.xlsx"
    res = CliRunner().invoke(_app(), ["select", "--year", "2009", "--db", str(synth_copy),
                                      "--csv", str(csv), "--xlsx", str(xlsx)])
    assert res.exit_code == 0, res.output
    # size groups in the study's words (SKL 2010: små, mellanstora, stora)
    for label in ("Höga resultat (rang)", "Låga resultat (rang)", "Små", "Mellanstora", "Stora", "demodata"):
        assert label in res.stdout
    df = pd.read_csv(csv, dtype={"municipality_code": str, "county_code": str})
    assert list(df.columns[:3]) == ["size_group", "result", "rank"] and len(df) == 30
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"Tabell 1", "Urval"}
    assert list(sheets["Tabell 1"]["size_group"]) == ["small", "medium", "large"]
    # the table's ranks are the file's ranks
    t1 = sheets["Tabell 1"].set_index("size_group")
    for g in ("small", "medium", "large"):
        ranks = sorted(df.loc[(df["size_group"] == g) & (df["result"] == "high"), "rank"])
        assert t1.at[g, "high"] == ", ".join(map(str, ranks))


def test_cli_bad_config_and_missing_db(synth_copy, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('normalisation = "mean"\n[areas.A]\nkpis = ["x"]\n', encoding="utf-8")
    res = CliRunner().invoke(_app(), ["select", "--year", "2009", "--config", str(bad), "--db", str(synth_copy)])
    assert res.exit_code == 1 and "bad.toml" in res.output and "normalisation" in res.output
    res = CliRunner().invoke(_app(), ["select", "--year", "2009", "--db", str(tmp_path / "none.duckdb")])
    assert res.exit_code != 0 and "styrkort build" in res.output


# --- the embedded default --------------------------------------------------------------------

def test_embedded_default_selection_via_cli(db_copy):
    res = CliRunner().invoke(_app(), ["select", "--year", "2009", "--json", "--max-per-county", "1",
                                      "--db", str(db_copy)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    sel = pd.DataFrame(doc["selection"])
    assert len(sel) == 30
    for result in ("high", "low"):
        assert sel.loc[sel["result"] == result, "county_code"].value_counts().max() == 1
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        names = dict(con.execute("SELECT municipality_code, name FROM municipalities").fetchall())
        assert all(names[c] == n for c, n in zip(sel["municipality_code"], sel["name"]))
        defaults = con.execute("""SELECT s.year, count(*) FROM selections s JOIN selection_items i
                                  USING (selection_id) WHERE s.is_default GROUP BY s.year""").fetchall()
        assert defaults and all(n == 30 for _, n in defaults)
    finally:
        con.close()


def test_table1_rows_count_a_swapped_selection_by_hand():
    """Tabell 1 in long form: ranks ascending and the count per size group and result. A swap
    puts the swapped-in municipality's rank in place of the one taken out."""
    from pipelines.ranking.selection import table1_rows

    items = pd.DataFrame({"size_group": ["small", "small", "small", "large", "medium"],
                          "result": ["high", "high", "low", "low", "high"],
                          "rank": [9, 2, 280, 150, 40]})
    rows = table1_rows(items).set_index(["size_group", "result"])
    assert rows.loc[("small", "high"), "ranks"] == "2,9" and rows.loc[("small", "high"), "n"] == 2
    assert rows.loc[("small", "low"), "ranks"] == "280" and rows.loc[("large", "low"), "n"] == 1
    assert rows.loc[("large", "high"), "ranks"] == "" and rows.loc[("large", "high"), "n"] == 0
    assert len(rows) == 6
    swapped = items.assign(rank=[9, 17, 280, 150, 40])           # 2 swapped out for rank 17
    assert table1_rows(swapped).set_index(["size_group", "result"]).loc[("small", "high"), "ranks"] == "9,17"


def test_stored_selection_has_its_table1(synth_copy):
    """`styrkort select --swap` stores Tabell 1 (selection_table1) beside the items: per size group
    and result the items' ranks and their number, counted here with plain SQL."""
    first = json.loads(CliRunner().invoke(_app(), ["select", "--year", "2009", "--json", "--db",
                                                   str(synth_copy)]).stdout)["selection"]
    items = [(i["municipality_code"], i["size_group"], i["result"]) for i in first]
    out_code, group, result = sorted(items)[0]
    chosen = {c for c, _, _ in items}
    in_code = next(c for (c,) in _rows(synth_copy, "SELECT municipality_code FROM composite_index WHERE is_default "
                                         "AND year = 2009 AND size_group = ? ORDER BY rank", [group])
                   if c not in chosen)
    r = CliRunner().invoke(_app(), ["select", "--db", str(synth_copy), "--year", "2009",
                                    "--swap", f"{out_code}:{in_code}:närmare", "--json"])
    assert r.exit_code == 0, r.output
    sel = _rows(synth_copy, "SELECT selection_id FROM selections_all WHERE n_swaps = 1")[0][0]
    stored = {(g, res): (ranks, n) for g, res, ranks, n in _rows(
        synth_copy, "SELECT size_group, result, ranks, n FROM selection_table1_all WHERE selection_id = ?", [sel])}
    counted = {(g, res): (ranks, n) for g, res, ranks, n in _rows(synth_copy, """
        SELECT size_group, result, string_agg(CAST(rank AS VARCHAR), ',' ORDER BY rank), count(*)
        FROM selection_items_all WHERE selection_id = ? GROUP BY ALL""", [sel])}
    assert stored == counted and len(stored) == 6
    in_rank = _rows(synth_copy, "SELECT rank FROM composite_index WHERE is_default AND year = 2009 "
                    "AND municipality_code = ?", [in_code])[0][0]
    assert str(in_rank) in stored[(group, result)][0].split(",")


def _rows(db, q, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(q, list(params)).fetchall()
    finally:
        con.close()


def test_group_quarters_by_hand():
    """A size group's best quarter is group ranks 1..floor(n/4), the worst the last floor(n/4):
    n = 8 -> 1-2 top, 7-8 bottom; n = 98 -> 1-24 top, 75-98 bottom (rank 97 is bottom, 50 middle);
    n = 3 -> floor(3/4) = 0, so everyone is in the middle; no rank -> NA."""
    from pipelines.ranking.selection import group_quarters

    ranks = pd.Series([1, 2, 3, 6, 7, 8, 24, 25, 50, 74, 75, 97, 1, None])
    n = pd.Series([8, 8, 8, 8, 8, 8, 98, 98, 98, 98, 98, 98, 3, 8])
    got = group_quarters(ranks, n).tolist()
    assert got[:13] == ["top", "top", "middle", "middle", "bottom", "bottom", "top", "middle", "middle",
                        "middle", "bottom", "bottom", "middle"]
    assert pd.isna(got[13])


def test_composite_index_stores_the_quarter(db_copy):
    con = duckdb.connect(str(db_copy), read_only=True)
    try:
        rows = con.execute("SELECT group_rank, group_n, group_quarter FROM composite_index "
                           "WHERE is_default AND group_rank IS NOT NULL").fetchall()
    finally:
        con.close()
    assert rows
    for r, n, q in rows:
        want = "top" if r <= n // 4 else ("bottom" if r > n - n // 4 else "middle")
        assert q == want, (r, n, q)
