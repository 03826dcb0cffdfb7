"""Warehouse commands: `styrkort import kolada|indicators|grants` and `styrkort fetch kolada`.

Each command is ONE transaction over all its files: on bad input it prints
"<file>, rad (line) <n>: <problem>", rolls back (the warehouse is unchanged) and exits 1.
A kill mid-import leaves the last committed warehouse: DuckDB only makes a transaction durable
at COMMIT (write-ahead log), so an interrupted import is discarded on the next open."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from styrkort.paths import DbOption, default_db

console = Console(stderr=True)
out = Console()


def run_in_transaction(db: Path, work: Callable):
    """Open the warehouse, run work(con) in one transaction, commit; on ImportFailure roll back,
    print the message and exit 1."""
    from warehouse.db import connect
    from warehouse.importers.common import ImportFailure

    db = Path(db)
    if not db.exists():
        console.print(f"[red]Fel (error):[/red] lagret {db} finns inte (warehouse not found); kör `styrkort build` först.")
        raise typer.Exit(2)
    con = connect(db)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
            con.execute("COMMIT")
        except ImportFailure as e:
            con.execute("ROLLBACK")
            console.print(f"[red]Fel (error):[/red] {e}", highlight=False)
            console.print("Inget importerades (nothing was imported; the warehouse is unchanged).")
            raise typer.Exit(1)
        except BaseException:
            try:
                con.execute("ROLLBACK")
            except Exception:
                pass
            raise
    finally:
        con.close()
    return result


def print_summary(summary) -> None:
    t = Table(title=f"Import ({summary.kind})", show_header=True, header_style="bold")
    t.add_column("")
    t.add_column("rader (rows)", justify="right")
    t.add_row("nya (inserted)", str(summary.inserted))
    t.add_row("ändrade (updated)", str(summary.updated))
    t.add_row("oförändrade (unchanged)", str(summary.unchanged))
    t.add_row("överhoppade (skipped)", str(summary.skipped))
    if summary.kind != "grants":
        t.add_row("jämförelserader (benchmark rows)",
                  f"{summary.benchmark_rows} ({summary.benchmark_inserted} nya, {summary.benchmark_updated} ändrade)")
    out.print(t)
    for reason, n in summary.skipped_reasons.items():
        out.print(f"  överhoppade: {n} – {reason}", highlight=False)
    if summary.new_kpis:
        out.print(f"Nya nyckeltal (new KPIs): {', '.join(summary.new_kpis)}", highlight=False)
    if summary.unmapped:
        out.print(f"[yellow]Ej mappade namn (unmapped):[/yellow] {', '.join(summary.unmapped)}", highlight=False)
    for w in summary.warnings:
        out.print(f"[yellow]Varning (warning):[/yellow] {w}", highlight=False)
    if summary.inserted or summary.updated:
        # Imports only store; the marts (index, cost, scorecard, ...) are computed downstream.
        out.print("Kör `styrkort refresh` för att räkna om index, kostnad, trender och styrkort "
                  "(run `styrkort refresh` to recompute the marts).", highlight=False)


FilesArg = typer.Argument(..., help="En eller flera filer (one or more files).", show_default=False)
AllowUnmapped = typer.Option(False, "--allow-unmapped",
                             help="Hoppa över rader med okända namn och lista dem (skip unknown names).")


def register(app: typer.Typer) -> None:
    import_app = typer.Typer(help="Import users' own data (one transaction per command).", no_args_is_help=True)
    app.add_typer(import_app, name="import")
    fetch_app = typer.Typer(help="Fetch data over the network (Kolada API).", no_args_is_help=True)
    app.add_typer(fetch_app, name="fetch")

    @import_app.command("kolada")
    def import_kolada_cmd(
        files: list[Path] = FilesArg,
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
    ) -> None:
        """Kolada: web exports (CSV in Windows-1252/UTF-8, ; or ,), .xls/.xlsx, API v2/v3 JSON."""
        from warehouse.importers.kolada import import_kolada

        summary = run_in_transaction(db, lambda con: import_kolada(con, files, allow_unmapped=allow_unmapped))
        print_summary(summary)

    @import_app.command("indicators")
    def import_indicators_cmd(
        files: list[Path] = FilesArg,
        kpis: Optional[Path] = typer.Option(None, "--kpis", help="META.csv: kpi_id,title,higher_is_better,area[,perspective,unit]"),
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
    ) -> None:
        """Long CSV municipality_code,kpi_id,year,value[,gender]."""
        from warehouse.importers.indicators import import_indicators

        summary = run_in_transaction(
            db, lambda con: import_indicators(con, files, kpis_meta=kpis, allow_unmapped=allow_unmapped))
        print_summary(summary)

    @import_app.command("grants")
    def import_grants_cmd(
        files: list[Path] = FilesArg,
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
    ) -> None:
        """Grant award tables shaped like grants_2013_by_municipality.csv."""
        from warehouse.importers.grants import import_grants

        summary = run_in_transaction(db, lambda con: import_grants(con, files, allow_unmapped=allow_unmapped))
        print_summary(summary)

    @fetch_app.command("kolada")
    def fetch_kolada_cmd(
        kpi: list[str] = typer.Option(..., "--kpi", help="Nyckeltals-id, t.ex. N20014 (repeat or comma-separate)."),
        years: str = typer.Option(..., "--years", help="År: 2010,2011 eller 2008-2012."),
        municipality: list[str] = typer.Option([], "--municipality", help="Kommunkod(er); default all."),
        api: str = typer.Option("v3", "--api", help="Kolada API version: v3 (current) or v2."),
        out_file: Optional[Path] = typer.Option(None, "--out", help="Save the JSON pages here (default data/kolada_<kpi>_<years>.json)."),
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
    ) -> None:
        """Fetch from the Kolada API (needs network), save the JSON, import it in one transaction."""
        from warehouse.importers.fetch import FetchError, fetch_kolada, parse_years, save_pages
        from warehouse.importers.kolada import import_kolada

        kpis = [k.strip() for item in kpi for k in item.split(",") if k.strip()]
        try:
            yrs = parse_years(years)
            pages = fetch_kolada(kpis, yrs, municipalities=municipality or None, api=api,
                                 progress=lambda url: console.print(f"Hämtar (fetching) {url}", highlight=False))
        except FetchError as e:
            console.print(f"[red]Fel (error):[/red] {e}", highlight=False)
            raise typer.Exit(1)
        target = out_file or Path("data") / f"kolada_{'_'.join(kpis)}_{yrs[0]}-{yrs[-1]}.json"
        save_pages(pages, target)
        console.print(f"Sparade (saved) {target}", highlight=False)
        summary = run_in_transaction(db, lambda con: import_kolada(con, [target], allow_unmapped=allow_unmapped))
        print_summary(summary)
