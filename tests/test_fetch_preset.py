"""The Kolada preset `oj-aldreomsorg` and `styrkort fetch kolada --preset`, without network:
recorded-shape responses (tests/make_kolada_recordings.py, synthetic values) through the
injected getter — paging, a failed page retried, v2 fallback, an interrupted fetch resumed,
the dry run, no network."""
from __future__ import annotations

import csv
import json
import re
import tomllib
from pathlib import Path

import duckdb
import pytest

from make_kolada_recordings import AGGREGATES, KoladaRecording, municipality_codes, page_text, pages
from test_import_common import cli, query, snapshot

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "warehouse" / "sources" / "kolada_kpi_catalogue_2012.csv"
RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "kolada_recordings"


def catalogue_titles() -> dict[str, set[str]]:
    """id -> titles, read with the csv module (independent of the loaders)."""
    out: dict[str, set[str]] = {}
    with open(CATALOGUE, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["Kod"], set()).add(r["Kortnamn"])
    return out


def preset_toml() -> dict:
    return tomllib.loads((REPO / "warehouse" / "presets" / "oj_aldreomsorg.toml").read_text("utf-8"))


def demo_rows() -> list[dict]:
    with open(REPO / "warehouse" / "demo_kpis.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------------------ the preset

def test_preset_ids_exist_in_catalogue_with_their_titles():
    raw = preset_toml()
    cat = catalogue_titles()
    ids = [k["id"] for k in raw["kpi"]]
    assert len(ids) >= 25 and len(set(ids)) == len(ids)
    for k in raw["kpi"]:
        assert k["id"] in cat, k["id"]
        assert cat[k["id"]] == {k["title"]}, k["id"]
        assert k["perspective"] in ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
        assert k["direction"] in ("higher", "lower", "none")
        assert 1990 <= k["first_year"] <= k["last_year"] <= 2030
        assert k["producer"] in raw["producers"]
    # the four perspectives are all there; the ids the issue names are in
    assert {k["perspective"] for k in raw["kpi"]} == {"omsorgstagare", "ekonomi", "medarbetare", "verksamhet"}
    assert {"U20432", "U20433", "U20434", "U20435", "U21401", "U20417", "U20439", "U21420", "U20416",
            "U20400", "U20003", "U20004", "U20005", "U20006", "U20007", "U21200"} <= set(ids)


def test_preset_loader_refuses_bad_files(tmp_path):
    from warehouse.presets import PresetError, load_preset

    p = load_preset("oj-aldreomsorg")
    assert p.name == "oj-aldreomsorg" and p.version >= 1 and len(p.kpis) == len(preset_toml()["kpi"])
    assert p.kpi("U20006").higher_is_better is False and p.kpi("U21009").higher_is_better is None
    bad = tmp_path / "bad.toml"
    text = (REPO / "warehouse" / "presets" / "oj_aldreomsorg.toml").read_text("utf-8")
    for old, new, msg in (('perspective = "ekonomi"', 'perspective = "kunder"', "perspective"),
                          ('id = "U20006"', 'id = "U2OO06"', "not a Kolada KPI id"),
                          ('direction = "lower"', 'direction = "down"', "direction"),
                          ("first_year = 2009", "first_year = 2019", "invalid years")):
        bad.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(PresetError, match=msg):
            load_preset(bad)
    with pytest.raises(PresetError, match="unknown preset"):
        load_preset("oj-hemtjanst")


def test_preset_titles_checked_at_build(tmp_path):
    from warehouse.presets import PresetError, check_against_catalogue, load_preset

    p = load_preset("oj-aldreomsorg")
    cat = {k: next(iter(v)) for k, v in catalogue_titles().items()}
    check_against_catalogue(p, cat)
    cat["U20432"] = "U. Något annat, andel (%)"
    with pytest.raises(PresetError, match="U20432"):
        check_against_catalogue(p, cat)


def test_kolada_index_config_mirrors_default_areas_and_weights():
    from pipelines.ranking.config import load_config
    from warehouse.presets import load_preset

    default = load_config()
    real = load_config(REPO / "pipelines" / "configs" / "oj_kolada.toml")
    assert [(a.name, a.weight) for a in real.areas] == [(a.name, a.weight) for a in default.areas]
    assert real.normalisation == default.normalisation
    preset = load_preset("oj-aldreomsorg")
    assert {a.name: list(a.kpis) for a in real.areas} == preset.areas()
    # every demo KPI of the default config stands for a real KPI in the same area of oj_kolada
    twin = {r["kpi_id"]: r["stands_for"] for r in demo_rows()}
    real_area = real.area_of()
    for area in default.areas:
        for k in area.kpis:
            assert real_area[twin[k]] == area.name, k


def test_every_demo_kpi_names_a_preset_kpi_once():
    from warehouse.presets import load_preset

    preset = load_preset("oj-aldreomsorg")
    rows = demo_rows()
    assert all(r["stands_for"] for r in rows)
    targets = [r["stands_for"] for r in rows]
    assert len(set(targets)) == len(targets)
    for r in rows:
        k = preset.kpi(r["stands_for"])
        assert k.perspective == r["perspective"], r["kpi_id"]
        assert (k.area or "") == r["area"], r["kpi_id"]


# ------------------------------------------------------------------------------ recordings

def test_committed_recordings_are_what_the_script_makes():
    rec = KoladaRecording(per_page=120)
    for api, base in (("v3", "https://api.kolada.se/v3"), ("v2", "http://api.kolada.se/v2")):
        made = pages(rec, f"{base}/data/kpi/U20432/year/2009")
        assert len(made) == 3            # 290 + 3 aggregates = 293 entries: 120 + 120 + 53
        for i, page in enumerate(made, start=1):
            path = RECORDINGS / f"{api}_U20432_2009_page{i}.json"
            assert path.read_text(encoding="utf-8") == page_text(page)
            assert json.loads(path.read_text(encoding="utf-8")) == page
    v3 = json.loads((RECORDINGS / "v3_U20432_2009_page1.json").read_text("utf-8"))
    assert set(v3) == {"count", "values", "next_url", "previous_url"}
    assert set(v3["values"][0]["values"][0]) == {"count", "gender", "status", "value", "isdeleted"}
    v2 = json.loads((RECORDINGS / "v2_U20432_2009_page3.json").read_text("utf-8"))
    assert set(v2) == {"count", "values", "next_page", "previous_page"} and v2["next_page"] is None


# ------------------------------------------------------------------------------ fetch functions

def test_paging_one_kpi():
    from warehouse.importers.fetch import PageCache, fetch_kpi

    rec = KoladaRecording(per_page=100)
    r = fetch_kpi("U20432", [2009], getter=rec, cache=PageCache(None), sleep=lambda s: None)
    # 293 entries at 100 a page: 100 + 100 + 93
    assert r.api == "v3" and [len(p["values"]) for p in r.pages] == [100, 100, 93]
    assert rec.calls == ["https://api.kolada.se/v3/data/kpi/U20432/year/2009",
                         "https://api.kolada.se/v3/data/kpi/U20432/year/2009?page=2&per_page=100",
                         "https://api.kolada.se/v3/data/kpi/U20432/year/2009?page=3&per_page=100"]
    got = {e["municipality"] for p in r.pages for e in p["values"]}
    assert got == set(municipality_codes()) | set(AGGREGATES) and len(got) == 293


def test_failed_page_is_retried_with_back_off():
    from warehouse.importers.fetch import FetchError, HttpError, Hooks, fetch_kpi

    rec = KoladaRecording(per_page=150)
    failures = {"page=2": [HttpError("x", 503, "Service Unavailable"), FetchError("x: timed out")]}
    waits, retries = [], []

    def flaky(url):
        for key, errs in failures.items():
            if key in url and errs:
                rec.calls.append(url)
                raise errs.pop(0)
        return rec(url)

    r = fetch_kpi("U20417", [2009], getter=flaky, sleep=waits.append,
                  hooks=Hooks(retry=lambda url, n, e, w: retries.append((n, str(e)))))
    assert r.api == "v3" and [len(p["values"]) for p in r.pages] == [150, 143]
    assert waits == [2.0, 4.0]                       # back-off before retry 1 and 2
    assert [n for n, _ in retries] == [1, 2] and "HTTP 503" in retries[0][1]
    assert sum("page=2" in u for u in rec.calls) == 3   # two failures, then the page


def test_v3_failing_falls_back_to_v2_after_three_retries():
    from warehouse.importers.fetch import HttpError, Hooks, fetch_kpi

    rec = KoladaRecording()
    v3_calls, fallbacks = [], []

    def v3_down(url):
        if "/v3/" in url:
            v3_calls.append(url)
            raise HttpError(url, 502, "Bad Gateway")
        return rec(url)

    r = fetch_kpi("U21401", [2008, 2009], getter=v3_down, sleep=lambda s: None,
                  hooks=Hooks(fallback=lambda k, api, e: fallbacks.append((k, api))))
    assert len(v3_calls) == 4                        # the first attempt and 3 retries
    assert r.api == "v2" and "v3" in r.failed and fallbacks == [("U21401", "v2")]
    assert rec.calls == ["http://api.kolada.se/v2/data/kpi/U21401/year/2008,2009"]
    assert r.n_values == 2 * 293


def test_not_found_is_not_retried_and_no_network_stops_at_once():
    from warehouse.importers.fetch import FetchError, HttpError, NoNetwork, fetch_kpi

    calls = []

    def gone(url):
        calls.append(url)
        raise HttpError(url, 404, "Not Found")

    with pytest.raises(FetchError, match="v3: .*HTTP 404.*; v2: .*HTTP 404"):
        fetch_kpi("U21401", [2009], getter=gone, sleep=lambda s: None)
    assert len(calls) == 2                           # one per API version, no retries

    calls.clear()

    def offline(url):
        calls.append(url)
        raise NoNetwork(f"{url}: [Errno -2] Name or service not known")

    with pytest.raises(NoNetwork):
        fetch_kpi("U21401", [2009], getter=offline, sleep=lambda s: None)
    assert len(calls) == 1


def test_urllib_getter_classifies_dns_failure_as_no_network(monkeypatch):
    import socket
    import urllib.error
    import urllib.request

    from warehouse.importers import fetch as F

    def dns_fails(*a, **k):
        raise urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))

    monkeypatch.setattr(urllib.request, "urlopen", dns_fails)
    with pytest.raises(F.NoNetwork):
        F.urllib_get("https://api.kolada.se/v3/data/kpi/U20432/year/2009")

    def refused(*a, **k):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    with pytest.raises(F.FetchError) as e:
        F.urllib_get("https://api.kolada.se/v3/data/kpi/U20432/year/2009")
    assert not isinstance(e.value, F.NoNetwork) and F.retryable(e.value)


