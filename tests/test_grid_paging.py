"""Long grids are paged with a pager after the grid (components.pager); short ones are not;
numbers are shown by a value formatter; only long texts and headers wrap (each wrapped cell
costs the browser a layout)."""
from __future__ import annotations

import dash_ag_grid as dag
import pandas as pd
import pytest
from layout_support import classed, find, text_of

from dashboard import components as C


def _grid(table):
    return next(find(table, lambda c: isinstance(c, dag.AgGrid)))


def _pager(table):
    return next(iter(classed(table, "sk-pager")), None)


def _frame(n):
    return pd.DataFrame({"code": [f"{i:04d}" for i in range(n)], "name": [f"Kommun {i}" for i in range(n)],
                         "cost": [1000.0 * i for i in range(n)]})


COLS = [C.col("code", "Kod"), C.col("name", "Kommun"), C.col("cost", "Kostnad per invånare", "kr")]


@pytest.mark.parametrize("n,page_size,pages", [(60, 20, 3), (290, 15, 12), (26, 10, 2)])
def test_long_grids_are_paged_with_a_pager_after_them(n, page_size, pages):
    table = C.table_with_downloads("t", _frame(n), COLS, "sv", page_size=page_size)
    grid = _grid(table)
    size = max(page_size, C.MIN_PAGE_ROWS)
    opts = grid.dashGridOptions
    assert opts["pagination"] is True and opts["paginationPageSize"] == size
    assert opts["suppressPaginationPanel"] is True   # AG Grid's own pager would be Tab stops inside the grid
    assert len(grid.rowData) == n                     # every row is in the grid (filters, sorting, downloads)
    pager = _pager(table)
    assert pager is not None and pager.role == "group"
    children = table.children
    assert children.index(pager) == children.index(grid) + 1
    assert f"Sida 1 av {pages} · rader 1–{size} av {n}" in text_of(pager)
    kinds = [k for k, _key, _sym in C.PAGER_BUTTONS]
    buttons = [c for c in pager.children if isinstance(getattr(c, "id", None), dict) and c.id["type"] in kinds]
    assert [b.disabled for b in buttons] == [True, True, False, False]


def test_english_pager_and_thousands():
    assert C.pager_status(3, 41, 1012, 25, "sv") == "Sida 3 av 41 · rader 51–75 av 1\u00a0012"
    assert C.pager_status(41, 41, 1012, 25, "en") == "Page 41 of 41 · rows 1,001–1,012 of 1,012"


@pytest.mark.parametrize("n", [0, 1, 25])
def test_short_tables_are_plain_html_with_the_same_downloads(n):
    from dash import dcc, html
    table = C.table_with_downloads("t", _frame(n), COLS, "sv", page_size=10, caption="Kostnader")
    assert not list(find(table, lambda c: isinstance(c, dag.AgGrid))) and _pager(table) is None
    plain = next(find(table, lambda c: isinstance(c, html.Table)))
    heads = [th.children for th in find(plain, lambda c: isinstance(c, html.Th))]
    assert heads == ["Kod", "Kommun", "Kostnad per invånare"]
    body_rows = list(find(plain, lambda c: isinstance(c, html.Tr)))[1:]
    if n:
        assert len(body_rows) == n
        last = [td.children for td in body_rows[-1].children]
        assert last == [f"{n - 1:04d}", f"Kommun {n - 1}", C.fmt_kind(1000.0 * (n - 1), "kr", "sv")]
        assert body_rows[-1].children[2].className == "text-end text-nowrap"
    else:
        assert "Inga rader" in text_of(plain)
    region = next(find(table, lambda c: getattr(c, "role", None) == "region"))
    assert region.tabIndex == "0" and getattr(region, "aria-label") == "Kostnader"
    rows = next(find(table, lambda c: isinstance(c, dcc.Store) and c.id["type"] == "sk-rows"))
    assert len(rows.data) == n
    kinds = {c.id["type"] for c in find(table, lambda c: isinstance(getattr(c, "id", None), dict))}
    assert {"sk-pdl-csv", "sk-pdl-xlsx", "sk-pdownload", "sk-dl-meta"} <= kinds


def test_plain_table_links_and_languages():
    from dash import html
    df = pd.DataFrame({"name": ["Göteborg"], "href": ["/kommun/1480"], "title": ["Andel"], "bad": ["x"],
                       "bad_href": ["//evil.example"]})
    cols = [C.col("name", "Kommun", link_field="href"), C.col("title", "KPI", text_lang="sv"),
            C.col("bad", "Bad", link_field="bad_href")]
    table = C.table_with_downloads("t", df, cols, "en")
    links = list(find(table, lambda c: isinstance(c, html.A)))
    assert [(a.children, a.href) for a in links] == [("Göteborg", "/kommun/1480")]
    td = next(find(table, lambda c: isinstance(c, html.Td) and c.children == "Andel"))
    assert getattr(td, "lang") == "sv"


def test_numbers_use_the_value_formatter_and_only_long_texts_wrap():
    df = _frame(30)
    df["note"] = ["kort", "en mycket lång anteckning som inte får plats på en rad"] + [None] * 28
    cols = COLS + [C.col("note", "Not")]
    defs = {d["field"]: d for d in _grid(C.table_with_downloads("t", df, cols, "sv")).columnDefs}
    assert defs["cost"]["valueFormatter"] == {"function": "skFormatted(params)"}
    assert "cellRenderer" not in defs["cost"]
    assert defs["note"].get("autoHeight") is True and defs["note"].get("wrapText") is True
    assert not defs["name"].get("autoHeight") and not defs["code"].get("autoHeight")
    # a long header wraps (and is measured); a short one is not
    assert defs["cost"].get("autoHeaderHeight") is True and not defs["code"].get("autoHeaderHeight")
