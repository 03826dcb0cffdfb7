"""Index configuration: areas, their weights and KPIs, and the normalisation method.

A config is a TOML file (see pipelines/configs/oj_default.toml):

    normalisation = "zscore"          # or "minmax" / "rank" (sensitivity analysis)
    [areas."Brukarbedömning"]
    weight = 2.0
    kpis = ["U21468", "U21401"]

Its canonical dict (`IndexConfig.as_dict`) is what is hashed (pipelines.runs.config_hash), so
two files that say the same thing get the same hash whatever their layout.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

NORMALISATIONS = ("zscore", "minmax", "rank")
DEFAULT_CONFIG_NAME = "oj_default.toml"


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Area:
    name: str
    weight: float
    kpis: tuple[str, ...]


@dataclass(frozen=True)
class IndexConfig:
    normalisation: str
    areas: tuple[Area, ...]
    source: str = "<dict>"          # file the config came from (not hashed)

    def as_dict(self) -> dict:
        return {
            "normalisation": self.normalisation,
            "areas": {a.name: {"weight": a.weight, "kpis": list(a.kpis)} for a in self.areas},
        }

    @property
    def kpi_ids(self) -> list[str]:
        return [k for a in self.areas for k in a.kpis]

    def area_of(self) -> dict[str, str]:
        return {k: a.name for a in self.areas for k in a.kpis}


def config_from_dict(data: dict, source: str = "<dict>") -> IndexConfig:
    """Validate a parsed config. Raises ConfigError naming `source` and the problem."""
    def fail(msg: str) -> ConfigError:
        return ConfigError(f"{source}: {msg}")

    if not isinstance(data, dict):
        raise fail("the config must be a table")
    unknown = set(data) - {"normalisation", "areas"}
    if unknown:
        raise fail(f"unknown key(s) {sorted(unknown)}; expected 'normalisation' and [areas.\"…\"] tables")
    norm = data.get("normalisation", "zscore")
    if norm not in NORMALISATIONS:
        raise fail(f"normalisation = {norm!r} is not one of {', '.join(NORMALISATIONS)}")
    areas_raw = data.get("areas")
    if not isinstance(areas_raw, dict) or not areas_raw:
        raise fail('no areas: add at least one [areas."Name"] table with weight and kpis')
    areas: list[Area] = []
    seen: dict[str, str] = {}
    for name, spec in areas_raw.items():
        if not isinstance(spec, dict):
            raise fail(f'areas."{name}" must be a table with weight and kpis')
        extra = set(spec) - {"weight", "kpis"}
        if extra:
            raise fail(f'areas."{name}": unknown key(s) {sorted(extra)}')
        weight = spec.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not math.isfinite(weight) or weight <= 0:
            raise fail(f'areas."{name}".weight = {weight!r} must be a positive number')
        kpis = spec.get("kpis")
        if not isinstance(kpis, list) or not kpis or not all(isinstance(k, str) and k for k in kpis):
            raise fail(f'areas."{name}".kpis must be a non-empty list of KPI ids (strings)')
        for k in kpis:
            if k in seen:
                raise fail(f'KPI {k} is listed in both areas."{seen[k]}" and areas."{name}"')
            seen[k] = name
        areas.append(Area(str(name), float(weight), tuple(kpis)))
    return IndexConfig(norm, tuple(areas), source=source)


def load_config(path: Path | str | None = None) -> IndexConfig:
    """Load a TOML config; None = the shipped default (pipelines/configs/oj_default.toml)."""
    if path is None:
        text = resources.files("pipelines.configs").joinpath(DEFAULT_CONFIG_NAME).read_text("utf-8")
        source = f"pipelines/configs/{DEFAULT_CONFIG_NAME}"
    else:
        path = Path(path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: file not found") from None
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: not UTF-8 text ({e})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:  # message carries line and column
        raise ConfigError(f"{source}: invalid TOML: {e}") from None
    return config_from_dict(data, source=source)