# ------------------------------------------------------------------------------ the command

def test_dry_run_lists_urls_for_preset_ids_in_catalogue(tmp_path):
    db = tmp_path / "none.duckdb"
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2009", "--dry-run", "--db", db)
    assert r.exit_code == 0, r.output
    urls = [line for line in r.output.splitlines() if line.startswith("http")]
    ids = []
    for u in urls:
        m = re.fullmatch(r"https://api\.kolada\.se/v3/data/kpi/([A-Z]\d{5})/year/2009", u)
        assert m, u
        ids.append(m.group(1))
    cat = catalogue_titles()
    assert len(set(ids)) == len(ids) >= 25 and all(i in cat for i in ids)
    assert "dry run" in r.output
    assert list(tmp_path.iterdir()) == []            # nothing written


@pytest.fixture
def offline_fast(monkeypatch):
    """No sleeping between retries."""
    from warehouse.importers import fetch as F

    monkeypatch.setattr(F, "BACKOFF_S", (0.0, 0.0, 0.0))
    return F


@pytest.fixture(scope="module")
def small_wh(tmp_path_factory) -> Path:
    """Schema, municipalities, catalogue, presets and the demo: enough to import and refresh."""
    import warnings

    from warehouse.db import apply_schema
    from warehouse.demo import generate_demo
    from warehouse.loaders import load_embedded

    path = tmp_path_factory.mktemp("fetchwh") / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    apply_schema(con)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        load_embedded(con)
    generate_demo(con)
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def wh_copy(small_wh, tmp_path) -> Path:
    import shutil

    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(small_wh, d / "warehouse.duckdb")
    return d / "warehouse.duckdb"


