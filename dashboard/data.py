"""The dashboard's ONE connection layer to the warehouse: read-only, parametrised, per process.

    from dashboard.data import get_db
    db = get_db()                               # inside a request / callback
    df = db.query("SELECT * FROM kpis WHERE kpi_id = ?", [kpi_id])
    if db.has_view("cost_deviation"): ...

Rules:
- The file is opened with ``duckdb.connect(path, read_only=True)``: the web process can never
  write the warehouse (a write raises ``duckdb.InvalidInputException``).
- One connection per process (opened lazily, so it is opened after gunicorn forks) and a fresh
  cursor per call, which makes concurrent callbacks in threads safe.
- Only parametrised queries: values from URLs go in ``params``, never into the SQL text.
  Validate them first with ``valid_code``/``parse_year``/``db.valid_kpi_id``.
- Small lookups (municipalities, kpis, which views exist) are cached per connection; the
  connection (and its caches) is reopened when the file is replaced (``styrkort build``).
- Pages read marts and format them; there is no "mart, else raw kpi_values" second path. A
  missing mart is a clear message: ``db.has_view(name)`` says whether a (mart) view exists,
  ``db.query_view(...)`` returns ``None`` instead of raising, and the page shows
  ``components.mart_missing(view)`` ("Kör `styrkort refresh`").

``scorecard_data(db, code, year, lang)`` is the plain data fetch behind /kommun/<code>
(benchmarked by benchmarks/dashboard_*.py): two point reads (the scorecard_series mart for the
sparklines and trend verdicts, the scorecard_page mart for the chosen year: the scorecard rows
with positions, similar reference and targets joined by the pipeline) plus per-process cached
lookups of the small marts.

Also here: ``map_measures``/``measure_years``/``map_data`` (what can colour the map on /),
``municipalities_geojson()`` (polygons wound for Plotly), ``success_factors()`` and
``FACTORS_FOR`` (SKL 2010, Öppna jämförelser analys – framgångsfaktorer), ``default_only(db, view)`` (' AND is_default' where a mart keeps
several configurations).
"""
from __future__ import annotations

import atexit
import functools
import gc
import json
import math
import os
import re
import threading
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from styrkort.i18n import t

# ASCII digits only (\d would accept "١٢٣٤"), and fullmatch so "0180\n" is rejected too.
CODE_RE = re.compile(r"[0-9]{4}")
KPI_ID_RE = re.compile(r"[A-Za-z0-9_:\-.]{1,64}")
PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")

# Config key on the Flask server / env var naming the warehouse file.
CONFIG_KEY = "STYRKORT_DB"


