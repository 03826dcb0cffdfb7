"""RECORDINGS for the Kolada fetch tests: responses in Kolada's exact API shapes (v3 and v2),
served to `styrkort fetch kolada` through its injected getter, so the tests need no network.

The VALUES ARE SYNTHETIC (this machine cannot reach api.kolada.se): each is a deterministic
function of KPI id, municipality and year within a plausible range for the KPI's unit. The
SHAPES are Kolada's, as documented in warehouse/importers/kolada.py and as the hand-made
fixtures tests/fixtures/kolada_v3_page*.json / kolada_v2_data.json show:

  v3  {"count": <values on this page>, "values": [{"kpi", "municipality", "period",
       "values": [{"count", "gender", "status", "value", "isdeleted"}]}],
       "next_url": "https://api.kolada.se/v3/data/kpi/<ID>/year/<Y>?page=2&per_page=N" | null,
       "previous_url": ... | null}
  v2  the same data objects without "isdeleted", paged by "next_page"/"previous_page".

A query for all municipalities answers, like Kolada, for the 290 municipalities plus the whole
country ("0000"), a county ("0001") and a municipality group ("G124026"), sorted by
municipality and year.

Use in tests: `KoladaRecording(per_page=...)` is a getter (url -> bytes). From the command line
it writes the recordings (`tests/fixtures/kolada_recordings/` holds a small committed sample):

    python tests/make_kolada_recordings.py --sample tests/fixtures/kolada_recordings
    python tests/make_kolada_recordings.py --combined /tmp/oj_2009.json --years 2009
        # every preset id, all 290 municipalities, as `styrkort fetch kolada` saves its pages;
        # `styrkort import kolada /tmp/oj_2009.json && styrkort refresh` then shows 2009 real.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

V3 = "https://api.kolada.se/v3"
V2 = "http://api.kolada.se/v2"
DEFAULT_PER_PAGE = 5000
AGGREGATES = ("0000", "0001", "G124026")   # country, Stockholms län, a municipality group

# Plausible ranges per unit (low, high, decimals).
RANGES = {
    "%": (30.0, 99.0, 1), "index": (50.0, 90.0, 0), "antal": (8.0, 25.0, 1),
    "dagar": (10.0, 150.0, 0), "minuter/månad": (20.0, 200.0, 0), "kr/brukare": (150000.0, 400000.0, 0),
}


def municipality_codes() -> list[str]:
    """The 290 codes from the shipped SCB panel (independent of the warehouse code)."""
    with open(REPO / "warehouse" / "sources" / "scb_municipality_panel.csv", encoding="utf-8", newline="") as f:
        return sorted({r["municip_code"].zfill(4) for r in csv.DictReader(f)})


def preset_units() -> dict[str, str]:
    from warehouse.presets import load_preset

    return {k.kpi_id: k.unit for k in load_preset("oj-aldreomsorg").kpis}


def value(kpi: str, area: str, year: int, gender: str = "T", unit: str = "%") -> float:
    """Deterministic synthetic value in the unit's range."""
    lo, hi, dec = RANGES.get(unit, RANGES["%"])
    h = int.from_bytes(hashlib.sha256(f"{kpi}|{area}|{year}|{gender}".encode()).digest()[:8], "big")
    return round(lo + (hi - lo) * (h / 2**64), dec)


