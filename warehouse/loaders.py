"""Loaders for the embedded real sources in warehouse/sources/ (`styrkort build`).

`load_embedded(con)` fills the stored tables from the shipped files inside the caller's
connection (the build writes a temporary file and swaps it in, so a failure leaves the
previous warehouse as it was). Bulk work is DuckDB SQL (warehouse/sql/*.sql); Python does
the small parts: name resolution, checks with clear messages, provenance.

Every check that fails raises `SourceError` naming the file, the line and the problem.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from warehouse.counties import COUNTY_NAMES
from warehouse.db import SCHEMA_VERSION
from warehouse.names import build_name_index, read_alias_file, resolve
from warehouse.presets import store_presets
from warehouse.series_breaks import load_series_breaks
from warehouse.units import load_unit_kpis
from warehouse.value_source import source_ids

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
SQL_DIR = HERE / "sql"
KPI_META_CSV = HERE / "kolada_kpi_meta.csv"
OWN_FILES = ("scb_municipality_panel.csv", "skl_kommungrupper_2005.csv",
             "kolada_kpi_catalogue_2012.csv", "kolada_extract_1998_2011.csv")
EXPORT_FILE = "kolada_export_aldreomsorg_2008_2011.csv"
GRANT_FILES = ("grant_rounds_2011_2013.csv", "grants_2013_by_municipality.csv",
               "stimulus_grant_return_stockholm.csv", "grant_facts.csv")

# Swedish descriptions for /om, per shipped file that the build loads.
DESCRIPTIONS = {
    "scb_municipality_panel.csv": "SCB:s kommunpanel: folkmängd 31 dec (året före panelåret), åldersandelar, utbildning, skatt, kostnader",
    "skl_kommungrupper_2005.csv": "SKL:s kommungruppsindelning 2005 (10 grupper, bl.a. 20 glesbygdskommuner)",
    "kolada_extract_1998_2011.csv": "Kolada-utdrag 1998–2011, 35 nyckeltal (bl.a. N20014 nettokostnad äldreomsorg kr/inv)",
    "kolada_kpi_catalogue_2012.csv": "Koladas nyckeltalskatalog 2012 (titel, beskrivning, kod)",
    "kolada_export_aldreomsorg_2008_2011.csv": "Kolada-export äldreomsorg 2008–2011 (nyckeltal efter titel, inkl. jämförelserader)",
    "grants_2013_by_municipality.csv": "Prestationsmedel värdighetsgarantier 2013 per kommun (Bilaga 1, rader som tryckta)",
    "grant_rounds_2011_2013.csv": "Prestationsmedel 2011–2013: ansökningsomgångar, utlyst och utbetalt (Tabell 2)",
    "grant_applications_2013.csv": "Prestationsmedel 2013: ansökningar, avslag, beviljade per pott (Tabell 1)",
    "grant_facts.csv": "Kontrollsiffror ur Socialstyrelsens lägesrapport 2014",
    "stimulus_grant_return_stockholm.csv": "Stockholms återbetalning av stimulansbidrag 2012–2013",
}

# Titles in the elderly-care export that Kolada's 2012 catalogue lacks (importer gives them
# generated ids); they describe services, so Balansen's "verksamhet" perspective.
ELDERLY_CARE_EXPORT_TITLES = (
    "U. Personer i dagverksamhet i kommunen, andel (%)",
    "U. Personer i gruppboenden för personer med demenssjukdomar, andel (%)",
    "U. Personer i korttidsboende i kommunen, andel (%)",
)


class SourceError(ValueError):
    """A shipped source file is not what the loader expects (file, line, problem)."""


# --------------------------------------------------------------------------- pure helpers

def parse_unit(title: str) -> str | None:
    """Unit from a Kolada title: "..., andel (%)" → "%", "..., kr/inv 65+" → "kr/inv 65+",
    "... antal/1000 inv" or "per 1 000 inv." → "antal/1000 inv", "..., antal" → "antal"."""
    t = " ".join(str(title).split())
    if re.search(r"\(%\)\s*$", t):
        return "%"
    m = re.search(r"\bkr/inv\b.*$", t)
    if m:
        return m.group(0).strip()
    if re.search(r"antal/1000 inv|per 1 000 inv", t):
        return "antal/1000 inv"
    if re.search(r",\s*antal\s*$", t):
        return "antal"
    if re.search(r"\bindex\b", t, flags=re.IGNORECASE):
        return "index"
    return None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Provenance:
    source: dict[str, str]      # file → original source, as PROVENANCE.md states it
    sha256: dict[str, str]      # file → checksum listed in PROVENANCE.md


def parse_provenance(text: str) -> Provenance:
    """Read PROVENANCE.md's tables (| file | ... | source |) and its checksum block.
    "same repository" / "same report" refer to the row above, as a reader would take it."""
    sources: dict[str, str] = {}
    previous = ""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 2 or set(cells[0]) <= set("-: ") or cells[0] == "file":
            continue
        source = cells[-1]
        if source.startswith("same ") and previous:
            # "same repository (other/path.csv)" / "same report, Tabell 1–2": the row above's
            # source without its own path, plus this row's detail.
            rest = re.sub(r"^same \w+,?\s*", "", source)
            base = re.sub(r"\s*\([^)]*\)\s*$", "", previous)
            if rest.startswith("("):
                source = f"{base} {rest}"
            else:   # "same report, Tabell 1–2": the report, not the row above's table
                source = f"{base.rsplit(', ', 1)[0]}, {rest}" if rest else base
        else:
            previous = source
        for name in re.split(r",\s*", cells[0]):
            sources[name.strip("` ")] = source
    checksums = dict(
        (m.group(2), m.group(1)) for m in re.finditer(r"^([0-9a-f]{64})\s+(\S+)\s*$", text, flags=re.M)
    )
    return Provenance(sources, checksums)


def build_timestamp() -> datetime:
    """Build time; SOURCE_DATE_EPOCH (the reproducible-builds convention) pins it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).replace(tzinfo=None)
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- steps

