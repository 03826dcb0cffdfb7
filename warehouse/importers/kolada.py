"""`styrkort import kolada FILE...`: Kolada data as users bring it.

Accepted formats (detected from the content, not the file name):

1. Kolada web export, CSV. As downloaded: Windows-1252, ``;``, CRLF, header
   ``Kommun/Landsting;Nyckeltal;År;Visat Värde``; also UTF-8 with or without BOM, ``,``
   separators, quoted or not, columns in any order, optional ``Kön`` column (T/K/M or
   Totalt/Kvinnor/Män). The R-style re-saved variant ``"","Nyckeltal","Kommun.Landsting","År",
   "Visat.Värde"`` (a row-number column first) is the same thing. Municipalities are named by
   Kolada's exact name (or code), KPIs by title (or id). Aggregate rows such as
   "Alla kommuner (ovägt medel)" or "Kommuner per län" go to ``benchmark_values``.
2. Kolada's long extract ``Variabelkod,Kommun,År,Värde`` (KPI id, municipality name or code).
3. The same tables as ``.xlsx`` or ``.xls`` (first sheet; the header may sit below a title row).
4. Kolada API JSON, v2 (``http://api.kolada.se/v2/data/kpi/N00945/municipality/1860/year/2010``)::

       {"count": 1,
        "values": [{"kpi": "N00945", "municipality": "1860", "period": 2010,
                    "values": [{"gender": "T", "count": 1, "status": "", "value": 20.3}, ...]}],
        "next_page": "http://api.kolada.se/v2/data/...&page=2"}      # optional, also previous_page

   and v3 (``https://api.kolada.se/v3/data/kpi/N00945/municipality/1860/year/2010``), the same
   data objects in an envelope that pages with ``next_url``/``previous_url`` (``null`` on the
   last page); a value object may carry ``"isdeleted"``: values marked ``true`` (withdrawn by
   Kolada) are skipped and counted, never imported::

       {"count": 1, "values": [{"kpi": "N00945", "municipality": "1860", "period": 2010,
                                "values": [{"gender": "T", "count": 1, "status": "", "value": 20.3,
                                            "isdeleted": false}]}],
        "next_url": null, "previous_url": null}

   A file may also hold a list of such pages (as `styrkort fetch kolada` saves them). ``value``
   ``null`` is a missing value. Municipality ids: 4-digit codes; ``"0000"`` is the whole country
   (benchmark "Riket"), ``G…`` ids are Kolada municipality groups (benchmark
   "Kommungrupp G…"), ``"00NN"`` a county (benchmark "<county> (Kolada 00NN)").
   JSON has no useful line numbers: errors name the entry, e.g. "post (entry) 3, values[2]".

KPI titles are mapped through Kolada's catalogue (``kpi_catalogue``), then the warehouse's own
``kpi`` titles. A title the catalogue gives two ids (usually a municipal N0… and a county-council
N6… KPI) takes the id the warehouse already has, else the municipal one, with a warning. An
unknown title becomes a new KPI with id ``X_<first 8 hex of sha1(title)>`` (stable, so a
re-import maps to the same id) and a warning.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd

from warehouse.importers.common import (
    BackgroundHash, ImportFailure, ImportSummary, Roles, StagedFile, load_json,
    sniff_kind, stage_csv, stage_excel, stage_frame, write_import_log,
)
from warehouse.importers.values import AreaTarget, KpiTarget, close_staged, import_values

# Accepted header names per role, preferred first: with both a code and a name column the code
# is the key (area_raw) and the name (area_name_raw) must agree with it.
_AREA_CODE_NAMES = ("kommunkod", "municipality code", "municipality id", "kommun id", "kommunid")
_AREA_NAME_NAMES = ("kommun/landsting", "kommun landsting", "kommun", "kommun/region", "kommunnamn",
                    "municipality", "municipality name", "område")
KOLADA_ROLES = Roles(
    required={
        "area_raw": _AREA_CODE_NAMES + _AREA_NAME_NAMES,
        "kpi_raw": ("nyckeltal", "variabelkod", "nyckeltal id", "nyckeltalsid", "kpi", "kpi id",
                    "kpi title", "nyckeltalskod"),
        "year_raw": ("år", "ar", "year", "period"),
        "value_raw": ("visat värde", "värde", "visat varde", "varde", "value", "visat värde (%)"),
    },
    optional={"gender_raw": ("kön", "kon", "gender"), "area_name_raw": _AREA_NAME_NAMES},
    kinds={"area_raw": "code", "year_raw": "year", "value_raw": "number"},
)

_KOLADA_ID = re.compile(r"^[A-Z]\d{5}$")
_GROUP_ID = re.compile(r"^G\d+$")


def new_kpi_id(title: str) -> str:
    """Stable generated id for a KPI title the catalogue does not know."""
    return "X_" + hashlib.sha1(_norm_title(title).encode("utf-8")).hexdigest()[:8]


def _norm_title(s: str) -> str:
    return re.sub(r"\s+", " ", str(s)).strip()


def _fold(s: str) -> str:
    return _norm_title(s).casefold()


class KpiResolver:
    """KPI id or title -> KpiTarget, via kpi_catalogue then the kpi table."""

    def __init__(self, con, summary: ImportSummary, create_unknown: bool = True):
        self.summary = summary
        self.create_unknown = create_unknown
        self.kpi_titles = dict(con.execute("SELECT kpi_id, title FROM kpi").fetchall())
        cat = con.execute("SELECT kpi_id, title, description FROM kpi_catalogue").fetchall()
        self.cat = {k: (t, d) for k, t, d in cat}
        self.cat_by_title: dict[str, list[str]] = {}
        for k, t, _ in cat:
            self.cat_by_title.setdefault(_fold(t), []).append(k)
        self.kpi_by_title: dict[str, list[str]] = {}
        for k, t in self.kpi_titles.items():
            self.kpi_by_title.setdefault(_fold(t), []).append(k)
        # KPI ids match whatever their case ("n20014" is N20014); the warehouse's spelling wins.
        self.id_by_fold: dict[str, str] = {}
        for k in list(self.cat) + list(self.kpi_titles):
            self.id_by_fold[k.casefold()] = k

    def __call__(self, raws: list[str]) -> dict[str, KpiTarget]:
        return {raw: self.one(raw) for raw in raws}

    def exact(self) -> dict[str, KpiTarget]:
        """Strings that map without judgement (no warning): KPI ids the warehouse or the
        catalogue knows, catalogue titles with one id, the warehouse's own titles."""
        out: dict[str, KpiTarget] = {}
        titles_seen: dict[str, set] = {}
        for kid, (t, _) in self.cat.items():
            titles_seen.setdefault(t, set()).add(kid)
        for kid, t in self.kpi_titles.items():
            if t not in titles_seen:
                titles_seen.setdefault(t, set()).add(kid)
        for t, ids in titles_seen.items():
            if len(ids) == 1 and t == _norm_title(t) and len(self.cat_by_title.get(t.casefold(), [])) <= 1:
                out[t] = self._target(next(iter(ids)))
        for kid in list(self.cat) + list(self.kpi_titles):
            out[kid] = self._target(kid)
        return out

    def _target(self, kid: str) -> KpiTarget:
        if kid in self.cat:
            t, d = self.cat[kid]
            return KpiTarget(kid, t, d)
        return KpiTarget(kid, self.kpi_titles.get(kid, kid))

    def one(self, raw: str) -> KpiTarget:
        s = _norm_title(raw)
        if not s:
            return KpiTarget(None)
        if s in self.kpi_titles or s in self.cat:
            return self._target(s)
        if s.casefold() in self.id_by_fold:
            return self._target(self.id_by_fold[s.casefold()])
        ids = sorted(set(self.cat_by_title.get(s.casefold(), [])))
        if ids:
            return self._target(self._choose(s, ids))
        ids = sorted(self.kpi_by_title.get(s.casefold(), []))
        if ids:
            return self._target(ids[0])
        if _KOLADA_ID.match(s.upper()):
            s = s.upper()
            if not self.create_unknown:
                return KpiTarget(None)
            self.summary.warnings.append(
                f"Nyckeltalet {s} finns inte i katalogen (KPI id not in the catalogue): nytt nyckeltal {s}.")
            return KpiTarget(s, f"Kolada {s}")
        if not self.create_unknown:
            return KpiTarget(None)
        kid = new_kpi_id(s)
        self.summary.warnings.append(
            f"Okänd nyckeltalstitel (unknown KPI title) {s!r}: nytt nyckeltal {kid}.")
        return KpiTarget(kid, s, "Okänd titel vid import; id genererat av styrkort.")

    def _choose(self, title: str, ids: list[str]) -> str:
        if len(ids) == 1:
            return ids[0]
        known = [i for i in ids if i in self.kpi_titles]
        # Kolada's county-council KPIs have '6' as first digit (N6…, U6…); imports here are
        # municipal, so the municipal twin wins.
        municipal = [i for i in ids if not (len(i) > 1 and i[1] == "6")]
        pick = (known or municipal or ids)[0]
        self.summary.warnings.append(
            f"Titeln {title!r} har flera id i katalogen (ambiguous KPI title: {', '.join(ids)}); valde {pick}.")
        return pick