class KoladaRecording:
    """A getter serving recorded-shape responses for data queries
    /data/kpi/<IDS>/year/<YEARS>[/municipality/<CODES>] (v3) and the v2 equivalents
    (/data/kpi/<IDS>/year/<YEARS>, /data/kpi/<IDS>/municipality/<CODES>/year/<YEARS>).

    missing: {(kpi, year): set of municipality codes} left out of the answer;
    calls: every URL asked for, in order."""

    def __init__(self, per_page: int = DEFAULT_PER_PAGE, units: dict[str, str] | None = None,
                 missing: dict | None = None, codes: list[str] | None = None):
        self.per_page = per_page
        self.units = units if units is not None else preset_units()
        self.missing = missing or {}
        self.codes = codes or municipality_codes()
        self.calls: list[str] = []

    def entries(self, api: str, kpis: list[str], years: list[int], areas: list[str]) -> list[dict]:
        out = []
        for kpi in kpis:
            unit = self.units.get(kpi, "%")
            for area in areas:
                for year in years:
                    if area in self.missing.get((kpi, year), ()):
                        continue
                    genders = ("T", "K", "M") if unit == "%" and area not in AGGREGATES else ("T",)
                    vals = []
                    for g in genders:
                        v = {"count": 1, "gender": g, "status": "", "value": value(kpi, area, year, g, unit)}
                        if api == "v3":
                            v["isdeleted"] = False
                        vals.append(v)
                    out.append({"kpi": kpi, "municipality": area, "period": year, "values": vals})
        return out

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        parts = urlsplit(url)
        api = "v3" if parts.path.startswith("/v3/") else "v2"
        m = re.fullmatch(r"/v[23]/data/kpi/([^/]+)(?:/municipality/([^/]+))?/year/([^/]+)"
                         r"(?:/municipality/([^/]+))?", parts.path)
        if not m:
            raise AssertionError(f"not a Kolada data URL: {url}")
        kpis = m.group(1).split(",")
        years = [int(y) for y in m.group(3).split(",")]
        munis = m.group(2) or m.group(4)
        areas = munis.split(",") if munis else self.codes + list(AGGREGATES)
        q = parse_qs(parts.query)
        page = int(q.get("page", ["1"])[0])
        per_page = int(q.get("per_page", [str(self.per_page)])[0])
        every = self.entries(api, kpis, years, sorted(areas))
        chunk = every[(page - 1) * per_page: page * per_page]
        base = f"{parts.scheme}://{parts.netloc}{parts.path}"
        nxt = f"{base}?page={page + 1}&per_page={per_page}" if page * per_page < len(every) else None
        prev = f"{base}?page={page - 1}&per_page={per_page}" if page > 1 else None
        if api == "v3":
            body = {"count": len(chunk), "values": chunk, "next_url": nxt, "previous_url": prev}
        else:
            body = {"count": len(chunk), "values": chunk, "previous_page": prev, "next_page": nxt}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


def pages(getter, url: str) -> list[dict]:
    out = []
    while url:
        out.append(json.loads(getter(url)))
        url = out[-1].get("next_url") or out[-1].get("next_page")
    return out


def combined(years: list[int], api: str = "v3", missing: dict | None = None) -> list[dict]:
    """Every preset id for all municipalities, as the list of pages `styrkort fetch` saves."""
    rec = KoladaRecording(missing=missing)
    base = V3 if api == "v3" else V2
    out: list[dict] = []
    for kpi in rec.units:
        out += pages(rec, f"{base}/data/kpi/{kpi}/year/{','.join(map(str, years))}")
    return out


def page_text(page: dict) -> str:
    """A page as JSON with one data object per line (readable, diffable)."""
    head = {k: v for k, v in page.items() if k != "values"}
    lines = [json.dumps(v, ensure_ascii=False) for v in page["values"]]
    rest = "".join(f',\n "{k}": {json.dumps(v)}' for k, v in head.items() if k != "count")
    return ('{\n "count": ' + json.dumps(page["count"]) + ',\n "values": [\n  '
            + ",\n  ".join(lines) + "\n ]" + rest + "\n}\n")


def write_sample(folder: Path) -> list[Path]:
    """The committed sample: U20432 in 2009, 120 entries per page, v3 and v2."""
    folder.mkdir(parents=True, exist_ok=True)
    rec = KoladaRecording(per_page=120)
    written = []
    for api, base in (("v3", V3), ("v2", V2)):
        for i, page in enumerate(pages(rec, f"{base}/data/kpi/U20432/year/2009"), start=1):
            path = folder / f"{api}_U20432_2009_page{i}.json"
            path.write_text(page_text(page), encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=Path, help="write the small committed sample into this folder")
    ap.add_argument("--combined", type=Path, help="write every preset id's pages into this JSON file")
    ap.add_argument("--years", default="2009", help="years for --combined, e.g. 2009 or 2007-2013")
    ap.add_argument("--api", default="v3", choices=("v3", "v2"))
    a = ap.parse_args(argv)
    if a.sample:
        for p in write_sample(a.sample):
            print(p)
    if a.combined:
        from warehouse.importers.fetch import parse_years

        a.combined.write_text(json.dumps(combined(parse_years(a.years), a.api), ensure_ascii=False),
                              encoding="utf-8")
        print(a.combined)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
