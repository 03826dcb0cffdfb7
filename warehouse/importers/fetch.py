"""`styrkort fetch kolada`: Kolada API data over the network (urllib only).

URLs (see the shapes in warehouse/importers/kolada.py):
  v3: https://api.kolada.se/v3/data/kpi/<KPI,...>/year/<Y,...>[/municipality/<M,...>]  pages via next_url
  v2: http://api.kolada.se/v2/data/kpi/<KPI,...>/year/<Y,...>                     pages via next_page
(v2 with a municipality: /v2/data/kpi/<KPI>/municipality/<M>/year/<Y>.)

The HTTP getter is injectable (`getter(url) -> bytes`), so tests run on recorded responses
without network. The pages are saved as a JSON list and imported like any Kolada JSON file.

`fetch_kpis` (used with `--preset`) fetches one KPI at a time, all municipalities: v3 first, v2
if v3 fails; each page is retried RETRIES times with back-off (BACKOFF_S) on a timeout, a
dropped connection, HTTP 429/5xx or a body that is not a Kolada page; a missing network
(`NoNetwork`: the name does not resolve, the network is unreachable) stops at once. Every good
page is written to a `PageCache` folder before the next is asked for, so a fetch that is
interrupted resumes where it stopped; the caller clears the cache after the import.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

BASES = {"v2": "http://api.kolada.se/v2", "v3": "https://api.kolada.se/v3"}
MAX_PAGES = 1000
RETRIES = 3                     # after the first attempt
BACKOFF_S = (2.0, 4.0, 8.0)     # wait before retry 1, 2, 3
APIS = ("v3", "v2")             # preferred first, the rest as fallback
# Errors of the local network, not of Kolada: retrying or falling back cannot help.
_NO_NETWORK_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


class FetchError(Exception):
    pass


class NoNetwork(FetchError):
    """api.kolada.se cannot be reached at all (name does not resolve, no route)."""


class HttpError(FetchError):
    def __init__(self, url: str, status: int, reason: str = ""):
        self.status = status
        super().__init__(f"{url}: HTTP {status} {reason}".rstrip())


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


def _is_no_network(reason) -> bool:
    if isinstance(reason, socket.gaierror):
        return True
    return isinstance(reason, OSError) and reason.errno in _NO_NETWORK_ERRNOS


def urllib_get(url: str, timeout: float = 60) -> bytes:
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "styrkort"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.read()
    except urllib.error.HTTPError as e:
        raise HttpError(url, e.code, str(e.reason)) from None
    except urllib.error.URLError as e:
        if _is_no_network(e.reason):
            raise NoNetwork(f"{url}: {e.reason}") from None
        raise FetchError(f"{url}: inget svar (no response): {e.reason}") from None
    except (TimeoutError, OSError) as e:
        if _is_no_network(e):
            raise NoNetwork(f"{url}: {e}") from None
        raise FetchError(f"{url}: inget svar (no response): {e}") from None


def parse_page(url: str, body: bytes) -> dict:
    """One response body -> the page dict; FetchError if it is not a Kolada data page."""
    try:
        page = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FetchError(f"{url}: svaret är inte JSON (response is not JSON): {e}") from None
    if not isinstance(page, dict) or not isinstance(page.get("values"), list):
        raise FetchError(f"{url}: svaret saknar 'values' (not a Kolada data response)")
    return page


def next_url(page: dict) -> str | None:
    return page.get("next_url") or page.get("next_page") or None


def retryable(err: FetchError) -> bool:
    """Worth asking again: timeouts, dropped connections, bad bodies, HTTP 408/429/5xx."""
    if isinstance(err, NoNetwork):
        return False
    if isinstance(err, HttpError):
        return err.status in (408, 429) or err.status >= 500
    return True


class PageCache:
    """Response bodies on disk, one file per URL, written atomically after a good page, so an
    interrupted fetch resumes from the pages it already has. folder None = no cache. The folder
    is created with the first page, so a fetch that gets nothing leaves nothing behind."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None

    def _path(self, url: str) -> Path:
        return self.folder / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + ".json")

    def get(self, url: str) -> bytes | None:
        if self.folder is None:
            return None
        path = self._path(url)
        return path.read_bytes() if path.is_file() else None

    def put(self, url: str, body: bytes) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(url)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_bytes(body)
        os.replace(tmp, path)

    def drop(self, url: str) -> None:
        if self.folder is not None:
            self._path(url).unlink(missing_ok=True)

    def __len__(self) -> int:
        if self.folder is None or not self.folder.is_dir():
            return 0
        return sum(1 for _ in self.folder.glob("*.json"))

    def clear(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            shutil.rmtree(self.folder)


@dataclass
class Hooks:
    """Progress callbacks (all optional): a page arrived (from the cache or the network), a
    page is retried after an error, a KPI falls back to the older API."""
    page: Callable[[str, str, int, bool], None] | None = None        # (kpi, url, page_no, cached)
    retry: Callable[[str, int, FetchError, float], None] | None = None  # (url, attempt, error, wait_s)
    fallback: Callable[[str, str, FetchError], None] | None = None    # (kpi, next_api, error)


def get_page(url: str, getter: Callable[[str], bytes], cache: PageCache, retries: int = RETRIES,
             sleep: Callable[[float], None] = time.sleep, hooks: Hooks | None = None) -> tuple[dict, bool]:
    """The page at `url` and whether it came from the cache; network errors are retried."""
    hooks = hooks or Hooks()
    body = cache.get(url)
    if body is not None:
        try:
            return parse_page(url, body), True
        except FetchError:          # a damaged cache file: ask again
            cache.drop(url)
    attempt = 0
    while True:
        try:
            body = getter(url)
            page = parse_page(url, body)
        except FetchError as e:
            if not retryable(e) or attempt >= retries:
                raise
            wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            attempt += 1
            if hooks.retry:
                hooks.retry(url, attempt, e, wait)
            sleep(wait)
            continue
        cache.put(url, body)
        return page, False


def fetch_pages(url: str, getter: Callable[[str], bytes] = urllib_get, cache: PageCache | None = None,
                retries: int = RETRIES, sleep: Callable[[float], None] = time.sleep,
                hooks: Hooks | None = None, kpi: str = "") -> list[dict]:
    """Every page of one query, following next_url (v3) / next_page (v2)."""
    cache = PageCache(None) if cache is None else cache
    hooks = hooks or Hooks()
    pages: list[dict] = []
    seen: set[str] = set()
    current: str | None = url
    while current:
        if current in seen or len(pages) >= MAX_PAGES:
            raise FetchError(f"{current}: sidorna tar inte slut (pagination loop)")
        seen.add(current)
        page, cached = get_page(current, getter, cache, retries, sleep, hooks)
        pages.append(page)
        if hooks.page:
            hooks.page(kpi, current, len(pages), cached)
        current = next_url(page)
    return pages


def fetch_kolada(kpis: list[str], years: list[int], municipalities: list[str] | None = None,
                 api: str = "v3", getter: Callable[[str], bytes] = urllib_get,
                 progress: Callable[[str], None] | None = None, retries: int = RETRIES,
                 sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """All pages of one data query (`--kpi`): one API version, no cache."""
    if not kpis:
        raise FetchError("inget nyckeltal angivet (no KPI given)")
    hooks = Hooks(page=(lambda _k, url, _n, _c: progress(url)) if progress else None)
    return fetch_pages(build_url(kpis, years, municipalities, api), getter, None, retries, sleep, hooks)


@dataclass
class KpiFetch:
    kpi: str
    api: str                                  # the version that answered
    pages: list[dict]
    failed: dict[str, str] = field(default_factory=dict)   # api -> error of versions tried before

    @property
    def n_values(self) -> int:
        return sum(len(p["values"]) for p in self.pages)


def fetch_kpi(kpi: str, years: list[int], getter: Callable[[str], bytes] = urllib_get,
              cache: PageCache | None = None, apis: tuple[str, ...] = APIS,
              municipalities: list[str] | None = None, retries: int = RETRIES,
              sleep: Callable[[float], None] = time.sleep, hooks: Hooks | None = None) -> KpiFetch:
    """One KPI, all requested years (and municipalities; default all): the first API version
    that delivers every page wins. NoNetwork is raised at once."""
    hooks = hooks or Hooks()
    failed: dict[str, str] = {}
    for i, api in enumerate(apis):
        try:
            pages = fetch_pages(build_url([kpi], years, municipalities, api), getter, cache,
                                retries, sleep, hooks, kpi=kpi)
            return KpiFetch(kpi, api, pages, failed)
        except NoNetwork:
            raise
        except FetchError as e:
            failed[api] = str(e)
            if i + 1 < len(apis) and hooks.fallback:
                hooks.fallback(kpi, apis[i + 1], e)
    raise FetchError(f"{kpi}: " + "; ".join(f"{a}: {m}" for a, m in failed.items()))


def fetch_kpis(kpis: list[str], years: list[int], getter: Callable[[str], bytes] = urllib_get,
               cache: PageCache | None = None, apis: tuple[str, ...] = APIS,
               municipalities: list[str] | None = None, retries: int = RETRIES,
               sleep: Callable[[float], None] = time.sleep, hooks: Hooks | None = None,
               on_kpi: Callable[[str, str], None] | None = None,
               on_done: Callable[[KpiFetch], None] | None = None) -> list[KpiFetch]:
    """Every KPI in turn (fetch_kpi). on_kpi(kpi, first_url) before, on_done(result) after each."""
    if not kpis:
        raise FetchError("inget nyckeltal angivet (no KPI given)")
    out = []
    for kpi in kpis:
        if on_kpi:
            on_kpi(kpi, build_url([kpi], years, municipalities, apis[0]))
        r = fetch_kpi(kpi, years, getter, cache, apis, municipalities, retries, sleep, hooks)
        out.append(r)
        if on_done:
            on_done(r)
    return out


def first_urls(kpis: list[str], years: list[int], municipalities: list[str] | None = None,
               api: str = "v3") -> list[str]:
    """The first URL of each KPI's query (what `--dry-run` prints)."""
    return [build_url([k], years, municipalities, api) for k in kpis]


def save_pages(pages: list[dict], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(pages, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path