class Warehouse:
    """A read-only DuckDB connection with per-call cursors and small cached lookups."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"Warehouse file not found: {self.path}")
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._stamp = _file_stamp(self.path)
        self._cache: dict = {}
        self._lock = threading.Lock()

    # -- raw access -----------------------------------------------------------------------
    def query(self, sql: str, params: list | tuple | dict | None = None) -> pd.DataFrame:
        """Run one parametrised query on a fresh cursor and return a DataFrame."""
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def rows(self, sql: str, params=None) -> list[tuple]:
        cur = self._con.cursor()
        try:
            return cur.execute(sql, params or []).fetchall()
        finally:
            cur.close()

    def rows_view(self, view: str, sql: str, params=None) -> list[tuple] | None:
        """``rows`` that returns None when `view` is missing or the query fails on it."""
        if not self.has_view(view):
            return None
        try:
            return self.rows(sql, params)
        except duckdb.Error:
            return None

    def one(self, view: str, sql: str, params=None) -> dict | None:
        """First row of a query on `view` as a dict, None if no row or no view."""
        if not self.has_view(view):
            return None
        cur = self._con.cursor()
        try:
            cur.execute(sql, params or [])
            row = cur.fetchone()
            if row is None:
                return None
            return {d[0]: clean(v) for d, v in zip(cur.description, row)}
        except duckdb.Error:
            return None
        finally:
            cur.close()

    def close(self) -> None:
        self._con.close()

    # -- cached lookups ---------------------------------------------------------------------
    def _cached(self, key, fn):
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = fn()
        with self._lock:
            self._cache[key] = value
        return value

    def views(self) -> frozenset[str]:
        """Names of all views and tables in the main schema (cached)."""
        return self._cached("views", lambda: frozenset(
            r[0] for r in self.rows(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")))

    def has_view(self, name: str) -> bool:
        return name in self.views()

    def columns(self, view: str) -> tuple[str, ...]:
        """Column names of a view ('' tuple if it does not exist), cached."""
        def fetch():
            return tuple(r[0] for r in self.rows(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [view]))
        return self._cached(("columns", view), fetch)

    def query_view(self, view: str, sql: str, params=None) -> pd.DataFrame | None:
        """``query`` that returns None when `view` is missing or the query fails on it
        (a mart not built yet, an older warehouse): pages show 'ej beräknat' instead."""
        if not self.has_view(view):
            return None
        try:
            return self.query(sql, params)
        except duckdb.Error:
            return None

    def municipalities(self) -> pd.DataFrame:
        """municipalities view, sorted by name (cached). Columns: municipality_code, name,
        county_code, county_name, skl_group_2005."""
        return self._cached("municipalities", lambda: self.query(
            "SELECT municipality_code, name, county_code, county_name, skl_group_2005 "
            "FROM municipalities ORDER BY name"))

    def municipality(self, code: str) -> dict | None:
        """One municipality as a dict, or None (also for invalid codes)."""
        if not valid_code(code):
            return None
        names = self._cached("municipality_index", lambda: {
            r["municipality_code"]: r for r in self.municipalities().to_dict("records")})
        return names.get(code)

    def municipality_name(self, code: str) -> str:
        m = self.municipality(code)
        return m["name"] if m else code

    def kpis(self) -> pd.DataFrame:
        """kpis view (cached), indexed by nothing; sorted by perspective then title."""
        return self._cached("kpis", lambda: self.query(
            "SELECT kpi_id, title, description, unit, higher_is_better, perspective, area, "
            "source, is_demo FROM kpis ORDER BY perspective NULLS LAST, title"))

    def kpi(self, kpi_id: str) -> dict | None:
        index = self._cached("kpi_index", lambda: {
            r["kpi_id"]: r for r in self.kpis().to_dict("records")})
        return index.get(kpi_id) if isinstance(kpi_id, str) else None

    def perspective_kpis(self) -> list[dict]:
        """KPIs with a Balansen perspective as dicts, in display order (cached)."""
        def fetch():
            df = self.kpis()
            return df[df["perspective"].isin(PERSPECTIVES)].to_dict("records")
        return self._cached("perspective_kpis", fetch)

    def perspective_kpis_clean(self) -> list[dict]:
        """perspective_kpis as JSON-safe row templates for the scorecard (cached)."""
        def fetch():
            out = []
            for k in self.perspective_kpis():
                out.append({
                    "kpi_id": k["kpi_id"], "title": k["title"], "unit": clean(k["unit"]),
                    "perspective": k["perspective"], "higher_is_better": clean(k["higher_is_better"]),
                    "area": clean(k["area"]), "is_demo": bool(k["is_demo"]), "kpi_source": k["source"],
                    "value": None, "year": None, "group_mean": None, "national_mean": None,
                    "group_rank": None, "group_n": None, "size_group": None, "status": None,
                    "national_rank": None, "national_n": None, "national_tied": None,
                    "national_band": None, "group_tied": None, "group_band": None,
                    "similar_mean": None, "similar_n": None, "similar_year": None,
                    "target": None, "target_tolerance": None, "target_tolerance_default": None,
                    "target_status": None, "target_gap": None, "target_decided_by": None,
                    "target_is_demo": None,
                    "source": k["source"], "trend": None, "last_value": None, "last_year": None,
                    "spark_years": [], "spark_values": []})
            return out
        return self._cached("perspective_kpis_clean", fetch)

    def valid_kpi_id(self, kpi_id) -> bool:
        """True only for ids that exist in the kpis view."""
        return isinstance(kpi_id, str) and KPI_ID_RE.fullmatch(kpi_id) is not None and self.kpi(kpi_id) is not None

    def years(self, view: str = "scorecard", column: str = "year") -> list[int]:
        """Distinct years of a view (cached), ascending; [] if the view is missing."""
        if column not in ("year",) or not self.has_view(view):
            return []

        def fetch():
            try:
                return [int(r[0]) for r in self.rows(
                    f'SELECT DISTINCT "year" FROM "{view}" WHERE "year" IS NOT NULL ORDER BY 1')]
            except duckdb.Error:
                return []
        # the view name is never user input; quoted anyway
        return self._cached(("years", view), fetch)

    def stale(self) -> bool:
        """True if the file on disk was replaced since this connection was opened."""
        return _file_stamp(self.path) != self._stamp


def _file_stamp(path: Path):
    try:
        st = path.stat()
        return (st.st_ino, st.st_mtime_ns)
    except OSError:
        return None


# -- one connection per process ---------------------------------------------------------------
_PROCESS: dict = {}          # (pid, path) -> Warehouse; rebuilt after fork or file swap
_PROCESS_LOCK = threading.Lock()


def db_path_from_context() -> Path:
    """The warehouse path of the running app (Flask config), else env STYRKORT_DB, else default."""
    try:
        from flask import current_app
        path = current_app.config.get(CONFIG_KEY)
        if path:
            return Path(path)
    except RuntimeError:  # outside an app context
        pass
    from styrkort.paths import default_db
    return default_db()


def get_db(path: str | os.PathLike | None = None) -> Warehouse:
    """The process's read-only Warehouse for `path` (default: the running app's)."""
    path = Path(path) if path is not None else db_path_from_context()
    key = (os.getpid(), str(path.resolve()))
    with _PROCESS_LOCK:
        wh = _PROCESS.get(key)
        if wh is not None and wh.stale():
            _PROCESS.pop(key, None)
            try:
                wh.close()
            except duckdb.Error:
                pass
            wh = None
        if wh is None:
            wh = Warehouse(path)
            _PROCESS[key] = wh
            _freeze_long_lived()
        return wh


def close_all() -> None:
    """Close this process's warehouse connections (before gunicorn forks: see
    dashboard.app.prerender_scorecards)."""
    with _PROCESS_LOCK:
        for key in list(_PROCESS):
            wh = _PROCESS.pop(key)
            try:
                wh.close()
            except duckdb.Error:
                pass


_FROZEN_PID: list[int] = []


def _freeze_long_lived() -> None:
    """Once per process, at its first warehouse connection (after gunicorn's fork): move every
    object alive now (Dash, Plotly, pandas, the pages, the page registry: ~150 000 objects) out
    of the cyclic garbage collector's reach with gc.freeze(). They live as long as the process;
    without this a full collection, triggered every few scorecard renders by the thousands of
    components they build, walks all of them (~80 ms) and sets the page's p95."""
    pid = os.getpid()
    if pid not in _FROZEN_PID:
        _FROZEN_PID.append(pid)
        gc.freeze()
        # back to normal at exit, so interpreter shutdown frees them (DuckDB's bindings report
        # objects still alive at exit as leaks)
        atexit.register(gc.unfreeze)


# -- validation of URL parameters ---------------------------------------------------------------
def first(value):
    """Query parameters may arrive as a list when repeated; take the first."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    return value


def valid_code(code) -> bool:
    """A municipality code is exactly four digits ('0180'). Only a string: callers take
    `first()` of a repeated query parameter themselves, and a callback value that is a list
    is no code (the caller would go on to use the list)."""
    return isinstance(code, str) and CODE_RE.fullmatch(code) is not None


def parse_year(value, allowed: list[int] | None = None) -> int | None:
    """An int year from a URL parameter, or None if not an int (or not in `allowed`)."""
    value = first(value)
    if value is None:
        return None
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if not 1900 <= year <= 2100:
        return None
    if allowed is not None and year not in allowed:
        return None
    return year


def is_missing(x) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return isinstance(x, float) and math.isnan(x)
    except TypeError:
        return False


def clean(x):
    """NaN/NA -> None, numpy scalars -> Python (for JSON in Dash props)."""
    if is_missing(x):
        return None
    if hasattr(x, "item"):
        try:
            return x.item()
        except (ValueError, AttributeError):
            return x
    return x


def records(df: pd.DataFrame | None) -> list[dict]:
    """DataFrame -> JSON-safe records (NaN -> None, timestamps -> ISO text)."""
    if df is None or df.empty:
        return []
    out = []
    for row in df.to_dict("records"):
        rec = {}
        for k, v in row.items():
            v = clean(v)
            if hasattr(v, "isoformat"):
                v = v.isoformat()
            rec[k] = v
        out.append(rec)
    return out


# -- the scorecard --------------------------------------------------------------------------------
def scorecard_data(db: Warehouse, code: str, year=None, lang: str = "sv") -> dict:
    """Everything /kommun/<code> shows, as plain data (no Dash components).

    `year` None (or anything that is not one of the municipality's years, e.g. 'senaste') asks
    for the latest value of each KPI: every KPI row then carries its own latest year with a value
    and the references (size group, country) of that same year (the mart's `is_latest` rows).

    Returns {"found": False, "code": code} for an invalid or unknown code. Otherwise a dict:
      municipality (dict), years (list of ints), year (int, or None for "senaste"),
      latest (bool: each KPI at its own latest year), population (dict|None),
      composite (dict|None), uncertainty (dict|None), cost (dict|None),
      grants (list of dicts|None), grant_years (grant_uptake_by_year rows: the header's uptake
      per year|None), kpis (DataFrame, built on first use, one row per KPI with a perspective:
      kpi_id, title, unit, perspective, higher_is_better, is_demo, value, year, group_mean,
      national_mean, group_rank, group_n, size_group, status, source, trend, last_value,
      last_year, spark_years, spark_values), kpi_rows (the same rows as a list of plain,
      JSON-safe dicts: what the page iterates; DataFrame.to_dict is slow at ~550 KPIs),
      units (list of dicts), panel_counts ({perspective: {n, best, middle, worst, info, too_few,
      missing}} from the scorecard_status_counts mart for this year or 'senaste'; None without
      the mart), missing (list of view names that were not available).
    Two point reads (scorecard_series for the KPIs' series and trends, scorecard_page for the
    chosen year) plus per-process cached lookups. Without those marts there is no second way to the
    figures: the KPI rows come without values and `missing` names the marts (the page says
    "Kör `styrkort refresh`").
    """
    code = first(code)
    if not valid_code(code):
        return {"found": False, "code": code}
    muni = db.municipality(code)
    if muni is None:
        return {"found": False, "code": code}
    missing: list[str] = []

    asked = parse_year(year)
    read = _read_series(db, code, asked)
    if read is None:
        missing += [v for v in ("scorecard", "scorecard_series") if not db.has_view(v)] or ["scorecard"]
        read = ({}, {}, [], None)
    by_kpi, trends, years, chosen = read
    if not db.has_view("trends"):
        missing.append("trends")
    if db.has_view("scorecard"):
        missing += [v for v, _, _, _ in _JOINED if not db.has_view(v)]
    in_mart = _scorecard_kpis(db)
    hidden = hidden_twins(db, chosen)   # one row per indicator: the demo twin or its real KPI
    rows: list[dict] = []
    for k in db.perspective_kpis_clean():
        if in_mart is not None and k["kpi_id"] not in in_mart:
            continue  # e.g. unit-level KPIs: never a municipality value
        if k["kpi_id"] in hidden:
            continue
        row = dict(k, year=chosen, trend=trends.get(k["kpi_id"]))  # the mart row sets its year
        g = by_kpi.get(k["kpi_id"])
        if g and g[0]:
            sy, sv, cur = g
            row["spark_years"], row["spark_values"] = sy, sv
            row["last_value"], row["last_year"] = sv[-1], sy[-1]
            if cur is not None:   # the chosen year's mart row (a tuple in _SCORECARD_NAMES order)
                row.update(zip(_SCORECARD_NAMES, [None if v != v else v for v in cur]))  # NaN -> None
                row["is_demo"] = bool(k["is_demo"] or cur[_DEMO_AT])
        rows.append(row)

    header = _header(db, code, chosen, missing)
    comp_year = (header.get("composite") or {}).get("year")
    return ScorecardData({
        "whatif": whatif_data(db, code, comp_year),
        "found": True,
        "code": code,
        "municipality": muni,
        "years": years,
        "year": chosen,
        "latest": chosen is None,
        **header,
        "kpi_rows": rows,
        "similar": similar_for(db, code, (r["similar_year"] for r in rows if r["value"] is not None)),
        "missing": missing,
        "lang": lang,
    })


class ScorecardData(dict):
    """scorecard_data's answer. d["kpis"] (the KPI rows as a DataFrame) is built on first use:
    the page and the PDF iterate kpi_rows, and building the frame cost ~2 ms a request at
    ~550 KPIs for nobody."""

    def __missing__(self, key):
        if key != "kpis":
            raise KeyError(key)
        rows = self["kpi_rows"]
        df = pd.DataFrame({c: [r[c] for r in rows] for c in _KPI_COLUMNS})
        self["kpis"] = df
        return df


# -- the scorecard's perspective panels: one function for the screen and the PDF -----------------------
# summary placeholder -> column of the scorecard_status_counts mart (the stated quartile rule)
STATUS_COUNTED = {"n": "n_kpis", "best": "n_best", "middle": "n_middle", "worst": "n_worst",
                  "info": "n_no_direction", "too_few": "n_too_few", "missing": "n_missing"}


def panel_rows(d: dict) -> dict[str, list[dict]]:
    """scorecard_data's KPI rows grouped by Balansen perspective, in PERSPECTIVES order: what each
    panel of /kommun/<code> and each perspective of the nämndrapport PDF lists (same year rule:
    every row holds the value of d["year"], or None)."""
    out: dict[str, list[dict]] = {p: [] for p in PERSPECTIVES}
    for r in d.get("kpi_rows") or []:
        out.setdefault(r["perspective"], []).append(r)
    return out


WHATIF_TOP = 3   # the changes listed on the scorecard


_WHATIF_CONTRIB = ("area", "weight_share", "score", "group_median_score", "contribution", "baseline",
                   "composite", "is_demo")
_WHATIF_TOP_COLS = ("kpi_id", "scenario", "value", "target_value", "rank", "new_rank", "group_rank",
                    "new_group_rank", "rank_gain", "is_demo")


def whatif_data(db: Warehouse, code: str, year: int | None) -> dict | None:
    """What would move the composite rank (marts index_contributions and index_whatif) for the
    municipality in the index year `year`: {"year", "contributions": [{area, weight_share, score,
    group_median_score, contribution, baseline, composite}], "top": the WHATIF_TOP KPIs whose
    change would move the rank most (per KPI its best scenario, the median on a tie; only
    changes that improve the rank), each {kpi_id, scenario, value, target_value, rank, new_rank,
    group_rank, new_group_rank, rank_gain, is_demo}}; None without the marts or the year."""
    if year is None or not (db.has_view("index_whatif") and db.has_view("index_contributions")):
        return None
    try:
        contrib, top = _whatif_all(db)
    except duckdb.Error:
        return None
    key = (code, int(year))
    if key not in contrib:
        return None
    return {"year": year, "contributions": [dict(r) for r in contrib[key]],
            "top": [dict(r) for r in top.get(key, [])]}


def _whatif_all(db: Warehouse) -> tuple[dict, dict]:
    """(code, year) -> contribution rows, and -> the WHATIF_TOP rows, for every municipality and
    index year, read once per process (290 × a few years × a few areas; the top rows chosen by
    one window over index_whatif): a scorecard request then needs no query for its what-if (two
    point reads cost ~4 ms a page, index_whatif is not ordered for them)."""
    def fetch():
        contrib: dict = {}
        for code, year, *r in db.rows(
                f"SELECT municipality_code, year, {', '.join(_WHATIF_CONTRIB)} FROM index_contributions "
                "ORDER BY municipality_code, year, weight_share DESC, area"):
            contrib.setdefault((code, int(year)), []).append(
                {k: clean(v) for k, v in zip(_WHATIF_CONTRIB, r)})
        top: dict = {}
        for code, year, *r in db.rows(
                f"""SELECT municipality_code, year, {', '.join(_WHATIF_TOP_COLS)} FROM (
                      SELECT *, row_number() OVER (PARTITION BY municipality_code, year
                                                   ORDER BY rank_gain DESC, scenario = 'group_median' DESC,
                                                            kpi_id) AS pick
                      FROM (SELECT * FROM index_whatif WHERE rank_gain > 0   -- per KPI its best scenario
                            QUALIFY row_number() OVER (PARTITION BY municipality_code, year, kpi_id
                                                       ORDER BY rank_gain DESC, scenario = 'group_median' DESC) = 1))
                    WHERE pick <= ? ORDER BY municipality_code, year, pick""", [WHATIF_TOP]):
            top.setdefault((code, int(year)), []).append({k: clean(v) for k, v in zip(_WHATIF_TOP_COLS, r)})
        return contrib, top
    return db._cached("whatif_all", fetch)


def similar_sets(db: Warehouse) -> dict[str, dict[int, list[tuple[str, str]]]]:
    """Municipality code -> structure year -> its similar municipalities [(code, name)], nearest
    first (the similar_municipalities mart, read once per process); {} without the mart."""
    def fetch():
        rows = db.rows_view(
            "similar_municipalities",
            "SELECT m.municipality_code, m.year, m.similar_code, x.name FROM similar_municipalities m "
            "JOIN municipalities x ON x.municipality_code = m.similar_code "
            "ORDER BY m.municipality_code, m.year, m.similar_rank") or []
        out: dict = {}
        for code, year, other, name in rows:
            out.setdefault(code, {}).setdefault(int(year), []).append((other, name))
        return out
    return db._cached("similar_sets", fetch)


def similar_for(db: Warehouse, code: str, years) -> list[tuple[int, list[tuple[str, str]]]]:
    """[(structure year, [(code, name)])] for the structure years a page's rows used (their
    similar_year), else the latest set; [] without the mart."""
    sets = similar_sets(db).get(code, {})
    used = sorted({int(y) for y in years if y is not None and int(y) in sets})
    if not used and sets:
        used = [max(sets)]
    return [(y, sets[y]) for y in used]


def index_demo(db: Warehouse, year) -> dict | None:
    """is_demo, n_kpis, n_kpis_real of the default composite index of `year` (None without it),
    for C.index_demo_label."""
    if year is None or not db.has_view("composite_index"):
        return None
    cols = db.columns("composite_index")
    extra = ", any_value(n_kpis), any_value(n_kpis_real)" if "n_kpis" in cols else ", NULL, NULL"
    rows = db.rows_view("composite_index", f"SELECT bool_or(is_demo){extra} FROM composite_index "
                        "WHERE year = ?" + default_only(db, "composite_index"), [int(year)])
    if not rows or rows[0][0] is None:
        return None
    return {"is_demo": bool(rows[0][0]), "n_kpis": clean(rows[0][1]), "n_kpis_real": clean(rows[0][2])}


def hidden_twins(db: Warehouse, year) -> frozenset:
    """KPI ids the scorecard and /jamfor leave out for `year` (None = each KPI's latest value):
    the pipelines' decision (mart demo_twin_years, pipelines/effective.py, column
    hidden_kpi_id) — one row per demo/real pair, never both."""
    if not db.has_view("demo_twin_years") or "hidden_kpi_id" not in db.columns("demo_twin_years"):
        return frozenset()
    twins = db._cached("demo_twin_years", lambda: db.rows(
        "SELECT hidden_kpi_id, year FROM demo_twin_years"))
    want = None if year is None else int(year)
    return frozenset(k for k, y in twins or [] if (y if y is None else int(y)) == want)


def default_only(db: Warehouse, view: str) -> str:
    """' AND is_default' when the mart keeps several configurations (user runs) and marks the
    default one; '' for marts without that column."""
    return " AND is_default" if "is_default" in db.columns(view) else ""


def panel_counts(d: dict, perspective: str) -> dict | None:
    """A panel's summary counts (the STATUS_COUNTED keys) from the scorecard_status_counts mart,
    for the screen and the PDF alike. None: the mart is not built (say so). A perspective the
    mart has no row for has no KPI in the scorecard: all zero."""
    counts = d.get("panel_counts")
    if counts is None:
        return None
    return counts.get(perspective) or dict.fromkeys(STATUS_COUNTED, 0)


# summary placeholder -> column of the target_status_counts mart ('Mål: 4 av 6 uppnådda, …')
TARGETS_COUNTED = {"n": "n_targets", "achieved": "n_achieved", "near": "n_near",
                   "not_achieved": "n_not_achieved", "no_direction": "n_no_direction"}


def panel_target_counts(d: dict, perspective: str) -> dict | None:
    """A panel's target counts (the TARGETS_COUNTED keys) from the target_status_counts mart, for
    the screen and the PDF alike; None when the panel has no target this view (or the mart is
    not there: `missing` says so)."""
    return (d.get("target_counts") or {}).get(perspective)


def _target_counts(db: Warehouse) -> dict:
    """(municipality_code, year or None) -> {perspective: counts} from the target_status_counts
    mart (cached per process; only views with a target have rows)."""
    def fetch():
        cols = ", ".join(TARGETS_COUNTED.values())
        out: dict = {}
        for code, persp, year, *n in db.rows(
                f"SELECT municipality_code, perspective, year, {cols} FROM target_status_counts"):
            out.setdefault((code, year), {})[persp] = {k: int(v) for k, v in zip(TARGETS_COUNTED, n)}
        return out
    return db._cached("target_counts", fetch)


def _status_counts(db: Warehouse) -> dict:
    """(municipality_code, year or None) -> {perspective: counts} from the scorecard_status_counts
    mart (cached per process; 290 × 4 perspectives × a few years). Year None is the 'senaste'
    view (each KPI at its latest year). Counts: the STATUS_COUNTED keys."""
    def fetch():
        cols = ", ".join(STATUS_COUNTED.values())
        out: dict = {}
        for code, persp, year, *n in db.rows(
                f"SELECT municipality_code, perspective, year, {cols} FROM scorecard_status_counts"):
            out.setdefault((code, year), {})[persp] = {k: int(v) for k, v in zip(STATUS_COUNTED, n)}
        return out
    return db._cached("status_counts", fetch)


_KPI_COLUMNS = ("kpi_id", "title", "unit", "perspective", "higher_is_better", "area", "is_demo",
                "kpi_source", "value", "year", "group_mean", "national_mean", "group_rank",
                "group_n", "size_group", "status", "source", "trend", "last_value", "last_year",
                "spark_years", "spark_values",
                "national_rank", "national_n", "national_tied", "national_band", "group_tied",
                "group_band", "similar_mean",
                "similar_n", "similar_year",
                "target", "target_tolerance", "target_tolerance_default", "target_status", "target_gap",
                "target_decided_by", "target_is_demo")


def _scorecard_kpis(db: Warehouse) -> frozenset | None:
    """KPI ids that occur in the scorecard mart (cached); None without the mart."""
    if not db.has_view("scorecard"):
        return None
    # the series mart has the same KPIs in ~1/17 of the rows (a cold page is ~0.1 s faster)
    view = "scorecard_series" if db.has_view("scorecard_series") else "scorecard"
    return db._cached("scorecard_kpis", lambda: frozenset(
        r[0] for r in db.rows(f"SELECT DISTINCT kpi_id FROM {view}")))


_CHOSEN_COLUMNS = ("year", "value", "size_group", "group_mean", "national_mean", "group_rank",
                   "group_n", "status", "is_demo", "source")
# Marts joined to each scorecard row (one point read): status and ranks from kpi_positions (the
# stated quartile rule), the "liknande kommuner" reference from similar_reference, the
# municipality's target for the row's year from target_status. (view, alias, extra condition,
# ((column in the view, name in the row, type), ...)).
_JOINED = (
    ("kpi_positions", "p", "", (("group_rank", "group_rank", "INTEGER"), ("group_n", "group_n", "INTEGER"),
                                ("status", "status", "VARCHAR"), ("national_rank", "national_rank", "INTEGER"),
                                ("national_n", "national_n", "INTEGER"), ("national_tied", "national_tied", "INTEGER"),
                                ("national_band", "national_band", "VARCHAR"),
                                ("group_tied", "group_tied", "INTEGER"), ("group_band", "group_band", "VARCHAR"))),
    ("similar_reference", "r", "", (("similar_mean", "similar_mean", "DOUBLE"),
                                    ("similar_n", "similar_n", "INTEGER"), ("similar_year", "similar_year", "INTEGER"))),
    ("target_status", "g", " AND g.unit_id IS NULL",
     (("target", "target", "DOUBLE"), ("tolerance_used", "target_tolerance", "DOUBLE"),
      ("tolerance_is_default", "target_tolerance_default", "BOOLEAN"), ("status", "target_status", "VARCHAR"),
      ("gap", "target_gap", "DOUBLE"), ("decided_by", "target_decided_by", "VARCHAR"),
      ("target_is_demo", "target_is_demo", "BOOLEAN"))),
)
_JOINED_COLUMNS = tuple(name for _, _, _, cols in _JOINED for _, name, _ in cols)
_SCORECARD_NAMES = tuple(c for c in _CHOSEN_COLUMNS if c not in _JOINED_COLUMNS) + _JOINED_COLUMNS
_DEMO_AT = _SCORECARD_NAMES.index("is_demo")
_SCORECARD_SELECT = ", ".join([f"s.{c}" for c in _CHOSEN_COLUMNS if c not in _JOINED_COLUMNS]
                              + [f"{a}.{c}" for _, a, _, cols in _JOINED for c, _, _ in cols])


def _joined_sql(db: Warehouse) -> str:
    """The LEFT JOINs of the scorecard read; a mart not built yet joins an empty relation (the
    page then says which mart is missing)."""
    out = []
    for view, alias, extra, cols in _JOINED:
        rel = view if db.has_view(view) else (
            "(SELECT NULL::VARCHAR AS kpi_id, NULL::VARCHAR AS municipality_code, NULL::INTEGER AS year, "
            "NULL::VARCHAR AS unit_id, " + ", ".join(f"NULL::{typ} AS {c}" for c, _, typ in cols) + " WHERE false)")
        out.append(f"LEFT JOIN {rel} {alias} ON {alias}.municipality_code = s.municipality_code "
                   f"AND {alias}.kpi_id = s.kpi_id AND {alias}.year = s.year{extra}")
    return " ".join(out)


def _chosen_sql(db: Warehouse) -> str:
    """SELECT … FROM … of the chosen year's rows (kpi_id, then _SCORECARD_NAMES): the
    scorecard_page mart (the targets step joined the marts once: one point read), else, in a
    warehouse refreshed before it existed, the same join per request."""
    if db.has_view("scorecard_page"):
        return f"SELECT s.kpi_id, {', '.join(f's.{c}' for c in _SCORECARD_NAMES)} FROM scorecard_page s"
    return f"SELECT s.kpi_id, {_SCORECARD_SELECT} FROM scorecard s {_joined_sql(db)}"


def _read_series(db: Warehouse, code: str, asked: int | None):
    """(by_kpi, trends, years, chosen) for one municipality from the scorecard marts, or None if
    the scorecard mart cannot be read. by_kpi: kpi_id -> (spark_years, spark_values, the chosen
    year's row as a tuple in _SCORECARD_NAMES order or None); trends: kpi_id -> verdict; years: the municipality's years with a value;
    chosen: `asked` if it is one of them, else None: each KPI's latest year (`is_latest`)."""
    if not (db.has_view("scorecard_series") and db.has_view("scorecard")):
        return None
    try:
        years = _series_years(db).get(code, [])
        chosen = asked if asked in years else None
        cur = db._con.cursor()
        try:
            # fetchnumpy: the list columns convert ~2x faster than via fetchall's tuples
            s = cur.execute("SELECT kpi_id, spark_years, spark_values, trend FROM scorecard_series "
                            "WHERE municipality_code = ?", [code]).fetchnumpy()
            which = "s.is_latest" if chosen is None else "s.year = ?"
            now = cur.execute(
                _chosen_sql(db) + f" WHERE s.municipality_code = ? AND {which} AND s.value IS NOT NULL",
                [code] if chosen is None else [code, chosen]).fetchall()
        finally:
            cur.close()
    except duckdb.Error:
        return None
    chosen_rows = {r[0]: r[1:] for r in now}
    ids = s["kpi_id"].tolist()
    by_kpi = {k: (y.tolist(), v.tolist(), chosen_rows.get(k))
              for k, y, v in zip(ids, s["spark_years"], s["spark_values"])}
    # the series mart carries the default trends run's verdicts (a trends run with other
    # parameters never replaces them: mart contract, ARCHITECTURE.md)
    trends = {k: t for k, t in zip(ids, s["trend"].tolist()) if t is not None and t == t}
    return by_kpi, trends, years, chosen


def scorecard_years(db: Warehouse, code) -> list[int] | None:
    """scorecard_data(db, code)["years"] without reading the scorecard (the URL check of
    ?year= on every page open): the municipality's years with a value; None for an unknown code."""
    code = first(code)
    if db.municipality(code) is None:
        return None
    if not (db.has_view("scorecard_series") and db.has_view("scorecard")):
        return []
    try:
        return list(_series_years(db).get(code, []))
    except duckdb.Error:
        return []


def _series_years(db: Warehouse) -> dict[str, list[int]]:
    """Municipality code -> its years with a scorecard value, ascending (cached per process)."""
    return db._cached("series_years", lambda: {
        c: [int(y) for y in ys] for c, ys in db.rows(
            "SELECT municipality_code, list(DISTINCT year ORDER BY year) FROM scorecard "
            "WHERE value IS NOT NULL AND year IS NOT NULL GROUP BY municipality_code")})


# Small per-municipality marts (290 × a few years): read once per process into dicts keyed by
# municipality code, so a scorecard request needs only its one scorecard query.
# (view, key, SELECT list, extra WHERE, "latest" = pick the row for the year else the latest before)
_HEADER_PARTS = (
    ("municipality_years", "population", "year, population, size_group, population_source", "", True),
    ("composite_index", "composite", "year, composite, rank, size_group, group_rank, n_ranked AS n, group_n, is_demo, n_kpis, n_kpis_real",
     "{default}", True),
    ("rank_uncertainty", "uncertainty",
     "year, rank_median, rank_p05, rank_p95, p_top, p_bottom, draws", "{default}", True),
    ("cost_deviation", "cost", "year, net_cost, standard_cost, deviation_pct, method, {source} AS source",
     " AND deviation_pct IS NOT NULL", True),
    ("grant_uptake", "grants", "round, pot, frame_sek, applied, granted_sek, paid_sek, returned_sek, "
     "uptake_share, data_level, {source} AS source", "", False),
    ("grant_uptake_by_year", "grant_years", "year, rounds, rounds_applied, rounds_with_data, frame_sek, "
     "granted_sek, applied, uptake_share, data_level", "", False),
    ("org_units", "units", "unit_id, name, kind, is_demo", "", False),
)
_ORDER = {"grants": "round, pot", "units": "kind, name"}


def _per_municipality(db: Warehouse, view: str, key: str, select: str, where: str) -> dict:
    def fetch():
        sel = select.replace("{source}", "source" if "source" in db.columns(view) else "NULL")
        cond = where.replace("{default}", default_only(db, view))
        order = _ORDER.get(key, "year")
        cur = db._con.cursor()
        try:
            cur.execute(f"SELECT municipality_code, {sel} FROM {view} WHERE true{cond} "
                        f"ORDER BY municipality_code, {order}")
            names = [d[0] for d in cur.description][1:]
            out: dict[str, list[dict]] = {}
            for row in cur.fetchall():
                out.setdefault(row[0], []).append({n: clean(v) for n, v in zip(names, row[1:])})
            return out
        finally:
            cur.close()
    return db._cached(("per_municipality", key), fetch)


def _pick_year(rows: list[dict], year: int | None) -> dict | None:
    """The row for `year`, else the latest before it, else the latest (rows sorted by year)."""
    if not rows:
        return None
    if year is None:
        return dict(rows[-1])
    before = [r for r in rows if r["year"] is not None and r["year"] <= year]
    return dict(before[-1] if before else rows[-1])


def _header(db: Warehouse, code: str, year: int | None, missing: list) -> dict:
    """Population, composite, rank uncertainty, cost, grants and units of one municipality."""
    out = {"population": None, "composite": None, "uncertainty": None, "cost": None,
           "grants": None, "grant_years": None, "units": []}
    for view, key, select, where, latest in _HEADER_PARTS:
        if not db.has_view(view):
            if view not in ("municipality_years", "org_units"):
                missing.append(view)
            continue
        try:
            rows = _per_municipality(db, view, key, select, where).get(code, [])
        except duckdb.Error:
            missing.append(view)
            continue
        out[key] = _pick_year(rows, year) if latest else [dict(r) for r in rows]
    # the panels' status counts, as the positions step counted them for this year (None = 'senaste')
    out["panel_counts"] = None
    if db.has_view("scorecard_status_counts"):
        try:
            out["panel_counts"] = _status_counts(db).get((code, year), {})
        except duckdb.Error:
            missing.append("scorecard_status_counts")
    else:
        missing.append("scorecard_status_counts")
    # the panels' target counts, as the targets step counted them for this view (None = 'senaste')
    out["target_counts"] = None
    if db.has_view("target_status_counts"):
        try:
            out["target_counts"] = _target_counts(db).get((code, year), {})
        except duckdb.Error:
            missing.append("target_status_counts")
    elif db.has_view("target_status"):
        missing.append("target_status_counts")   # targets judged, but not counted yet: say so
    out["units"] = out["units"] or []
    return out


# -- the success factors of SKL 2010, Öppna jämförelser analys (shown where a perspective is weak, and on /om) --
# Which of the study's eight success factors (SKL 2010, Öppna jämförelser analys) speak to a weak perspective (factor numbers).
FACTORS_FOR = {
    "omsorgstagare": (1, 6, 5),
    "ekonomi": (3, 4, 8),
    "medarbetare": (2, 6, 3),
    "verksamhet": (5, 1, 7),
}



@functools.lru_cache(maxsize=1)
def success_factors() -> dict[int, str]:
    """Factor number -> name, from warehouse/sources/success_factors.json (SKL 2010, Öppna jämförelser analys)."""
    text = (resources.files("warehouse.sources") / "success_factors.json").read_text("utf-8")
    return {f["n"]: f["name"] for f in json.loads(text)["factors"]}




# -- the map's polygons ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def municipalities_geojson() -> dict:
    """The 290 municipality polygons (okfse/sweden-geojson), coordinates rounded to ~100 m to
    keep the page light. Read-only file shipped in warehouse/sources."""
    text = (resources.files("warehouse.sources") / "swedish_municipalities.geojson").read_text("utf-8")
    gj = json.loads(text)

    def area(ring):  # planar shoelace on lon/lat; > 0 = counter-clockwise
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1])) / 2

    def polygon(rings):
        # Plotly's geo (d3-geo) wants exterior rings clockwise and holes counter-clockwise, the
        # opposite of RFC 7946; a ring the wrong way round fills the whole globe.
        out = []
        for i, ring in enumerate(rings):
            ring = [[round(x, 3), round(y, 3)] for x, y in ring]
            if (i == 0) == (area(ring) > 0):
                ring = ring[::-1]
            out.append(ring)
        return out

    feats = []
    for f in gj["features"]:
        geom = f["geometry"]
        if geom["type"] == "Polygon":
            coords = polygon(geom["coordinates"])
        else:
            coords = [polygon(p) for p in geom["coordinates"]]
        feats.append({"type": "Feature", "id": f["properties"]["id"],
                      "properties": {"id": f["properties"]["id"]},
                      "geometry": {"type": geom["type"], "coordinates": coords}})
    return {"type": "FeatureCollection", "features": feats}