class AreaResolver:
    """Municipality code or Kolada name -> code; aggregate rows -> benchmark name."""

    def __init__(self, con):
        from warehouse.names import build_name_index

        self.index = build_name_index(con)
        self.names = con.execute("SELECT municipality_code, name FROM municipality").fetchall()
        self.aliases = con.execute("SELECT alias, municipality_code FROM municipality_alias").fetchall()
        self.counties = dict(con.execute("SELECT DISTINCT county_code, county_name FROM municipality").fetchall())

    def __call__(self, raws: list[str]) -> dict[str, AreaTarget]:
        return {raw: self.one(raw) for raw in raws}

    def exact(self) -> dict[str, AreaTarget]:
        """Codes, SCB names and aliases exactly as written."""
        out = {}
        for code, name in self.names:
            out[code] = out[name] = AreaTarget(municipality_code=code)
        for alias, code in self.aliases:
            out.setdefault(alias, AreaTarget(municipality_code=code))
        return out

    def one(self, raw: str) -> AreaTarget:
        from warehouse.names import code_name_conflict, is_aggregate, resolve

        s = str(raw).strip()
        if not s:
            return AreaTarget()
        if code_name_conflict(s, self.index):
            return AreaTarget(conflict=True)
        code = resolve(s, self.index)
        if code:
            return AreaTarget(municipality_code=code)
        if s == "0000":
            return AreaTarget(benchmark="Riket")
        if _GROUP_ID.match(s):
            return AreaTarget(benchmark=f"Kommungrupp {s}")
        if re.fullmatch(r"00\d\d", s) and s[2:] in self.counties:
            return AreaTarget(benchmark=f"{self.counties[s[2:]]} (Kolada {s})")
        if is_aggregate(s, self.index):
            return AreaTarget(benchmark=s)
        return AreaTarget()

    def same(self, code_text: str, name_text: str) -> bool:
        """A code column and a name column agree (aggregate rows: the same text or both
        aggregates)."""
        from warehouse.names import same_municipality

        a, b = self.one(code_text), self.one(name_text)
        if a.benchmark is not None or b.benchmark is not None:
            return a.benchmark is not None and b.benchmark is not None
        return same_municipality(code_text, name_text, self.index)


