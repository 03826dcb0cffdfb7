"""Kolada presets: versioned lists of real Kolada KPI ids with the metadata styrkort needs
(title as in Kolada's catalogue, unit, Balansen perspective, index area, direction, the years
Kolada publishes them). One TOML file per preset in this folder; the preset `oj-aldreomsorg`
is `oj_aldreomsorg.toml`.

Used by `styrkort fetch kolada --preset NAME` (which ids to fetch) and by `styrkort build`
(table `kpi_preset`, so Kolada values of these ids imported by any route get their
perspective, direction, area and unit in the public view `kpis`).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PERSPECTIVES = ("omsorgstagare", "ekonomi", "medarbetare", "verksamhet")
DIRECTIONS = {"higher": True, "lower": False, "none": None}
KOLADA_ID = re.compile(r"^[A-Z]\d{5}$")
YEAR_MIN, YEAR_MAX = 1990, 2100


class PresetError(ValueError):
    """A preset that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class PresetKpi:
    kpi_id: str
    title: str
    unit: str
    perspective: str
    area: str | None
    direction: str              # 'higher' | 'lower' | 'none'
    first_year: int
    last_year: int
    producer: str

    @property
    def higher_is_better(self) -> bool | None:
        return DIRECTIONS[self.direction]


@dataclass(frozen=True)
class Preset:
    name: str
    version: int
    title: str
    kpis: tuple[PresetKpi, ...]
    producers: dict
    source: str                 # file it came from

    @property
    def kpi_ids(self) -> list[str]:
        return [k.kpi_id for k in self.kpis]

    def kpi(self, kpi_id: str) -> PresetKpi:
        for k in self.kpis:
            if k.kpi_id == kpi_id:
                return k
        raise KeyError(kpi_id)

    def areas(self) -> dict[str, list[str]]:
        """Index area -> its KPI ids, in file order (KPIs without an area left out)."""
        out: dict[str, list[str]] = {}
        for k in self.kpis:
            if k.area:
                out.setdefault(k.area, []).append(k.kpi_id)
        return out


def file_name(name: str) -> str:
    """'oj-aldreomsorg' -> 'oj_aldreomsorg.toml'."""
    return name.replace("-", "_") + ".toml"


def preset_names() -> list[str]:
    """Names of the presets shipped in this folder."""
    files = resources.files("warehouse.presets").iterdir()
    return sorted(f.name[:-5].replace("_", "-") for f in files if f.name.endswith(".toml"))