def _check_file(path: Path, prov: Provenance) -> str:
    if not path.exists():
        raise SourceError(f"{path}: file missing (see warehouse/sources/PROVENANCE.md)")
    digest = sha256_file(path)
    expected = prov.sha256.get(path.name)
    if expected is not None and expected != digest:
        raise SourceError(
            f"{path}: sha256 {digest} differs from PROVENANCE.md ({expected}); "
            "the shipped file was changed — restore it or update its provenance"
        )
    return digest


def load_municipalities(con, sources: Path = SOURCES) -> None:
    panel, skl = sources / "scb_municipality_panel.csv", sources / "skl_kommungrupper_2005.csv"
    con.execute("CREATE OR REPLACE TEMP TABLE county_names (county_code VARCHAR, county_name VARCHAR)")
    con.executemany("INSERT INTO county_names VALUES (?, ?)", sorted(COUNTY_NAMES.items()))
    con.execute(sql("municipality.sql"), {"panel": str(panel), "skl": str(skl)})
    con.execute("DROP TABLE county_names")

    bad_code = con.execute(
        "SELECT municipality_code FROM municipality WHERE NOT regexp_full_match(municipality_code, '[0-9]{4}')"
    ).fetchall()
    if bad_code:
        raise SourceError(f"{panel}: municipality codes not 4-digit text: {[c for (c,) in bad_code][:5]}")
    no_county = con.execute("SELECT municipality_code, county_code FROM municipality WHERE county_name IS NULL").fetchall()
    if no_county:
        raise SourceError(f"{panel}: unknown county codes {no_county[:5]}")
    no_group = con.execute("SELECT municipality_code, name FROM municipality WHERE skl_group_2005 IS NULL").fetchall()
    if no_group:
        raise SourceError(f"{skl}: no SKL 2005 group for {no_group[:5]}")
    skl_unknown = con.execute(
        "SELECT municipality_code FROM read_csv($p, header=true, all_varchar=true) "
        "ANTI JOIN municipality USING (municipality_code)", {"p": str(skl)}
    ).fetchall()
    if skl_unknown:
        raise SourceError(f"{skl}: codes not in the SCB panel: {[c for (c,) in skl_unknown]}")
    n = con.execute("SELECT count(*) FROM municipality").fetchall()[0][0]
    if n != 290:
        raise SourceError(f"{panel}: expected 290 municipalities, found {n}")


