"""`styrkort fetch kolada --kpi ID --years ...`: Kolada API data over the network (urllib only).

URLs (see the shapes in warehouse/importers/kolada.py):
  v3: https://api.kolada.se/v3/data/kpi/<KPI,...>/year/<Y,...>[/municipality/<M,...>]  pages via next_url
  v2: http://api.kolada.se/v2/data/kpi/<KPI,...>/year/<Y,...>                     pages via next_page
(v2 with a municipality: /v2/data/kpi/<KPI>/municipality/<M>/year/<Y>.)

The HTTP getter is injectable (`getter(url) -> bytes`), so tests run on recorded responses
without network. The pages are saved as a JSON list and imported like any Kolada JSON file.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable
from urllib.parse import quote

BASES = {"v2": "http://api.kolada.se/v2", "v3": "https://api.kolada.se/v3"}
MAX_PAGES = 1000


class FetchError(Exception):
    pass


def parse_years(spec: str) -> list[int]:
    """'2010,2011' or '2008-2012' (or a mix) -> sorted years."""
    years: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        m = re.fullmatch(r"(\d{4})\s*[-–]\s*(\d{4})", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if a > b:
                raise FetchError(f"ogiltigt årsintervall {part!r} (invalid year range)")
            years.update(range(a, b + 1))
        elif re.fullmatch(r"\d{4}", part):
            years.add(int(part))
        else:
            raise FetchError(f"ogiltigt år {part!r} (invalid year); skriv t.ex. 2010,2011 eller 2008-2012")
    if not years:
        raise FetchError("inga år angivna (no years given)")
    return sorted(years)


def build_url(kpis: list[str], years: list[int], municipalities: list[str] | None = None, api: str = "v3") -> str:
    if api not in BASES:
        raise FetchError(f"okänd API-version {api!r} (unknown API version; use v2 or v3)")
    for k in kpis:
        if not re.fullmatch(r"[A-Za-z0-9_]+", k):
            raise FetchError(f"ogiltigt nyckeltals-id {k!r} (invalid KPI id)")
    k = quote(",".join(kpis), safe=",")
    y = ",".join(str(x) for x in years)
    if municipalities:
        m = quote(",".join(municipalities), safe=",")
        return f"{BASES[api]}/data/kpi/{k}/municipality/{m}/year/{y}"
    return f"{BASES[api]}/data/kpi/{k}/year/{y}"


def urllib_get(url: str, timeout: float = 60) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "styrkort"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        raise FetchError(f"{url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise FetchError(f"{url}: inget svar (no response): {e}") from None


def fetch_kolada(kpis: list[str], years: list[int], municipalities: list[str] | None = None,
                 api: str = "v3", getter: Callable[[str], bytes] = urllib_get,
                 progress: Callable[[str], None] | None = None) -> list[dict]:
    """All pages of one data query, following next_url (v3) / next_page (v2)."""
    if not kpis:
        raise FetchError("inget nyckeltal angivet (no KPI given)")
    url: str | None = build_url(kpis, years, municipalities, api)
    pages: list[dict] = []
    seen: set[str] = set()
    while url:
        if url in seen or len(pages) >= MAX_PAGES:
            raise FetchError(f"{url}: sidorna tar inte slut (pagination loop)")
        seen.add(url)
        if progress:
            progress(url)
        body = getter(url)
        try:
            page = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FetchError(f"{url}: svaret är inte JSON (response is not JSON): {e}") from None
        if not isinstance(page, dict) or not isinstance(page.get("values"), list):
            raise FetchError(f"{url}: svaret saknar 'values' (not a Kolada data response)")
        pages.append(page)
        url = page.get("next_url") or page.get("next_page") or None
    return pages


def save_pages(pages: list[dict], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(pages, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