def test_no_network_one_line_nothing_changed(wh_copy, offline_fast, monkeypatch):
    from warehouse.importers.fetch import NoNetwork

    calls = []

    def offline(url):
        calls.append(url)
        raise NoNetwork(f"{url}: [Errno -2] Name or service not known")

    monkeypatch.setattr(offline_fast, "urllib_get", offline)
    before = snapshot(wh_copy)
    files_before = sorted(p.name for p in wh_copy.parent.iterdir())
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2007-2013", "--db", wh_copy)
    assert r.exit_code == 1
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no network" in lines[0] and "nothing changed" in lines[0], r.output
    assert len(calls) == 1
    assert snapshot(wh_copy) == before
    assert sorted(p.name for p in wh_copy.parent.iterdir()) == files_before   # no cache, no JSON


def _kpi_rows(db):
    return query(db, "SELECT count(*) FROM kpi_values WHERE kpi_id IN (SELECT kpi_id FROM kpi_presets) AND year = 2009 AND gender = 'T'")[0][0]


def test_interrupted_fetch_resumes_from_cached_pages(wh_copy, offline_fast, monkeypatch):
    from warehouse.presets import load_preset

    ids = load_preset("oj-aldreomsorg").kpi_ids
    rec = KoladaRecording(per_page=150)                 # 293 entries: 2 pages per KPI
    stop_after = 9                                      # pages 1..9 arrive, the 10th is interrupted

    def interrupted(url):
        if len(rec.calls) >= stop_after:
            raise KeyboardInterrupt
        return rec(url)

    monkeypatch.setattr(offline_fast, "urllib_get", interrupted)
    before = snapshot(wh_copy)
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2009", "--db", wh_copy)
    assert r.exit_code == 130, r.output
    assert "resume" in r.output and snapshot(wh_copy) == before
    cache_dirs = list((wh_copy.parent / "kolada_cache").iterdir())
    assert len(cache_dirs) == 1 and len(list(cache_dirs[0].glob("*.json"))) == stop_after

    # the same command again: the 9 cached pages are not asked for, the rest are
    rec2 = KoladaRecording(per_page=150)
    monkeypatch.setattr(offline_fast, "urllib_get", rec2)
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2009", "--db", wh_copy)
    assert r.exit_code == 0, r.output
    assert "resuming" in r.output
    assert len(rec2.calls) == 2 * len(ids) - stop_after
    assert set(rec.calls[:stop_after]).isdisjoint(rec2.calls)
    assert _kpi_rows(wh_copy) == 290 * len(ids)
    assert not cache_dirs[0].exists()                   # cleared after the import committed
    saved = json.loads((wh_copy.parent / "kolada_oj-aldreomsorg_2009-2009.json").read_text("utf-8"))
    assert len(saved) == 2 * len(ids)


