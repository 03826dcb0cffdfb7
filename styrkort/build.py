"""`styrkort build` and `styrkort refresh`.

build: the embedded default warehouse, built from the files shipped in warehouse/sources/ plus
flagged demo data, then every pipeline run so the marts exist. refresh: every pipeline run again
on the warehouse (after an import).

Both write through `warehouse.db.writing`: build into a fresh temporary file, refresh into a copy
of the warehouse, each swapped in with os.replace at the end. A kill at any moment leaves the
previous warehouse (every mart as it was) or the new one, never a mix; temporary files of a
killed earlier run are removed by the next one; a dashboard serving the file keeps answering and
picks up the new file. `refresh --in-place` skips the copy (a very large warehouse) and then
needs the file to itself.
"""
from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from styrkort.i18n import cli_lang, t
from styrkort.paths import DbOption, default_db

console = Console(stderr=True)

InPlace = typer.Option(
    False, "--in-place",
    help="Skriv direkt i lagret utan kopia (write the warehouse itself, no copy): for a very large "
         "warehouse; fails while `styrkort serve` or anything else has the file open.")


def build(db_path: Path, seed: int = 20101, quiet: bool = False) -> Path:
    """Build the embedded default warehouse at db_path (atomically). Returns the path."""
    from pipelines import run_all
    from warehouse.db import apply_schema, writing
    from warehouse.demo import generate_demo
    from warehouse.loaders import load_embedded

    db_path = Path(db_path)
    with Progress(console=console, disable=quiet, transient=False) as progress, \
            writing(db_path, fresh=True) as con:
        lang = cli_lang()
        steps = [
            (t("cli_build_schema", lang), lambda: apply_schema(con)),
            (t("cli_build_sources", lang), lambda: load_embedded(con)),
            (t("cli_build_demo", lang), lambda: generate_demo(con, seed=seed)),
            (t("cli_build_pipelines", lang), lambda: run_all(con)),
        ]
        task = progress.add_task(t("cli_build", lang), total=len(steps))
        for label, step in steps:
            progress.update(task, description=label)
            step()
            progress.advance(task)
    return db_path


def refresh(db_path: Path, in_place: bool = False) -> Path:
    """Recompute the default runs of every pipeline on the data now in the warehouse at db_path
    (atomically unless in_place): each step with the configuration of its default run (the
    shipped one unless a run was made the default with --make-default). Other stored runs are
    left as they are."""
    from pipelines import refresh as refresh_marts
    from warehouse.db import writing

    with writing(db_path, in_place=in_place) as con:
        refresh_marts(con)
    return Path(db_path)


def _fail(e: Exception) -> None:
    console.print(f"[red]{t('cli_error', cli_lang())}[/red] {e}", highlight=False)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build_cmd(
        db: DbOption = default_db(),
        seed: int = typer.Option(20101, help="Seed for the demo data (deterministic)."),
    ) -> None:
        """Build the embedded default warehouse (real sources + flagged demo data + marts)."""
        from warehouse.db import WarehouseError

        t0 = time.perf_counter()
        try:
            path = build(db, seed=seed)
        except WarehouseError as e:
            _fail(e)
        console.print(f"[green]{t('cli_build_done', cli_lang())}[/green]: {path} ({time.perf_counter() - t0:.1f} s)")

    @app.command("refresh")
    def refresh_cmd(db: DbOption = default_db(), in_place: bool = InPlace) -> None:
        """Recompute the default runs of every pipeline (after importing your own data)."""
        from warehouse.db import WarehouseError

        t0 = time.perf_counter()
        try:
            refresh(db, in_place=in_place)
        except WarehouseError as e:
            _fail(e)
        console.print(f"[green]{t('cli_refresh_done', cli_lang())}[/green]: {db} ({time.perf_counter() - t0:.1f} s)")