def load_preset(name_or_path: str | Path) -> Preset:
    """A shipped preset by name ('oj-aldreomsorg') or a TOML file by path. Raises PresetError."""
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.exists():
        source, text = str(p), p.read_text(encoding="utf-8")
    else:
        name = str(name_or_path)
        if name not in preset_names():
            raise PresetError(f"okänd förinställning {name!r} (unknown preset); "
                              f"finns: {', '.join(preset_names())}")
        source = f"warehouse/presets/{file_name(name)}"
        text = resources.files("warehouse.presets").joinpath(file_name(name)).read_text("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PresetError(f"{source}: ogiltig TOML (invalid TOML): {e}") from None
    return preset_from_dict(data, source)


def preset_from_dict(data: dict, source: str = "<dict>") -> Preset:
    def fail(msg: str) -> PresetError:
        return PresetError(f"{source}: {msg}")

    for key in ("name", "version", "title", "kpi"):
        if key not in data:
            raise fail(f"nyckeln {key!r} saknas (missing key)")
    if not isinstance(data["version"], int) or isinstance(data["version"], bool) or data["version"] < 1:
        raise fail("version måste vara ett positivt heltal (version must be a positive integer)")
    producers = data.get("producers", {})
    if not isinstance(producers, dict):
        raise fail("[producers] måste vara en tabell (must be a table)")
    if not isinstance(data["kpi"], list) or not data["kpi"]:
        raise fail("inga [[kpi]] (no KPIs)")
    kpis: list[PresetKpi] = []
    seen: set[str] = set()
    for i, k in enumerate(data["kpi"], start=1):
        where = f"[[kpi]] nr {i}"
        if not isinstance(k, dict):
            raise fail(f"{where}: inte en tabell (not a table)")
        extra = set(k) - {"id", "title", "unit", "perspective", "area", "direction",
                          "first_year", "last_year", "producer"}
        if extra:
            raise fail(f"{where}: okända nycklar (unknown keys) {sorted(extra)}")
        kid = k.get("id")
        if not isinstance(kid, str) or not KOLADA_ID.match(kid):
            raise fail(f"{where}: id {kid!r} är inget Kolada-id (not a Kolada KPI id like U20432)")
        where = f"{where} ({kid})"
        if kid in seen:
            raise fail(f"{where}: id finns två gånger (duplicate id)")
        seen.add(kid)
        for field in ("title", "unit", "perspective", "direction", "producer"):
            if not isinstance(k.get(field), str) or not k[field].strip():
                raise fail(f"{where}: {field} saknas (missing {field})")
        if k["perspective"] not in PERSPECTIVES:
            raise fail(f"{where}: perspective {k['perspective']!r} är inte ett av {', '.join(PERSPECTIVES)}")
        if k["direction"] not in DIRECTIONS:
            raise fail(f"{where}: direction {k['direction']!r} är inte ett av {', '.join(DIRECTIONS)}")
        if k["producer"] not in producers:
            raise fail(f"{where}: producer {k['producer']!r} saknas i [producers]")
        area = k.get("area")
        if area is not None and (not isinstance(area, str) or not area.strip()):
            raise fail(f"{where}: area måste vara text (area must be a non-empty string)")
        fy, ly = k.get("first_year"), k.get("last_year")
        if not all(isinstance(y, int) and not isinstance(y, bool) and YEAR_MIN <= y <= YEAR_MAX
                   for y in (fy, ly)) or fy > ly:
            raise fail(f"{where}: first_year/last_year {fy!r}/{ly!r} ogiltiga (invalid years)")
        kpis.append(PresetKpi(kid, k["title"], k["unit"], k["perspective"], area, k["direction"],
                              fy, ly, k["producer"]))
    return Preset(str(data["name"]), data["version"], str(data["title"]), tuple(kpis),
                  dict(producers), source)


def check_against_catalogue(preset: Preset, catalogue: dict[str, str]) -> None:
    """Every id is in Kolada's catalogue (id -> title) with exactly the preset's title."""
    for k in preset.kpis:
        if k.kpi_id not in catalogue:
            raise PresetError(f"{preset.source}: {k.kpi_id} finns inte i Koladas katalog (not in the catalogue)")
        if catalogue[k.kpi_id] != k.title:
            raise PresetError(f"{preset.source}: titeln för {k.kpi_id} är {k.title!r}, katalogen säger "
                              f"{catalogue[k.kpi_id]!r} (title differs from the catalogue)")


def store_presets(con) -> int:
    """`styrkort build`: every shipped preset into table kpi_preset, after kpi_catalogue is
    loaded (each id checked against it). An id in two presets must say the same. Returns rows."""
    catalogue = dict(con.execute("SELECT kpi_id, title FROM kpi_catalogue").fetchall())
    rows: dict[str, tuple] = {}
    for name in preset_names():
        preset = load_preset(name)
        check_against_catalogue(preset, catalogue)
        for k in preset.kpis:
            row = (k.kpi_id, preset.name, preset.version, k.title, k.unit, k.higher_is_better,
                   k.perspective, k.area, k.first_year, k.last_year, k.producer)
            if k.kpi_id in rows and rows[k.kpi_id][3:8] != row[3:8]:
                raise PresetError(f"{preset.source}: {k.kpi_id} finns redan i förinställningen "
                                  f"{rows[k.kpi_id][1]} med andra uppgifter (conflicting presets)")
            rows.setdefault(k.kpi_id, row)
    con.executemany("INSERT OR REPLACE INTO kpi_preset VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(rows.values()))
    return len(rows)