# -- measures for the map on / (and any page that colours municipalities) -----------------------
def map_measures(db: Warehouse, lang: str = "sv") -> list[dict]:
    """Measures that can colour the map, only those whose views exist:
    [{"value": "composite"|"cost"|"grant"|"kpi:<id>", "label": ...}]."""
    out = []
    if db.has_view("composite_index"):
        out.append({"value": "composite", "label": t("map_measure_composite", lang)})
    if db.has_view("cost_deviation"):
        out.append({"value": "cost", "label": t("map_measure_cost", lang)})
    if db.has_view("grant_uptake_by_year"):
        out.append({"value": "grant", "label": t("map_measure_grant", lang)})
    for k in db.perspective_kpis():
        out.append({"value": f"kpi:{k['kpi_id']}",
                    "label": t("map_measure_kpi", lang, title=str(k["title"]))
                    + (f" ({t('demo', lang)})" if k["is_demo"] else "")})
    return out


def valid_measure(db: Warehouse, measure) -> bool:
    measure = first(measure)
    if measure in ("composite", "cost", "grant"):
        return any(m["value"] == measure for m in map_measures(db))
    return (isinstance(measure, str) and measure.startswith("kpi:")
            and db.valid_kpi_id(measure[4:]))


def measure_years(db: Warehouse, measure: str) -> list[int]:
    """Years for which `measure` has values (ascending), cached."""
    def fetch():
        if measure == "composite":
            sql, params, view = ("SELECT DISTINCT year FROM composite_index WHERE true"
                                 + default_only(db, "composite_index") + " ORDER BY 1", [], "composite_index")
        elif measure == "cost":
            sql, params, view = ("SELECT DISTINCT year FROM cost_deviation WHERE deviation_pct "
                                 "IS NOT NULL ORDER BY 1", [], "cost_deviation")
        elif measure == "grant":
            # only years with per-municipality outcomes
            sql, params, view = ("SELECT DISTINCT year FROM grant_uptake_by_year "
                                 "WHERE data_level = 'municipality' ORDER BY 1", [], "grant_uptake_by_year")
        else:
            sql, params, view = ("SELECT DISTINCT year FROM effective_kpi_values WHERE kpi_id = ? "
                                 "AND gender = 'T' ORDER BY 1", [measure[4:]], "effective_kpi_values")
        rows = db.rows_view(view, sql, params) or []
        return [int(r[0]) for r in rows if r[0] is not None]
    return db._cached(("measure_years", measure), fetch)


