"""`styrkort fetch kolada [--preset NAME] [--kpi ID ...] --years ...`: the command's steps.

1. Which ids (the preset's and/or --kpi) and years; `--dry-run` prints one URL per KPI and stops.
2. Fetch each KPI for all municipalities (warehouse/importers/fetch.py: v3, v2 as fallback,
   retries with back-off), every page cached on disk next to the warehouse, so running the same
   command again after an interruption resumes where it stopped. A rich progress bar per KPI.
3. All pages saved as one JSON file and imported in ONE transaction by the Kolada importer
   (`import_kolada`, as `styrkort import kolada` would), then `styrkort refresh`; the page
   cache is removed once the import has committed.
Without a network the command says so in one line and changes nothing (exit 1).
"""
from __future__ import annotations

import hashlib
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from warehouse.cli import print_summary, run_in_transaction

console = Console(stderr=True)


def _fail(msg: str, code: int = 1) -> None:
    console.print(f"[red]Fel (error):[/red] {msg}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _ids(kpi: list[str], preset) -> list[str]:
    ids = list(preset.kpi_ids) if preset else []
    for item in kpi:
        for k in item.split(","):
            k = k.strip()
            if k and k not in ids:
                ids.append(k)
    return ids


def cache_folder(db: Path, label: str, ids: list[str], years: list[int], municipalities: list[str],
                 apis: tuple[str, ...]) -> Path:
    """One folder per distinct request, so a re-run of the same command finds its pages."""
    key = "|".join([",".join(ids), ",".join(map(str, years)), ",".join(municipalities), ",".join(apis)])
    h = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    return Path(db).parent / "kolada_cache" / f"{label}_{years[0]}-{years[-1]}_{h}"


def run_fetch(kpi: list[str], preset: str | None, years: str | None, municipality: list[str],
              api: str | None, out_file: Path | None, cache: Path | None, dry_run: bool,
              allow_unmapped: bool, db: Path) -> None:
    from warehouse.importers import fetch as F
    from warehouse.presets import PresetError, load_preset

    try:
        p = load_preset(preset) if preset else None
    except PresetError as e:
        _fail(str(e))
    ids = _ids(kpi, p)
    if not ids:
        _fail("ange --preset eller --kpi (no KPI given: use --preset oj-aldreomsorg or --kpi ID)")
    try:
        if years:
            yrs = F.parse_years(years)
        elif p:
            yrs = list(range(min(k.first_year for k in p.kpis), max(k.last_year for k in p.kpis) + 1))
        else:
            raise F.FetchError("ange --years (no years given), t.ex. --years 2008-2012")
        apis = (api,) if api else F.APIS
        urls = F.first_urls(ids, yrs, municipality or None, apis[0])
    except F.FetchError as e:
        _fail(str(e))
    label = p.name if p else ("kpi-" + "-".join(ids) if len(ids) <= 3 else f"kpi-{len(ids)}")
    what = f"{len(ids)} nyckeltal × {len(yrs)} år ({yrs[0]}–{yrs[-1]})"
    if dry_run:
        for u in urls:
            typer.echo(u)
        fallback = f", {' och '.join(apis[1:])} som reserv (fallback)" if len(apis) > 1 else ""
        console.print(f"{what}: {len(urls)} frågor mot Kolada API {apis[0]}{fallback}, alla kommuner"
                      f"{'' if not municipality else ' ' + ','.join(municipality)}; "
                      "inget hämtat, inget ändrat (dry run).", highlight=False, soft_wrap=True)
        return
    db = Path(db)
    if not db.exists():
        _fail(f"lagret {db} finns inte (warehouse not found); kör `styrkort build` först.", 2)

    cache_dir = cache or cache_folder(db, label, ids, yrs, municipality, apis)
    page_cache = F.PageCache(cache_dir)
    had = len(page_cache)
    if had:
        console.print(f"Fortsätter (resuming): {had} sidor finns redan i {cache_dir}", highlight=False)
    results = _fetch_with_progress(F, ids, yrs, municipality, apis, page_cache, what)

    pages = [pg for r in results for pg in r.pages]
    n_values = sum(r.n_values for r in results)
    empty = [r.kpi for r in results if r.n_values == 0]
    if empty:
        console.print(f"[yellow]Varning (warning):[/yellow] Kolada har inga värden för {', '.join(empty)} "
                      f"{yrs[0]}–{yrs[-1]} (no values).", highlight=False, soft_wrap=True)
    if n_values == 0:
        _fail(f"Kolada gav inga värden alls för {what} (no values); inget ändrades (nothing changed).")
    target = out_file or db.parent / f"kolada_{label}_{yrs[0]}-{yrs[-1]}.json"
    F.save_pages(pages, target)
    used = sorted({r.api for r in results})
    source = (f"Kolada API {'/'.join(used)}"
              + (f", förinställning {p.name} v{p.version}" if p else "")
              + f", hämtad {date.today().isoformat()}")
    console.print(f"Sparade (saved) {target}: {len(pages)} sidor, {n_values} poster", highlight=False)

    from warehouse.importers.kolada import import_kolada

    summary = run_in_transaction(db, lambda con: import_kolada(con, [target], allow_unmapped=allow_unmapped,
                                                               source=source))
    print_summary(summary, refresh_hint=False)
    page_cache.clear()   # committed: the next fetch asks Kolada again

    from styrkort.build import refresh

    t0 = time.perf_counter()
    with console.status("Räknar om index, urval och styrkort (styrkort refresh) …"):
        refresh(db)
    console.print(f"[green]Klart[/green]: {len(ids)} nyckeltal importerade och marts uppdaterade "
                  f"(refresh, {time.perf_counter() - t0:.1f} s). Starta om `styrkort serve` om den körs.",
                  highlight=False, soft_wrap=True)


def _fetch_with_progress(F, ids, yrs, municipality, apis, page_cache, what):
    """fetch_kpis with one progress bar per KPI (terminal) or one line per KPI (log)."""
    live = console.is_terminal
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                        console=console, transient=False, disable=not live)
    overall = progress.add_task(f"Kolada: {what}", total=len(ids), info="")
    tasks: dict[str, int] = {}

    def on_kpi(kpi, url):
        tasks[kpi] = progress.add_task(f"  {kpi}", total=None, info="")

    def on_page(kpi, url, n, cached):
        progress.update(tasks[kpi], completed=n, info=f"sida {n}{' (cache)' if cached else ''}")

    def on_retry(url, attempt, err, wait):
        console.print(f"[yellow]Försöker igen (retry {attempt}/{F.RETRIES}) om {wait:.0f} s:[/yellow] {err}",
                      highlight=False, soft_wrap=True)

    def on_fallback(kpi, next_api, err):
        console.print(f"[yellow]{kpi}: provar Kolada API {next_api} (fallback):[/yellow] {err}",
                      highlight=False, soft_wrap=True)

    def on_done(r):
        n = len(r.pages)
        progress.update(tasks[r.kpi], total=n, completed=n,
                        info=f"{n} {'sida' if n == 1 else 'sidor'}, {r.n_values} poster ({r.api})")
        progress.advance(overall)
        if not live:
            console.print(f"{r.kpi}: {n} {'sida' if n == 1 else 'sidor'}, {r.n_values} poster (API {r.api})",
                          highlight=False)

    hooks = F.Hooks(page=on_page, retry=on_retry, fallback=on_fallback)
    try:
        with progress:
            return F.fetch_kpis(ids, yrs, F.urllib_get, page_cache, apis, municipality or None,
                                hooks=hooks, on_kpi=on_kpi, on_done=on_done)
    except F.NoNetwork as e:
        _fail(f"inget nätverk – api.kolada.se kan inte nås (no network: {e}); inget ändrades (nothing changed).")
    except F.FetchError as e:
        _fail(f"{e}. {len(page_cache)} sidor sparade i {page_cache.folder}; kör samma kommando igen för att "
              "fortsätta (run the same command again to resume). Inget importerades (nothing imported).")
    except KeyboardInterrupt:
        console.print(f"Avbruten (interrupted): {len(page_cache)} sidor sparade i {page_cache.folder}; "
                      "kör samma kommando igen för att fortsätta (resume).", highlight=False, soft_wrap=True)
        raise typer.Exit(130)