# ---------------------------------------------------------------------------------------------
# JSON

DELETED = "borttaget i Kolada, hoppades över (isdeleted: true, skipped)"


def _json_text(path, label, what: str, v, *, number: bool = False) -> str | None:
    """A JSON scalar as the text the SQL rules read: null -> None, strings as they are, numbers
    as written (2010 -> '2010', 20.5 -> '20.5'). A boolean, list or object is refused (a
    boolean is not a year or a value; `true` would otherwise read as 1)."""
    if v is None:
        return None
    if isinstance(v, bool) or isinstance(v, (list, dict)):
        kind = "ett sanningsvärde (a boolean)" if isinstance(v, bool) else "en lista eller ett objekt (not a scalar)"
        problem = "non-numeric value" if number else "invalid field"
        raise ImportFailure(path, label, f"fältet {what!r} är {kind} ({problem})")
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 and what == "period" else repr(v)
    return str(v)


def parse_kolada_json(path: Path, obj) -> tuple[pd.DataFrame, list[str], int]:
    """Kolada API v2/v3 data response(s) -> role columns, an entry label per row, and the number
    of values skipped because Kolada marks them deleted (``"isdeleted": true``)."""
    if isinstance(obj, list) and obj and all(
            isinstance(p, dict) and isinstance(p.get("values"), list) and "kpi" not in p for p in obj):
        pages = obj                       # a list of response pages
    else:
        pages = [obj]                     # one response, or a bare list of data objects
    items: list[tuple[str, dict]] = []
    for p_i, page in enumerate(pages):
        prefix = f"[{p_i}]." if len(pages) > 1 else ""
        if isinstance(page, dict) and isinstance(page.get("values"), list):
            vals = page["values"]
        elif isinstance(page, list):
            vals = page
        else:
            raise ImportFailure(path, None, "inte ett Kolada-svar: 'values' saknas (wrong file type: "
                                            "expected a Kolada API data response)")
        for i, it in enumerate(vals):
            items.append((f"{prefix}values[{i}]", it))
    rows = {"area_raw": [], "kpi_raw": [], "year_raw": [], "value_raw": [], "gender_raw": []}
    labels: list[str] = []
    deleted = 0
    for n, (where, it) in enumerate(items, start=1):
        label = f"post (entry) {n}, {where}"
        if not isinstance(it, dict):
            raise ImportFailure(path, label, "väntade ett objekt (expected an object)")
        if "ou" in it and "municipality" not in it:
            raise ImportFailure(path, label, "enhetsdata (ou) stöds inte här (organisational-unit data is not supported)")
        if "id" in it and "title" in it and "kpi" not in it:
            raise ImportFailure(path, label, "metadata, inte data (wrong file type: Kolada metadata, not data)")
        for fld in ("kpi", "municipality", "period", "values"):
            if fld not in it:
                raise ImportFailure(path, label, f"fältet {fld!r} saknas (missing field)")
        if not isinstance(it["values"], list):
            raise ImportFailure(path, label, "'values' är inte en lista (invalid values)")
        area = _json_text(path, label, "municipality", it["municipality"])
        kpi = _json_text(path, label, "kpi", it["kpi"])
        year = _json_text(path, label, "period", it["period"])
        for j, v in enumerate(it["values"]):
            where_v = f"{label}.values[{j}]"
            if not isinstance(v, dict) or "value" not in v:
                raise ImportFailure(path, where_v, "fältet 'value' saknas (missing field)")
            flag = v.get("isdeleted", False)
            if flag not in (True, False, None):
                raise ImportFailure(path, where_v, "fältet 'isdeleted' är inte true/false (invalid field)")
            if flag is True:
                deleted += 1
                continue
            rows["area_raw"].append(area)
            rows["kpi_raw"].append(kpi)
            rows["year_raw"].append(year)
            rows["value_raw"].append(_json_text(path, where_v, "value", v.get("value"), number=True))
            rows["gender_raw"].append(_json_text(path, where_v, "gender", v.get("gender")))
            labels.append(where_v)
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in rows.items()})
    return df, labels, deleted