def load_aliases(con, path: Path | None = None) -> None:
    aliases = read_alias_file(path) if path else read_alias_file()
    known = {c for (c,) in con.execute("SELECT municipality_code FROM municipality").fetchall()}
    for alias, code in aliases.items():
        if code not in known:
            raise SourceError(f"municipality_aliases.csv: alias {alias!r} points at unknown code {code!r}")
    con.executemany("INSERT INTO municipality_alias VALUES (?, ?)", sorted(aliases.items()))


def load_scb_panel(con, sources: Path = SOURCES) -> None:
    con.execute(sql("scb_panel.sql"), {"panel": str(sources / "scb_municipality_panel.csv")})


def load_kpi_catalogue(con, sources: Path = SOURCES) -> None:
    """Kolada's catalogue has each KPI up to several times; identical copies collapse,
    a code with two different titles is an error."""
    path = sources / "kolada_kpi_catalogue_2012.csv"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stg_catalogue AS "
        "SELECT row_number() OVER () + 1 AS line, Kod AS kpi_id, trim(Kortnamn) AS title, "
        "       nullif(trim(Beskrivning), '') AS description "
        "FROM read_csv($p, header=true, all_varchar=true, quote='\"')", {"p": str(path)}
    )
    conflict = con.execute(
        "SELECT kpi_id, min(line), list(DISTINCT title) FROM stg_catalogue "
        "GROUP BY kpi_id HAVING count(DISTINCT (title, coalesce(description, ''))) > 1 ORDER BY 2 LIMIT 1"
    ).fetchall()
    conflict = conflict[0] if conflict else None
    if conflict:
        raise SourceError(f"{path}, line {conflict[1]}: KPI {conflict[0]} has differing entries {conflict[2]}")
    empty = con.execute("SELECT min(line) FROM stg_catalogue WHERE kpi_id IS NULL OR title IS NULL").fetchall()[0][0]
    if empty is not None:
        raise SourceError(f"{path}, line {empty}: empty Kod or Kortnamn")
    con.execute(
        "INSERT INTO kpi_catalogue SELECT kpi_id, any_value(title), any_value(description) "
        "FROM stg_catalogue GROUP BY kpi_id ORDER BY kpi_id"
    )
    con.execute("DROP TABLE stg_catalogue")


def _kpi_meta() -> pd.DataFrame:
    meta = pd.read_csv(KPI_META_CSV, dtype=str, keep_default_na=False)
    return meta.set_index("kpi_id")


