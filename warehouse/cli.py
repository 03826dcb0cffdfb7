"""Warehouse commands: `styrkort import kolada|indicators|grants|units|unit-values|targets` and
`styrkort fetch kolada`.

Each command is ONE transaction over all its files, written into a copy of the warehouse that
replaces it atomically at the end (`warehouse.db.writing`): on bad input it prints
"<file>, rad (line) <n>: <problem>", discards the copy (the warehouse is unchanged) and exits 1.
A kill mid-import leaves the previous warehouse; a dashboard serving the same file keeps
answering and shows the new data once the copy is swapped in. `--in-place` writes the warehouse
itself (no copy, for a very large warehouse): it fails at once, with one line, while anything
else (e.g. `styrkort serve`) has the file open. Problems with the warehouse file itself (missing,
a folder, not a DuckDB file, busy) are one line too, exit 1, never a traceback."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.table import Table

from styrkort.build import InPlace
from styrkort.i18n import cli_lang, t
from styrkort.paths import DbOption, default_db

console = Console(stderr=True)
out = Console()


def run_in_transaction(db: Path, work: Callable, in_place: bool = False):
    """Run work(con) in one transaction on a writable warehouse and make it durable; on
    ImportFailure or a warehouse problem print the message and exit 1 (nothing changed)."""
    from warehouse.db import WarehouseError, writing
    from warehouse.importers.common import ImportFailure

    lang = cli_lang()
    try:
        with writing(db, in_place=in_place) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                result = work(con)
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except Exception:
                    pass
                raise
    except ImportFailure as e:
        console.print(f"[red]{t('cli_error', lang)}[/red] {e}", highlight=False, soft_wrap=True)
        console.print(t("cli_nothing_imported", lang))
        raise typer.Exit(1)
    except WarehouseError as e:
        console.print(f"[red]{t('cli_error', lang)}[/red] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    except (Exception, MemoryError) as e:   # a bug, not bad input: still one line, nothing changed
        if os.environ.get("STYRKORT_DEBUG"):
            raise
        first = (str(e).splitlines() or [""])[0][:300]
        console.print(f"[red]{t('cli_error', lang)}[/red] "
                      + t("cli_unexpected_error", lang, error=f"{type(e).__name__}: {first}"),
                      highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    return result


def print_summary(summary, refresh_hint: bool = True, lang: str | None = None) -> None:
    lang = lang or cli_lang()
    table = Table(title=t("cli_import_title", lang, kind=summary.kind), show_header=True, header_style="bold")
    table.add_column("")
    table.add_column(t("cli_rows", lang), justify="right")
    table.add_row(t("cli_inserted", lang), str(summary.inserted))
    table.add_row(t("cli_updated", lang), str(summary.updated))
    table.add_row(t("cli_unchanged", lang), str(summary.unchanged))
    table.add_row(t("cli_skipped", lang), str(summary.skipped))
    if summary.kind in ("kolada", "indicators"):
        table.add_row(t("cli_benchmark_rows", lang),
                      t("cli_benchmark_detail", lang, n=summary.benchmark_rows, inserted=summary.benchmark_inserted,
                        updated=summary.benchmark_updated))
    out.print(table)
    for reason, n in summary.skipped_reasons.items():
        out.print("  " + t("cli_skipped_reason", lang, n=n, reason=reason), highlight=False)
    if summary.new_kpis:
        out.print(t("cli_new_kpis", lang, ids=", ".join(summary.new_kpis)), highlight=False)
    if summary.unmapped:
        out.print(f"[yellow]{t('cli_unmapped', lang)}[/yellow] {', '.join(summary.unmapped)}", highlight=False)
    for w in summary.warnings:
        out.print(f"[yellow]{t('cli_warning', lang)}[/yellow] {w}", highlight=False)
    if refresh_hint and (summary.inserted or summary.updated):
        # Imports only store; the marts (index, cost, scorecard, ...) are computed downstream.
        out.print(t("cli_refresh_hint", lang), highlight=False)


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
        in_place: bool = InPlace,
    ) -> None:
        """Kolada: web exports (CSV in Windows-1252/UTF-8, ; or ,), .xls/.xlsx, API v2/v3 JSON."""
        from warehouse.importers.kolada import import_kolada

        summary = run_in_transaction(db, lambda con: import_kolada(con, files, allow_unmapped=allow_unmapped),
                                     in_place=in_place)
        print_summary(summary)

    @import_app.command("indicators")
    def import_indicators_cmd(
        files: list[Path] = FilesArg,
        kpis: Optional[Path] = typer.Option(None, "--kpis", help="META.csv: kpi_id,title,higher_is_better,area[,perspective,unit]"),
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
        in_place: bool = InPlace,
    ) -> None:
        """Long CSV municipality_code,kpi_id,year,value[,gender]."""
        from warehouse.importers.indicators import import_indicators

        summary = run_in_transaction(
            db, lambda con: import_indicators(con, files, kpis_meta=kpis, allow_unmapped=allow_unmapped),
            in_place=in_place)
        print_summary(summary)

    @import_app.command("grants")
    def import_grants_cmd(
        files: list[Path] = FilesArg,
        rounds: Optional[Path] = typer.Option(
            None, "--rounds", help="ROUNDS.csv: new grant rounds (round,pot[,performance_required,...])."),
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
        in_place: bool = InPlace,
    ) -> None:
        """Grant award tables shaped like grants_2013_by_municipality.csv."""
        from warehouse.importers.grants import import_grants

        summary = run_in_transaction(
            db, lambda con: import_grants(con, files, allow_unmapped=allow_unmapped, rounds=rounds),
            in_place=in_place)
        print_summary(summary)

    @import_app.command("units")
    def import_units_cmd(
        files: list[Path] = FilesArg,
        db: DbOption = default_db(),
        in_place: bool = InPlace,
    ) -> None:
        """Unit register: unit_id,name,municipality_code,kind[,district,provider,valid_from,valid_to]."""
        from warehouse.importers.units import import_units

        summary = run_in_transaction(db, lambda con: import_units(con, files), in_place=in_place)
        print_summary(summary)

    @import_app.command("unit-values")
    def import_unit_values_cmd(
        files: list[Path] = FilesArg,
        kpis: Optional[Path] = typer.Option(None, "--kpis", help="META.csv: own unit KPIs kpi_id,title,higher_is_better,perspective,unit"),
        db: DbOption = default_db(),
        in_place: bool = InPlace,
    ) -> None:
        """Monthly unit values: unit_id,kpi_id,period (YYYY-MM),value."""
        from warehouse.importers.units import import_unit_values

        summary = run_in_transaction(db, lambda con: import_unit_values(con, files, kpis_meta=kpis),
                                     in_place=in_place)
        print_summary(summary)

    @import_app.command("targets")
    def import_targets_cmd(
        files: list[Path] = FilesArg,
        db: DbOption = default_db(),
        in_place: bool = InPlace,
    ) -> None:
        """Targets: municipality_code,kpi_id,year,target[,unit_id,tolerance,decided_by,comment] (CSV or Excel)."""
        from pipelines.steps import refresh_step
        from warehouse.importers.targets import import_targets

        def work(con):
            summary = import_targets(con, files)
            # the fulfilment mart's default run in the same transaction: the scorecard and the
            # nämndrapport show the targets at once, no `styrkort refresh` needed
            refresh_step(con, "targets")
            return summary

        summary = run_in_transaction(db, work, in_place=in_place)
        print_summary(summary, refresh_hint=False)
        out.print(t("cli_targets_done", cli_lang()), highlight=False)

    @fetch_app.command("kolada")
    def fetch_kolada_cmd(
        kpi: list[str] = typer.Option([], "--kpi", help="Nyckeltals-id, t.ex. N20014 (repeat or comma-separate)."),
        preset: Optional[str] = typer.Option(None, "--preset", help="Förinställning (preset), t.ex. oj-aldreomsorg (warehouse/presets/)."),
        years: Optional[str] = typer.Option(None, "--years", help="År: 2010,2011 eller 2008-2012 (default with --preset: its years)."),
        municipality: list[str] = typer.Option([], "--municipality", help="Kommunkod(er); default all."),
        api: Optional[str] = typer.Option(None, "--api", help="Only this Kolada API version (v3 or v2); default v3 with v2 as fallback."),
        out_file: Optional[Path] = typer.Option(None, "--out", help="Save the JSON pages here (default next to the warehouse)."),
        cache: Optional[Path] = typer.Option(None, "--cache", help="Folder for fetched pages (resume after an interruption)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the URLs and exit (nothing fetched or changed)."),
        allow_unmapped: bool = AllowUnmapped,
        db: DbOption = default_db(),
    ) -> None:
        """Fetch from the Kolada API (needs network), import in one transaction, run `refresh`."""
        from warehouse.fetch_cli import run_fetch

        run_fetch(kpi=kpi, preset=preset, years=years, municipality=municipality, api=api,
                  out_file=out_file, cache=cache, dry_run=dry_run, allow_unmapped=allow_unmapped, db=db)
