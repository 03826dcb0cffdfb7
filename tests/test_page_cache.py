"""dashboard.cache.per_warehouse: a result is reused for the same arguments until the warehouse
file is swapped; failures are not kept; concurrent first calls compute once; bounded."""
from __future__ import annotations

import os
import threading
import time

import flask
import pytest

from dashboard.cache import per_warehouse, warehouse_identity
from dashboard.data import CONFIG_KEY


@pytest.fixture
def app_ctx(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    wh.write_bytes(b"first")
    app = flask.Flask("t")
    app.config[CONFIG_KEY] = str(wh)
    with app.app_context():
        yield wh


def _swap(path, content: bytes):
    """Replace the file the way the build does: write a copy, rename it into place."""
    tmp = path.with_suffix(".new")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def test_same_arguments_computed_once_until_the_file_is_swapped(app_ctx):
    calls = []

    @per_warehouse()
    def page(code, year=None, lang="sv"):
        calls.append((code, year, lang))
        return {"code": code, "n": len(calls)}

    first = page("0180", year=2012)
    assert page("0180", year=2012) is first
    assert calls == [("0180", 2012, "sv")]
    page("0180", year=2011)
    page("0180", year=2012, lang="en")
    assert len(calls) == 3
    _swap(app_ctx, b"second")
    again = page("0180", year=2012)
    assert again is not first and again["n"] == 4
    assert page.cache.hits == 1 and page.cache.misses == 4


def test_identity_changes_with_the_swap_and_not_without(app_ctx):
    a = warehouse_identity()
    assert warehouse_identity() == a
    _swap(app_ctx, b"first")          # same bytes, new file: a new identity all the same
    assert warehouse_identity() != a


def test_unhashable_arguments_are_keyed_by_value(app_ctx):
    calls = []

    @per_warehouse()
    def urval(swaps, limit):
        calls.append(1)
        return len(swaps)

    assert urval([["0180", "1480"]], {"max": 2}) == 1
    assert urval([["0180", "1480"]], {"max": 2}) == 1
    assert urval([["0180", "1481"]], {"max": 2}) == 1
    assert len(calls) == 2


def test_failures_are_not_kept(app_ctx):
    outcomes = iter([RuntimeError("db busy"), "ok"])

    @per_warehouse()
    def page():
        o = next(outcomes)
        if isinstance(o, Exception):
            raise o
        return o

    with pytest.raises(RuntimeError):
        page()
    assert page() == "ok"
    assert page() == "ok"
    assert len(page.cache) == 1


def test_concurrent_first_calls_compute_once(app_ctx):
    calls = []
    app = flask.current_app._get_current_object()

    @per_warehouse()
    def slow(code):
        calls.append(code)
        time.sleep(0.2)
        return code * 2

    results = []

    def worker():
        with app.app_context():
            results.append(slow("ab"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == ["abab"] * 8
    assert calls == ["ab"]


def test_bounded_least_recently_used(app_ctx):
    @per_warehouse(maxsize=2)
    def f(x):
        return object()

    a = f(1)
    f(2)
    assert f(1) is a          # 1 is now the most recent
    f(3)                      # evicts 2
    assert len(f.cache) == 2
    assert f(1) is a
    misses = f.cache.misses
    f(2)
    assert f.cache.misses == misses + 1


def test_outside_an_app_nothing_is_cached():
    calls = []

    @per_warehouse()
    def f():
        calls.append(1)
        return 1

    f()
    f()
    assert calls == [1, 1]


def test_switched_off_by_environment(app_ctx, monkeypatch):
    monkeypatch.setenv("STYRKORT_PAGE_CACHE", "0")
    calls = []

    @per_warehouse()
    def f():
        calls.append(1)

    f()
    f()
    assert calls == [1, 1]


def test_safe_layout_reuses_a_rendered_layout_but_not_an_error_box(app_ctx):
    from dashboard.components import safe_layout

    calls = []
    fail = [True]

    @safe_layout
    def layout(code=None, lang=None, **_):
        calls.append(code)
        if fail[0]:
            raise RuntimeError("boom")
        return f"page {code}"

    box = layout(code="0180")
    assert "page" not in str(box)       # the error box
    fail[0] = False
    assert layout(code="0180") == "page 0180"
    assert layout(code="0180") == "page 0180"
    assert calls == ["0180", "0180"]


# -- whole callback answers (install_response_cache) ----------------------------------------------------

def _pages_body(pathname, search=""):
    import json
    return json.dumps({
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname"], "state": []})


@pytest.fixture
def served(db_copy):
    from dashboard.app import create_app
    app = create_app(str(db_copy))
    client = app.server.test_client()
    client.get("/")   # the first request sets up the pages router
    return app, client, db_copy


def _text(response) -> str:
    import json
    return json.dumps(json.loads(response.get_data()), ensure_ascii=False)


def _post(client, body, **headers):
    return client.post("/_dash-update-component", data=body, content_type="application/json", headers=headers)


def test_a_repeated_page_answer_is_the_same_bytes_from_memory(served):
    app, client, _ = served
    cache = app.server.extensions["styrkort_response_cache"]
    first = _post(client, _pages_body("/kommun/0180"))
    assert first.status_code == 200 and "Stockholm" in _text(first)
    hits = cache.hits
    again = _post(client, _pages_body("/kommun/0180"))
    assert cache.hits == hits + 1
    assert again.get_data() == first.get_data() and again.mimetype == first.mimetype
    other = _post(client, _pages_body("/kommun/1480"))
    assert "Göteborg" in _text(other) and cache.hits == hits + 1
    english = _post(client, _pages_body("/kommun/0180", "?lang=en"))
    assert english.get_data() != first.get_data()


def test_compressed_repeat_equals_the_uncached_answer(served):
    import gzip
    _, client, _ = served
    plain = _post(client, _pages_body("/kostnad")).get_data()
    for _ in range(2):   # the second is served from both caches
        r = _post(client, _pages_body("/kostnad"), **{"Accept-Encoding": "gzip"})
        assert r.headers.get("Content-Encoding") == "gzip"
        assert gzip.decompress(r.get_data()) == plain


def test_a_swapped_warehouse_is_never_answered_from_the_old_one(served):
    import duckdb
    app, client, path = served
    before = _text(_post(client, _pages_body("/kommun/0180")))
    assert "Stockholm" in before
    tmp = path.with_suffix(".new")
    tmp.write_bytes(path.read_bytes())
    con = duckdb.connect(str(tmp))
    con.execute("UPDATE municipality SET name = 'Stockholm stad (ny)' WHERE municipality_code = '0180'")
    con.close()
    os.replace(tmp, path)
    after = _text(_post(client, _pages_body("/kommun/0180")))
    assert "Stockholm stad (ny)" in after


def test_other_callbacks_and_switched_off_are_not_cached(served, monkeypatch):
    from dashboard.cache import response_key
    app, _, _ = served
    with app.server.test_request_context():
        assert response_key(_pages_body("/kommun/0180").encode()) is not None
        assert response_key(b'{"output": "kommun-year.value"}') is None
        assert response_key(b"not json") is None
        monkeypatch.setenv("STYRKORT_PAGE_CACHE", "0")
        assert response_key(_pages_body("/kommun/0180").encode()) is None


def test_page_opens_are_reused_per_url_and_language(served):
    app, client, _ = served
    cache = app.server.extensions["styrkort_response_cache"]
    first = client.get("/kommun/0180")
    hits = cache.hits
    again = client.get("/kommun/0180")
    assert cache.hits == hits + 1 and again.get_data() == first.get_data()
    assert again.headers.get("Content-Security-Policy") == first.headers.get("Content-Security-Policy")
    english = client.get("/kommun/0180?lang=en")
    assert english.get_data() != first.get_data() and 'lang="en"' in english.get_data(as_text=True)
    # the layout shell is asked without ?lang: its language comes from the page (Referer)
    sv = client.get("/_dash-layout", headers={"Referer": "http://x/kommun/0180"}).get_data()
    en = client.get("/_dash-layout", headers={"Referer": "http://x/kommun/0180?lang=en"}).get_data()
    assert sv != en
    assert client.get("/_dash-layout", headers={"Referer": "http://x/om"}).get_data() == sv
    # an unknown page keeps answering 404 (the URL check runs on every answer)
    assert client.get("/kommun/9999").status_code == 404
    assert client.get("/kommun/9999").status_code == 404


def test_kept_results_are_out_of_the_collectors_reach_and_cyclic_garbage_is_freed_first(app_ctx):
    """A kept layout must not be walked by every later full collection (that set the scorecard's
    p95), and freezing it must not keep unreachable cycles alive for ever."""
    import gc
    import weakref

    class Node:
        pass

    @per_warehouse()
    def page(code):
        return {"code": code, "children": [[code] for _ in range(50)]}

    cycle = Node()
    cycle.me = cycle
    gone = weakref.ref(cycle)
    del cycle                              # cyclic garbage waiting for a collection
    kept = page("0180")
    tracked = {id(o) for o in gc.get_objects()}
    assert id(kept) not in tracked and id(kept["children"][0]) not in tracked
    assert gone() is None
    assert page("0180") is kept


def test_freezing_kept_pages_leaks_nothing_per_request(built_db):
    """Through the WSGI call a server makes, a page rendered (and kept, and frozen) inside a
    request leaves no unreachable objects behind once the request is over (Flask breaks its
    request's cycle; a frozen cycle would never be freed)."""
    import gc
    import json

    from werkzeug.test import EnvironBuilder

    from dashboard.app import create_app

    server = create_app(built_db).server

    def page(pathname):
        payload = {"output": ".._pages_content.children..._pages_store.data..",
                   "outputs": [{"id": "_pages_content", "property": "children"},
                               {"id": "_pages_store", "property": "data"}],
                   "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                              {"id": "_pages_location", "property": "search", "value": ""}],
                   "changedPropIds": ["_pages_location.pathname"], "state": []}
        env = EnvironBuilder(path="/_dash-update-component", method="POST", data=json.dumps(payload),
                             content_type="application/json").get_environ()
        status = []
        b"".join(server.wsgi_app(env, lambda s, h, e=None: status.append(s)))
        assert status[0].startswith("200")

    page("/kommun/0180")
    gc.unfreeze()                  # earlier tests' test-client cycles (frozen in flight) are freed here
    gc.collect()
    gc.freeze()
    for code in ("1480", "2584", "0114", "1280", "0380"):
        page(f"/kommun/{code}")
    gc.unfreeze()                  # what was frozen since, back in the collector's reach
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        left = [o for o in gc.garbage if type(o) is dict and "wsgi.input" in o]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.freeze()
    assert [e.get("PATH_INFO") for e in left] == []


def test_prerendered_scorecards_are_answered_without_rendering_and_no_connection_is_left(db_copy, monkeypatch):
    """`serve --prod --prerender`: every scorecard is rendered in the master before the fork
    (dashboard.app.prerender_scorecards); a worker then answers a scorecard from that cache,
    identical to a fresh render, and the master holds no warehouse connection across the fork."""
    import dash

    from dashboard import app as app_module
    from dashboard import data

    app = app_module.create_app(str(db_copy))
    client = app.server.test_client()
    client.get("/_dash-dependencies")
    page = next(p for p in dash.page_registry.values() if p["module"].endswith(".kommun"))
    n = app_module.prerender_scorecards(app)
    assert n == 290
    calls = []
    import os
    import sys
    assert not [k for k in data._PROCESS if k[0] == os.getpid()]   # closed before the fork
    mod = sys.modules["pages.kommun"]      # the page module as Dash loaded it
    real = mod.scorecard_data
    monkeypatch.setattr(mod, "scorecard_data", lambda *a, **k: calls.append(a) or real(*a, **k))
    r = _post(client, _pages_body("/kommun/2480"))
    assert r.status_code == 200 and "Umeå" in _text(r)
    assert calls == []        # answered from the prerendered page: no data fetched
    # the same answer as a fresh app renders it
    fresh = app_module.create_app(str(db_copy)).server.test_client()
    fresh.get("/_dash-dependencies")
    assert _post(fresh, _pages_body("/kommun/2480")).get_data() == r.get_data()


@pytest.mark.parametrize("search, words", [("", "Kvalitet och kostnad"), ("?lang=en", "Quality and cost")])
def test_prerendered_page_defaults_are_answered_without_rendering(db_copy, monkeypatch, search, words):
    """`serve --prod`: every page's default view (no query; Swedish and English) is rendered in
    the master before the fork (dashboard.app.prerender_pages), so the first visitor of /kostnad on
    any worker gets it from the cache, the same answer a fresh render gives."""
    import os
    import sys

    from dashboard import app as app_module
    from dashboard import data

    app = app_module.create_app(str(db_copy))
    client = app.server.test_client()
    client.get("/_dash-dependencies")
    assert app_module.prerender_pages(app) >= 16          # 8+ pages, two languages
    assert not [k for k in data._PROCESS if k[0] == os.getpid()]   # closed before the fork
    mod = sys.modules["pages.kostnad"]
    calls = []
    real = mod.cost_frame
    monkeypatch.setattr(mod, "cost_frame", lambda *a, **k: calls.append(a) or real(*a, **k))
    r = _post(client, _pages_body("/kostnad", search))
    assert r.status_code == 200 and words in _text(r)
    assert calls == []        # answered from the prerendered view: no data read
    monkeypatch.setattr(mod, "cost_frame", real)
    fresh = app_module.create_app(str(db_copy)).server.test_client()
    fresh.get("/_dash-dependencies")
    assert _post(fresh, _pages_body("/kostnad", search)).get_data() == r.get_data()