def map_data(db: Warehouse, measure: str, year: int, lang: str = "sv") -> tuple[pd.DataFrame, dict]:
    """(df, meta) for one measure and year. df: municipality_code, name, county_name, value
    (all 290 municipalities, value None where missing). meta: label, unit ('rank'|'%'|KPI unit),
    higher_is_better, source, modelled (bool), is_demo (bool), year, stored_source (bool: the
    source is warehouse text, in Swedish)."""
    meta = {"year": year, "modelled": False, "is_demo": False, "higher_is_better": True}
    label = next((m["label"] for m in map_measures(db, lang) if m["value"] == measure), measure)
    meta["label"] = label
    if measure == "composite":
        rows = db.rows_view("composite_index",
                            "SELECT municipality_code, rank FROM composite_index WHERE year = ?"
                            + default_only(db, "composite_index"), [year])
        info = index_demo(db, year) or {"is_demo": True}
        meta.update(unit="rank", higher_is_better=False, **info, source=t("map_source_composite", lang))
    elif measure == "cost":
        rows = db.rows_view("cost_deviation",
                            "SELECT municipality_code, deviation_pct, method FROM cost_deviation "
                            "WHERE year = ?", [year])
        methods = {r[2] for r in rows or []}
        meta.update(unit="%", higher_is_better=False, modelled="modelled" in methods,
                    source=t("map_source_cost_modelled" if "modelled" in methods else "map_source_cost_official",
                             lang))
        rows = [r[:2] for r in rows or []]
    elif measure == "grant":
        # the year's rounds and pots together, as the grants step stored them (share 0–1)
        rows = db.rows_view(
            "grant_uptake_by_year",
            "SELECT municipality_code, uptake_share FROM grant_uptake_by_year "
            "WHERE year = ? AND data_level = 'municipality'", [year])
        rows = [(c, None if v is None else 100 * v) for c, v in rows or []]
        meta.update(unit="%", source=t("map_source_grant", lang))
    else:
        k = db.kpi(measure[4:]) or {}
        # effective values: a demo KPI's year replaced by its real twin shows nothing here
        rows = db.rows_view("effective_kpi_values",
                            "SELECT municipality_code, value FROM effective_kpi_values WHERE kpi_id = ? "
                            "AND year = ? AND gender = 'T'", [measure[4:], year])
        meta.update(unit=clean(k.get("unit")), higher_is_better=clean(k.get("higher_is_better")),
                    source=k.get("source"), is_demo=bool(k.get("is_demo")), stored_source=True)
    values = {r[0]: clean(r[1]) for r in rows or []}
    df = db.municipalities()[["municipality_code", "name", "county_name"]].copy()
    df["value"] = df["municipality_code"].map(values)
    return df, meta
