"""Tables are HTML the server writes (no grid library). A long one gets a filter box and a sort
choice before it and, when longer than a page, the later rows hidden and a pager after it
(assets/styrkort.js pages, sorts and filters in the browser; tests/browser/test_keyboard.py and
test_analysis_pages.py drive it). Its links are reached with the arrow keys (one Tab stop)."""
from __future__ import annotations

import pandas as pd
import pytest
from layout_support import classed, find, text_of

from dashboard import components as C


def _rows(table):
    from dash import html
    plain = next(find(table, lambda c: isinstance(c, html.Table)))
    return list(find(plain, lambda c: isinstance(c, html.Tr)))[1:]


def _pager(table):
    return next(iter(classed(table, "sk-pager")), None)


def _frame(n):
    return pd.DataFrame({"code": [f"{i:04d}" for i in range(n)], "name": [f"Kommun {i}" for i in range(n)],
                         "cost": [1000.0 * i for i in range(n)]})


COLS = [C.col("code", "Kod"), C.col("name", "Kommun"), C.col("cost", "Kostnad per invånare", "kr")]


@pytest.mark.parametrize("n,page_size,pages", [(60, 20, 3), (290, 15, 12), (26, 10, 2)])
def test_long_tables_are_paged_with_a_pager_after_them(n, page_size, pages):
    from dash import html
    table = C.table_with_downloads("t", _frame(n), COLS, "sv", page_size=page_size)
    size = max(page_size, C.MIN_PAGE_ROWS)
    rows = _rows(table)
    assert len(rows) == n                               # every row is in the table (filter, sort)
    assert [bool(getattr(r, "hidden", False)) for r in rows] == [i >= size for i in range(n)]
    plain = next(find(table, lambda c: isinstance(c, html.Table)))
    assert getattr(plain, "data-page-size") == size
    pager = _pager(table)
    assert pager is not None and pager.role == "group"
    children = table.children
    region = next(i for i, c in enumerate(children) if list(find(c, lambda x: x is plain)))
    assert children.index(pager) == region + 1          # after the table: the table stays one Tab stop
    assert f"Sida 1 av {pages} · rader 1–{size} av {n}" in text_of(pager)
    buttons = list(find(pager, lambda c: isinstance(c, html.Button)))
    assert [getattr(b, "data-sk-page") for b in buttons] == [k for k, _key, _sym in C.PAGER_BUTTONS]
    assert [b.disabled for b in buttons] == [True, True, False, False]
    # the status template the browser fills in on every page change
    assert getattr(pager, "data-status") == "Sida {page} av {pages} · rader {first}–{last} av {rows}"
    rows_store = next(find(table, lambda c: getattr(c, "id", None) == {"type": "sk-rows", "index": "t"}))
    assert len(rows_store.data) == n                    # the downloads carry every row


def test_a_long_table_has_filter_and_sort_before_it_and_arrow_key_links():
    from dash import html
    df = _frame(30)
    df["href"] = [f"/kommun/{i:04d}" for i in range(30)]
    cols = [C.col("code", "Kod"), C.col("name", "Kommun", link_field="href"), C.col("cost", "Kostnad", "kr")]
    table = C.table_with_downloads("t", df, cols, "sv", page_size=40)
    assert _pager(table) is None                        # 30 rows fit one page of 40: no pager
    box = next(find(table, lambda c: getattr(c, "tag", None) == "input"))
    sort = next(find(table, lambda c: isinstance(c, html.Select)))
    labels = {lab.htmlFor: text_of(lab) for lab in find(table, lambda c: isinstance(c, html.Label))}
    assert labels == {box.id: "Filtrera raderna", sort.id: "Sortera efter"}
    assert [o.value for o in sort.children] == ["", "0:asc", "0:desc", "1:asc", "1:desc", "2:asc", "2:desc"]
    links = list(find(table, lambda c: isinstance(c, html.A)))
    assert len(links) == 30 and all(a.tabIndex == "-1" for a in links)
    region = next(find(table, lambda c: getattr(c, "role", None) == "region"))
    assert "sk-keyboard-table" in region.className and region.tabIndex == "0"
    hint = next(find(table, lambda c: getattr(c, "id", None) == getattr(region, "aria-describedby")))
    assert "pil" in text_of(hint)
    # numbers carry their raw value for sorting beside the sv-SE text
    cost = [td for td in find(table, lambda c: isinstance(c, html.Td) and getattr(c, "data-col", None) == "cost")]
    assert [getattr(td, "data-v") for td in cost[:3]] == [0.0, 1000.0, 2000.0]
    assert cost[2].children == C.fmt_kind(2000.0, "kr", "sv")


def test_english_pager_and_thousands():
    assert C.pager_status(3, 41, 1012, 25, "sv") == "Sida 3 av 41 · rader 51–75 av 1\u00a0012"
    assert C.pager_status(41, 41, 1012, 25, "en") == "Page 41 of 41 · rows 1,001–1,012 of 1,012"


@pytest.mark.parametrize("n", [0, 1, 25])
def test_short_tables_are_plain_html_with_the_same_downloads(n):
    from dash import dcc, html
    table = C.table_with_downloads("t", _frame(n), COLS, "sv", page_size=10, caption="Kostnader")
    assert _pager(table) is None and not list(find(table, lambda c: isinstance(c, html.Select)))
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
