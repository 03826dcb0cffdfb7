"""Helpers the tests share for reading a page's Dash layout without a browser, querying a
warehouse, and making large import files (one copy here instead of one per test module)."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SOURCES = Path(__file__).resolve().parents[1] / "warehouse" / "sources"


def texts(component):
    """Every text string inside a Dash component tree, in document order."""
    if component is None:
        return
    if isinstance(component, (str, int, float)):
        yield str(component)
        return
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from texts(c)
        return
    yield from texts(getattr(component, "children", None))


def text_of(component) -> str:
    return " ".join(texts(component))


def find(component, pred):
    """Every component in the tree for which pred(component) is true."""
    if isinstance(component, (list, tuple)):
        for c in component:
            yield from find(c, pred)
        return
    if component is None or isinstance(component, (str, int, float, dict)):
        return
    if pred(component):
        yield component
    yield from find(getattr(component, "children", None), pred)


def classed(page, cls: str) -> list:
    """Components whose className contains the class `cls`."""
    return list(find(page, lambda c: cls in (getattr(c, "className", "") or "").split()))


def by_id(page, ident):
    hits = list(find(page, lambda c: getattr(c, "id", None) == ident))
    assert len(hits) == 1, ident
    return hits[0]


def table_rows(page, index: str) -> list[dict]:
    """The rows a table_with_downloads holds: its `sk-rows` store, which its downloads read."""
    hits = list(find(page, lambda c: getattr(c, "id", None) == {"type": "sk-rows", "index": index}))
    assert len(hits) == 1, (index, len(hits))
    return hits[0].data


def table_headers(page, index: str | None = None) -> list[str]:
    """The column headers of a table_with_downloads (the first one when index is None)."""
    tables = list(find(page, lambda c: isinstance(getattr(c, "id", None), dict)
                       and c.id.get("type") == "sk-table" and (index is None or c.id.get("index") == index)))
    assert tables, index
    head = next(find(tables[0], lambda c: type(c).__name__ == "Thead"))
    return [text_of(th) for th in find(head, lambda c: type(c).__name__ == "Th")]


def trace_values(values) -> list:
    """A trace's x/y as a list, whether the figure dict holds a list or Plotly's typed array
    ({'dtype': 'f8', 'bdata': base64}: how plotly.py >= 6 serialises numpy arrays)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for a server a test starts)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_module(name: str):
    """The module of a registered page (dashboard.app.create_app registers them as pages.<name>)."""
    return sys.modules[f"pages.{name}"]


def render(app, name: str, path: str = "/", **query):
    """A page's layout for `query` as the app would build it for a request to `path`."""
    with app.server.test_request_context(path):
        return page_module(name).layout(**query)


def sql(db, query: str, params=()) -> list[tuple]:
    """Rows of one read-only query on the warehouse file `db`."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def big_kolada_csv(path: Path, n_kpis: int) -> Path:
    """A Kolada-style CSV (Variabelkod, Kommun, År, Värde) with n_kpis made-up KPIs for every
    municipality of the SCB panel and 1998–2014: large enough that a kill lands mid-import."""
    names = [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT municip_name FROM read_csv('{SOURCES / 'scb_municipality_panel.csv'}', all_varchar=true)"
    ).fetchall()]
    con = duckdb.connect()
    con.execute("CREATE TABLE m AS SELECT unnest(?) AS name", [names])
    con.execute(f"""COPY (SELECT printf('N%05d', 30000 + k) AS "Variabelkod", name AS "Kommun", y AS "År",
                                 (k * 7 + y) % 1000 / 10.0 AS "Värde"
                          FROM range({n_kpis}) a(k), m, range(1998, 2015) c(y))
                    TO '{path}' (HEADER)""")
    con.close()
    return path