def test_fetch_failing_page_keeps_cache_and_imports_nothing(wh_copy, offline_fast, monkeypatch):
    from warehouse.importers.fetch import HttpError

    rec = KoladaRecording()

    def broken(url):
        if "U20433" in url:
            raise HttpError(url, 500, "Internal Server Error")
        return rec(url)

    monkeypatch.setattr(offline_fast, "urllib_get", broken)
    before = snapshot(wh_copy)
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2009", "--db", wh_copy)
    assert r.exit_code == 1
    out = " ".join(r.output.split())
    assert "U20433: v3:" in out and "v2:" in out and "HTTP 500" in out and "resume" in out
    assert snapshot(wh_copy) == before
    preset_ids = __import__("warehouse.presets", fromlist=["x"]).load_preset("oj-aldreomsorg").kpi_ids
    done_before = preset_ids.index("U20433")
    cache = next((wh_copy.parent / "kolada_cache").iterdir())
    assert len(list(cache.glob("*.json"))) == done_before   # one page per KPI fetched before it


def test_fetch_preset_imports_in_one_transaction_and_refreshes(wh_copy, offline_fast, monkeypatch):
    from warehouse.presets import load_preset

    preset = load_preset("oj-aldreomsorg")
    rec = KoladaRecording()
    monkeypatch.setattr(offline_fast, "urllib_get", rec)
    r = cli("fetch", "kolada", "--preset", "oj-aldreomsorg", "--years", "2009", "--db", wh_copy)
    assert r.exit_code == 0, r.output
    assert len(rec.calls) == len(preset.kpis)             # one page per KPI at 5 000 a page
    assert _kpi_rows(wh_copy) == 290 * len(preset.kpis)
    assert query(wh_copy, "SELECT count(*) FROM import_log") == [(1,)]   # one import
    # the KPIs' metadata comes from the preset (the importer itself only knows titles)
    got = dict((k, (p, hib, a, u)) for k, p, hib, a, u in query(
        wh_copy, "SELECT kpi_id, perspective, higher_is_better, area, unit FROM kpis WHERE kpi_id LIKE 'U%'"))
    for k in preset.kpis:
        assert got[k.kpi_id] == (k.perspective, k.higher_is_better, k.area, k.unit), k.kpi_id
    # a value, by hand from the recording's rule
    from make_kolada_recordings import value
    assert query(wh_copy, "SELECT value FROM kpi_values WHERE kpi_id = 'U20432' AND municipality_code = '1480' "
                          "AND year = 2009 AND gender = 'T'") == [(value("U20432", "1480", 2009, "T", "%"),)]
    # refresh ran: the marts exist and are newer than the import
    assert query(wh_copy, "SELECT count(*) FROM pipeline_runs WHERE started_at >= "
                          "(SELECT max(imported_at) FROM import_log)")[0][0] > 0