def load_kolada_extract(con, index: dict[str, str], sources: Path = SOURCES) -> None:
    """The whole extract: kpi rows (titles from the catalogue) and kpi_value rows."""
    path = sources / "kolada_extract_1998_2011.csv"
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stg_kolada_extract AS "
            "SELECT row_number() OVER () + 1 AS line, Variabelkod AS kpi_id, Kommun AS name, "
            "       CAST(\"År\" AS INTEGER) AS year, CAST(\"Värde\" AS DOUBLE) AS value, "
            "       'Kolada (RKA), ' || CAST(\"År\" AS INTEGER) AS source "
            "FROM read_csv($p, header=true, all_varchar=true)", {"p": str(path)}
        )
    except Exception as exc:   # duckdb's conversion error names the value, not the file
        raise SourceError(f"{path}: cannot read as Variabelkod,Kommun,År,Värde: {exc}") from exc
    nulls = con.execute(
        "SELECT min(line) FROM stg_kolada_extract WHERE kpi_id IS NULL OR name IS NULL OR year IS NULL OR value IS NULL"
    ).fetchall()[0][0]
    if nulls is not None:
        raise SourceError(f"{path}, line {nulls}: empty field")

    names = con.execute("SELECT name, min(line) FROM stg_kolada_extract GROUP BY name ORDER BY 2").fetchall()
    mapping = [(name, resolve(name, index)) for name, _ in names]
    unmapped = [(name, line) for (name, line), (_, code) in zip(names, mapping) if code is None]
    if unmapped:
        listed = ", ".join(f"{n!r} (line {line})" for n, line in unmapped[:10])
        raise SourceError(f"{path}: municipality names that do not map to a code: {listed}")
    con.execute("CREATE OR REPLACE TEMP TABLE extract_names (name VARCHAR, municipality_code VARCHAR)")
    con.executemany("INSERT INTO extract_names VALUES (?, ?)", mapping)
    dup = con.execute(
        "SELECT e.kpi_id, n.municipality_code, e.year, list(e.line ORDER BY e.line) FROM stg_kolada_extract e "
        "JOIN extract_names n USING (name) GROUP BY ALL HAVING count(*) > 1 ORDER BY 4 LIMIT 1"
    ).fetchall()
    dup = dup[0] if dup else None
    if dup:
        raise SourceError(f"{path}, lines {dup[3]}: duplicate value for {dup[0]}, {dup[1]}, {dup[2]}")

    # kpi rows: title/description from the catalogue, overrides and perspectives from
    # warehouse/kolada_kpi_meta.csv; a KPI in neither is an error.
    ids = [k for (k,) in con.execute("SELECT DISTINCT kpi_id FROM stg_kolada_extract ORDER BY 1").fetchall()]
    catalogue = {k: (t, d) for k, t, d in con.execute("SELECT kpi_id, title, description FROM kpi_catalogue").fetchall()}
    meta = _kpi_meta()
    rows = []
    for kpi_id in ids:
        m = meta.loc[kpi_id] if kpi_id in meta.index else None
        title, description = catalogue.get(kpi_id, (None, None))
        if m is not None and m["title"]:
            title, description = m["title"], m["description"] or description
        if title is None:
            raise SourceError(f"{path}: KPI {kpi_id} is neither in the Kolada catalogue nor in {KPI_META_CSV.name}")
        hib = None if m is None or not m["higher_is_better"] else m["higher_is_better"] == "true"
        perspective = None if m is None or not m["perspective"] else m["perspective"]
        rows.append((kpi_id, title, description, parse_unit(title), hib, perspective, None,
                     "Kolada (RKA), utdrag 1998–2011 (kolada_extract_1998_2011.csv)", False))
    con.executemany("INSERT INTO kpi VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    source_ids(con, [(src, False) for (src,) in con.execute("SELECT DISTINCT source FROM stg_kolada_extract").fetchall()])
    con.execute(sql("kolada_extract.sql"))
    con.execute("DROP TABLE stg_kolada_extract")
    con.execute("DROP TABLE extract_names")


def build_population(con) -> None:
    """Population 31 Dec per municipality and year; first checks that SCB and Kolada agree."""
    # Where both exist, N01938/N01960×100 must equal SCB's count: the share is published with
    # ~9 significant digits, so the quotient is within a few hundredths of an inhabitant.
    worst = con.execute(
        """
        SELECT s.municipality_code, s.panel_year - 1, s.population, a.value / b.value * 100 AS derived
        FROM scb_panel s
        JOIN kpi_value a ON a.municipality_code = s.municipality_code AND a.year = s.panel_year - 1
                        AND a.kpi_id = 'N01938' AND a.gender = 'T' AND a.value > 0
        JOIN kpi_value b ON b.municipality_code = s.municipality_code AND b.year = s.panel_year - 1
                        AND b.kpi_id = 'N01960' AND b.gender = 'T' AND b.value > 0
        ORDER BY abs(derived - s.population) DESC LIMIT 1
        """
    ).fetchall()
    worst = worst[0] if worst else None
    if worst and abs(worst[3] - worst[2]) >= 0.5:
        raise SourceError(
            f"kolada_extract_1998_2011.csv vs scb_municipality_panel.csv: population of {worst[0]} "
            f"at 31 Dec {worst[1]} is {worst[2]} (SCB) but {worst[3]:.1f} (Kolada N01938/N01960)"
        )
    con.execute(sql("population.sql"))


def finish_kpi_metadata(con) -> None:
    """After the importers: units parsed from titles where an importer left none, and
    perspectives for the elderly-care export's KPIs (ids from the catalogue or generated)."""
    for kpi_id, title in con.execute("SELECT kpi_id, title FROM kpi WHERE unit IS NULL AND NOT is_demo").fetchall():
        unit = parse_unit(title)
        if unit is not None:
            con.execute("UPDATE kpi SET unit = ? WHERE kpi_id = ?", [unit, kpi_id])
    meta = _kpi_meta()
    for kpi_id, m in meta.iterrows():
        if m["perspective"]:
            con.execute("UPDATE kpi SET perspective = ? WHERE kpi_id = ? AND perspective IS NULL", [m["perspective"], kpi_id])
    con.execute(
        "UPDATE kpi SET perspective = 'verksamhet' WHERE perspective IS NULL AND NOT is_demo AND title IN ?",
        [list(ELDERLY_CARE_EXPORT_TITLES)],
    )


def record_datasets(con, loaded: dict[str, str], prov: Provenance, loaded_at: datetime) -> None:
    """One `dataset` row per loaded file (id = file stem)."""
    rows = []
    for name, digest in sorted(loaded.items()):
        source = prov.source.get(name)
        if source is None:
            raise SourceError(f"PROVENANCE.md: no source given for {name}")
        rows.append((Path(name).stem, DESCRIPTIONS[name], source, f"warehouse/sources/{name}", digest, loaded_at, False))
    con.executemany("INSERT OR REPLACE INTO dataset VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


# --------------------------------------------------------------------------- entry point

def load_embedded(con, sources: Path = SOURCES) -> dict[str, int]:
    """Load every shipped real source into an empty warehouse (schema applied). Returns row
    counts per table. Runs in the caller's connection; raises SourceError on bad input."""
    prov = parse_provenance((sources / "PROVENANCE.md").read_text(encoding="utf-8"))
    # Every file is checked against PROVENANCE.md before anything is written.
    digests = {name: _check_file(sources / name, prov) for name in (*OWN_FILES, EXPORT_FILE, *GRANT_FILES)}
    loaded = [*OWN_FILES, EXPORT_FILE, *GRANT_FILES]

    load_municipalities(con, sources)
    load_aliases(con)
    load_scb_panel(con, sources)
    load_kpi_catalogue(con, sources)
    store_presets(con)   # warehouse/presets/*.toml, checked against the catalogue
    index = build_name_index(con)
    load_kolada_extract(con, index, sources)
    build_population(con)

    _load_elderly_care_export(con, sources / EXPORT_FILE)
    _load_grants(con, sources)
    finish_kpi_metadata(con)
    load_unit_kpis(con)   # Balansen's unit KPIs (warehouse/unit_kpis.csv)
    load_series_breaks(con)   # known definition changes (warehouse/kpi_series_breaks.csv)

    record_datasets(con, {n: digests[n] for n in loaded}, prov, build_timestamp())
    con.executemany(
        "INSERT OR REPLACE INTO warehouse_meta VALUES (?, ?)",
        [("built_from", "warehouse/sources (PROVENANCE.md) + warehouse/demo.py"), ("schema_version", SCHEMA_VERSION)],
    )
    tables = ("municipality", "municipality_alias", "scb_panel", "population", "kpi_catalogue", "kpi",
              "kpi_value", "value_source", "benchmark_value", "grant_round", "grant_award", "stimulus_grant_return", "dataset",
              "kpi_series_break")
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def _load_elderly_care_export(con, path: Path) -> None:
    from warehouse.importers.kolada import import_kolada

    # log=False: the build is not an import command; the file is recorded in `dataset`.
    import_kolada(con, [path], source="Kolada (RKA), export äldreomsorg 2008–2011", log=False)


def _load_grants(con, sources: Path) -> None:
    """Grant rounds, 2013 awards, Stockholm's returned stimulus grant, grant facts."""
    from warehouse.importers.grants import load_grant_seeds

    load_grant_seeds(con, sources)
