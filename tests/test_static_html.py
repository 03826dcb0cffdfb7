"""dashboard/static_html.py: presentational parts of a page go to the browser as their markup.
The markup must be exactly what React would have made from the components (checked here by
parsing it back), every text escaped, and anything a callback touches must stay a component."""
from __future__ import annotations

from html.parser import HTMLParser

import dash_bootstrap_components as dbc
import pytest
from dash import dcc, html
from layout_support import find, text_of

from dashboard.static_html import MIN_COMPONENTS, StaticHtml, freeze, staticize


class _Tree(HTMLParser):
    """Parsed markup as nested (tag, attrs, children) tuples."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ("root", {}, [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = (tag, dict(attrs), [])
        self.stack[-1][2].append(node)
        if tag not in ("img", "br", "hr", "input", "col", "wbr"):
            self.stack.append(node)

    def handle_endtag(self, tag):
        assert self.stack[-1][0] == tag, (tag, self.stack[-1][0])
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1][2].append(data)


def _shown_text(tree) -> str:
    """The text of a tree as the browser shows it: StaticHtml markup parsed, components walked."""
    out = []

    def walk(c):
        if c is None:
            return
        if isinstance(c, (str, int, float)):
            out.append(str(c))
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)
        elif isinstance(c, StaticHtml):
            p = _Tree()
            p.feed(f"<{c.tag}>{c.html}</{c.tag}>")

            def texts(node):
                for x in node[2]:
                    if isinstance(x, str):
                        out.append(x)
                    else:
                        texts(x)
            texts(p.root)
        else:
            walk(getattr(c, "children", None))
    walk(tree)
    return " ".join(" ".join(out).split())


def parsed(s: StaticHtml):
    p = _Tree()
    p.feed(f"<{s.tag}>{s.html}</{s.tag}>")
    return p.root[2][0]


def test_markup_is_the_components_with_react_attribute_names():
    tree = html.Section([
        html.H2("Omsorgstagare", id="persp-omsorgstagare", className="card-title"),
        html.Table([html.Tbody([html.Tr([html.Th("Andel", scope="row"),
                                         html.Td("12,5 %", colSpan=2, className="text-end", **{"data-label": "Värde"}),
                                         html.Td(html.Img(src="data:image/svg+xml,x", alt="a", width=120))])])],
                   className="table"),
        html.Div("dold", hidden=True, tabIndex="0", style={"marginTop": 4, "fontWeight": 600}),
    ], className="mb-3", **{"aria-labelledby": "persp-omsorgstagare"})
    s = freeze(tree)
    assert s.tag == "section" and s.attrs == {"className": "mb-3", "aria-labelledby": "persp-omsorgstagare"}
    tag, attrs, kids = parsed(s)
    h2, table, div = kids
    assert h2 == ("h2", {"id": "persp-omsorgstagare", "class": "card-title"}, ["Omsorgstagare"])
    tr = table[2][0][2][0]
    th, td, td2 = tr[2]
    assert th == ("th", {"scope": "row"}, ["Andel"])
    assert td == ("td", {"colspan": "2", "class": "text-end", "data-label": "Värde"}, ["12,5 %"])
    assert td2[2][0] == ("img", {"src": "data:image/svg+xml,x", "alt": "a", "width": "120"}, [])
    assert div[1] == {"hidden": "", "tabindex": "0", "style": "margin-top:4px;font-weight:600"}
    assert s.children is tree     # the components stay readable for tests and the PDF


def test_every_text_and_attribute_is_escaped():
    hostile = '<script>alert(1)</script> & "x" \' <img src=x onerror=alert(2)>'
    s = freeze(html.Div([html.Span(hostile, title=hostile), html.A("l", href='/kommun/0180"><b>')]))
    assert "<script>" not in s.html and "<img" not in s.html and 'onerror=alert(2)>' not in s.html
    span, a = parsed(s)[2]
    assert span[2] == [hostile] and span[1]["title"] == hostile      # the same text, shown as text
    assert a[1]["href"] == '/kommun/0180"><b>' and len(a[2]) == 1


def test_links_navigate_inside_the_app_and_foreign_links_stay_live():
    inner = dcc.Link("Göteborg", href="/kommun/1480", className="x")
    s = freeze(html.Div([inner, " ", html.Span("a"), html.Span("b"), html.Span("c"), html.Span("d")]))
    a = parsed(s)[2][0]
    assert a == ("a", {"href": "/kommun/1480", "class": "x", "data-sk-link": "1"}, ["Göteborg"])
    for href in ("//evil.example/x", "https://example.org", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            freeze(html.Div(dcc.Link("x", href=href)))


def test_callback_parts_stay_components_and_their_static_neighbours_convert():
    table = html.Table(html.Tbody([html.Tr([html.Td(str(i)) for i in range(3)]) for _ in range(3)]))
    tree = html.Div([
        dcc.Store(id="kommun-lang", data="sv"),
        html.Div(id="bound-output", children=[html.P("x") for _ in range(8)]),
        html.Div(id={"type": "sk-rows", "index": "t"}),
        table,
        dbc.Row(dbc.Col(html.P("in a dbc layout component"), md=5)),
    ])
    out = staticize(tree, bound=frozenset({"bound-output"}))
    kids = out.children
    assert kids[0] is tree.children[0]                       # a Store: not HTML
    assert type(kids[1]).__name__ == "Div" and kids[1].id == "bound-output"   # a callback writes it
    assert kids[2] is tree.children[2]                       # pattern-matching id
    assert isinstance(kids[3], StaticHtml) and kids[3].children is table
    assert isinstance(kids[4], dbc.Row)                      # not written by this module
    assert tree.children[3] is table                         # the input tree is not changed
    assert text_of(out) == text_of(tree)


def test_small_parts_are_not_worth_a_component():
    small = html.P([html.Strong("a"), " b"])
    assert len(list(find(small, lambda c: True))) < MIN_COMPONENTS
    assert staticize(html.Div([dcc.Store(id="s"), small]), frozenset()).children[1] is small


@pytest.fixture(scope="module")
def app(built_db):
    from dashboard.app import create_app
    return create_app(built_db)


def test_the_scorecard_page_is_sent_with_far_fewer_components(app):
    """The registered /kommun layout (what the browser gets) against the page module's own."""
    import json

    import dash
    import plotly

    page = next(p for p in dash.page_registry.values() if p["module"].endswith(".kommun"))
    with app.server.test_request_context("/kommun/0180"):
        plain = page["layout"].plain(code="0180")
        sent = page["layout"](code="0180")

    def components(c):
        n, stack = 0, [json.loads(json.dumps(c, cls=plotly.utils.PlotlyJSONEncoder))]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                n += "type" in x and "props" in x
                stack.extend(x.values())
            elif isinstance(x, list):
                stack.extend(x)
        return n

    # the page as components (the panel rows' own components included) against what is sent
    built = len(list(find(plain, lambda c: not isinstance(c, StaticHtml))))
    assert built > 1000 and components(sent) * 5 < built
    assert _shown_text(sent) == " ".join(text_of(plain).split())    # the same words on screen
    assert list(find(sent, lambda c: isinstance(c, StaticHtml)))
    # what the callbacks use is still there as components
    assert [c for c in find(sent, lambda c: getattr(c, "id", None) == "kommun-year")]