# ---------------------------------------------------------------------------------------------

def stage_kolada_file(con, path: Path, roles: Roles = KOLADA_ROLES, prefix: str = "kolada") -> StagedFile:
    path = Path(path)
    kind = sniff_kind(path)          # a regular, readable file: safe to read in a thread
    # Hashed from the start, while this thread checks the encoding and line ends and builds
    # the name maps (one core busy), rather than later beside DuckDB's own threads.
    sha256 = BackgroundHash(path)
    if kind == "csv":
        sf = stage_csv(con, path, roles, prefix)
    elif kind in ("xlsx", "xls"):
        sf = stage_excel(con, path, kind, roles, prefix)
    else:
        df, labels, deleted = parse_kolada_json(path, load_json(path))
        sf = stage_frame(con, path, kind, df, labels, prefix)
        if deleted:
            sf.skipped[DELETED] = deleted
    sf.sha256 = sha256
    return sf


def import_kolada(con, paths, allow_unmapped: bool = False, source: str | None = None,
                  log: bool = True) -> ImportSummary:
    """Import Kolada files into the warehouse on `con` as ONE batch. Does not commit or roll
    back: the caller owns the transaction (the CLI wraps it; `styrkort build` calls this inside
    its own build). Raises ImportFailure on bad input, leaving the rollback to the caller.

    source: text for kpi_value.source / benchmark_value.source (default "Kolada (fil: NAME)")."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ImportFailure("(inga filer)", None, "ingen fil angiven (no file given)")
    summary = ImportSummary(kind="kolada")
    staged: list[StagedFile] = []
    try:
        for p in paths:
            staged.append(stage_kolada_file(con, p))
        sources = [source or f"Kolada (fil: {p.name})" for p in paths]
        areas = AreaResolver(con)
        import_values(
            con, staged, summary,
            resolve_areas=areas,
            check_area_pair=areas.same,
            resolve_kpis=KpiResolver(con, summary, create_unknown=True),
            allow_unmapped=allow_unmapped,
            sources=sources,
            kpi_source=source or "Kolada (import)",
        )
        if log:
            write_import_log(con, summary)
        return summary
    finally:
        close_staged(con, staged)
