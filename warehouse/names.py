"""Municipality name resolution: the many ways sources write a municipality's name → its code.

Kolada writes SCB's names ("Upplands Väsby", "Malung-Sälen"), the grant report writes
"Arjeplogs kommun", "Mölndals stad", others "Region Gotland". `build_name_index` maps every
normalised SCB name and alias (table `municipality_alias`) to its 4-digit code; `resolve`
normalises a source name, strips "kommun"/"stad" and a genitive "s", and looks it up.
Aggregate rows of Kolada exports ("Alla kommuner (ovägt medel)", "Stockholms län (ovägt
medel)") are not municipalities: `is_aggregate` recognises them.

Usage (importers):
    index = build_name_index(con)
    code = resolve("Arjeplogs kommun", index)   # "2506"; None if unknown
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

ALIASES_CSV = Path(__file__).with_name("municipality_aliases.csv")

_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"[-‐‑‒–—]")
# Longest first, so "kommun" is not left over from " kommun".
_SUFFIXES = (" kommun", " stad", " municipality", " kommune")
_CODE = re.compile(r"^(\d{4})(?:\s.*)?$")


def normalise(name: str) -> str:
    """Casefold, treat dashes as spaces, collapse whitespace, strip quotes/space."""
    s = str(name).replace("\u00a0", " ").strip().strip('"').strip()
    s = _DASHES.sub(" ", s.casefold())
    return _SPACES.sub(" ", s).strip()


def candidates(name: str) -> list[str]:
    """Normalised keys to try, most specific first: as written, without "kommun"/"stad",
    and without a genitive "s" in front of that suffix ("Arjeplogs kommun" → "arjeplog")."""
    s = normalise(name)
    out = [s]
    for suffix in _SUFFIXES:
        if s.endswith(suffix):
            base = s[: -len(suffix)].strip()
            out.append(base)
            if base.endswith("s"):
                out.append(base[:-1])
            break
    if s.startswith("region "):          # "Region Gotland"
        out.append(s[len("region "):])
    return out


def make_index(names: dict[str, str], aliases: dict[str, str] | None = None) -> dict[str, str]:
    """Pure builder: {code: SCB name} and {alias: code} → {normalised key: code}.
    Codes are keys too, so "0180" resolves to itself. Raises on a key that maps to two codes."""
    index: dict[str, str] = {}

    def add(key: str, code: str, what: str) -> None:
        k = normalise(key)
        if index.get(k, code) != code:
            raise ValueError(f"Name {what} {key!r} maps to both {index[k]} and {code}")
        index[k] = code

    for code, name in names.items():
        add(code, code, "code")
        add(name, code, "name")
    for alias, code in (aliases or {}).items():
        if code not in names:
            raise ValueError(f"Alias {alias!r} points at unknown municipality code {code!r}")
        add(alias, code, "alias")
    return index


def build_name_index(con) -> dict[str, str]:
    """Index over the warehouse's `municipality` and `municipality_alias` tables."""
    names = dict(con.execute("SELECT municipality_code, name FROM municipality").fetchall())
    aliases = dict(con.execute("SELECT alias, municipality_code FROM municipality_alias").fetchall())
    return make_index(names, aliases)


def resolve(name: str | None, index: dict[str, str]) -> str | None:
    """The 4-digit code for a municipality name (or code, or "0180 Stockholm"), else None.
    A code followed by the name of another municipality ("0180 Göteborg") is None: see
    `code_name_conflict`."""
    if name is None:
        return None
    s = normalise(name)
    if not s:
        return None
    m = _CODE.match(s)
    if m:
        code = index.get(m.group(1))
        if code is None or code_name_conflict(s, index):
            return None
        return code
    if len(s) == 3 and s.isdigit():     # a code that lost its leading zero (Excel)
        return index.get("0" + s)
    for key in candidates(name):
        if key in index:
            return index[key]
    return None


def code_name_conflict(name: str, index: dict[str, str]) -> bool:
    """True for "<code> <name>" where the name is not that code's municipality (a name that
    resolves to another code, or to none)."""
    s = normalise(name)
    m = _CODE.match(s)
    if not m or s == m.group(1):
        return False
    code = index.get(m.group(1))
    rest = s[len(m.group(1)):].strip()
    return code is None or resolve(rest, index) != code


def same_municipality(code_text: str, name_text: str, index: dict[str, str]) -> bool:
    """A code column and a name column of one row name the same municipality."""
    code = resolve(code_text, index)
    return code is not None and resolve(name_text, index) == code


# Kolada's aggregate rows: averages, the whole country, counties, county councils, groups.
_AGGREGATE_MARKERS = (
    "(ovägt medel)", "(vägt medel)", "medel)", "medelvärde", "riket", "alla kommuner",
    "samtliga kommuner", "hela landet", "sverige", "kommungrupp", "kommuner per",
    "landsting", "regioner",
)
_AGGREGATE_WORD = re.compile(r"(^|\s)(län|region|riket|totalt)(\s|$)")


def is_aggregate(name: str, index: dict[str, str] | None = None) -> bool:
    """Heuristic: is this an aggregate row (benchmark), not a municipality?

    A name that resolves through `index` is never an aggregate ("Region Gotland" is a
    municipality). Otherwise markers like "(ovägt medel)", "Riket", "Alla kommuner",
    " län", "Landstinget …", "Region Skåne" make it one."""
    if index is not None and resolve(name, index) is not None:
        return False
    s = normalise(name)
    if s in ("region gotland", "gotland"):
        return False
    if any(marker in s for marker in _AGGREGATE_MARKERS):
        return True
    return bool(_AGGREGATE_WORD.search(s))


def read_alias_file(path: Path = ALIASES_CSV) -> dict[str, str]:
    """The shipped aliases (alias → code) from warehouse/municipality_aliases.csv."""
    with open(path, encoding="utf-8", newline="") as f:
        return {row["alias"]: row["municipality_code"] for row in csv.DictReader(f)}