@pytest.mark.parametrize("lang,page_size,keyboard", [("sv", None, False), ("en", 25, True)])
def test_table_rows_written_directly_are_the_components_markup(lang, page_size, keyboard):
    """components.tbody_html writes a table's rows without building components; it must be the
    same DOM as freezing the components (tbody_components): cells, classes, data-col/-v, lang,
    hidden rows, in-app links, escaping."""
    import pandas as pd

    from dashboard import components as C

    df = pd.DataFrame({"name": ["Göteborg", "<b>Ale</b> & co", None] * 12, "href": ["/kommun/1480", "//evil", None] * 12,
                       "cost": [1234.5, None, 3.0] * 12, "n": [1, 2, 3] * 12, "title": ["Andel", "x", ""] * 12})
    cols = [C.col("name", "Kommun", link_field="href"), C.col("cost", "Kostnad", "kr"), C.col("n", "Antal", "int"),
            C.col("title", "KPI", text_lang="sv")]
    wrap = C.table_with_downloads("t", df, cols, lang, page_size=page_size or 40)
    body = next(find(wrap, lambda c: isinstance(c, StaticHtml) and c.tag == "tbody"))
    specs = [dict(s) for s in cols]
    rows_store = next(find(wrap, lambda c: getattr(c, "id", None) == {"type": "sk-rows", "index": "t"})).data
    assert len(rows_store) == 36
    direct = _Tree()
    direct.feed(f"<tbody>{body.html}</tbody>")
    frozen = freeze(body.children)          # the components, built on demand
    assert parsed(frozen) == direct.root[2][0]
    hidden = [r for r in direct.root[2][0][2] if "hidden" in r[1]]
    assert len(hidden) == (36 - 25 if page_size else 0)
    for empty in ([],):
        assert "colspan" in C.tbody_html(specs, empty, lang, None, False)


def test_scorecard_rows_written_directly_are_the_components_markup(app, built_db):
    """/kommun's panel rows are written straight to markup (kommun._kpi_row_html); they must be
    the same DOM as the components (_kpi_row with C.stack_labels) for every row of several
    municipalities, in both languages, at the latest values and in a chosen year, with and
    without targets, demo labels and missing values."""
    import sys

    import duckdb

    con = duckdb.connect(str(built_db), read_only=True)
    with_targets = [r[0] for r in con.execute(
        "SELECT DISTINCT municipality_code FROM targets ORDER BY 1 LIMIT 2").fetchall()]
    year = con.execute("SELECT max(year) - 2 FROM scorecard").fetchone()[0]
    con.close()
    from dashboard.data import get_db, panel_rows, scorecard_data

    mod = sys.modules["pages.kommun"]
    head = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    seen = 0
    with app.server.test_request_context("/kommun"):
        for code in ["0180", "1480", "2480", "0114", *with_targets]:
            for lang in ("sv", "en"):
                for y in (None, year):
                    d = scorecard_data(get_db(), code, y, lang)
                    rows = [r for group in panel_rows(d).values() for r in group]
                    body = mod.kpi_rows(rows, head, lang)
                    direct = _Tree()
                    direct.feed(f"<tbody>{body.html}</tbody>")
                    assert parsed(freeze(body.children)) == direct.root[2][0], (code, lang, y)
                    seen += len(rows)
    assert seen > 500
    # the components the markup replaces are the cells of _kpi_row, labelled by C.stack_labels
    cells = body.children.children[0].children
    assert all(c.__class__.__name__ in ("Td", "Th") for c in cells)
    assert [getattr(c, "data-label") for c in cells] == head
