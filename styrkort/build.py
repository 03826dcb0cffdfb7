"""`styrkort build`: the embedded default warehouse, built from the files shipped in
warehouse/sources/ plus flagged demo data, then every pipeline run so the marts exist.

Built into a temporary file next to the target and swapped in with os.replace, so a crash or
kill leaves the previous warehouse intact."""
from __future__ import annotations

import os
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from styrkort.paths import DbOption, default_db

console = Console(stderr=True)


def build(db_path: Path, seed: int = 20101, quiet: bool = False) -> Path:
    """Build the embedded default warehouse at db_path (atomically). Returns the path."""
    from pipelines import run_all
    from warehouse.db import apply_schema, connect
    from warehouse.demo import generate_demo
    from warehouse.loaders import load_embedded

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f"{db_path.name}.tmp-{os.getpid()}")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        with Progress(console=console, disable=quiet, transient=False) as progress:
            con = connect(tmp)
            try:
                steps = [
                    ("Schema", lambda: apply_schema(con)),
                    ("Riktiga källor (SCB, SKL, Kolada, statsbidrag)", lambda: load_embedded(con)),
                    ("Demodata (flaggad is_demo)", lambda: generate_demo(con, seed=seed)),
                    ("Pipelines (index, urval, kostnad, trender, statsbidrag)", lambda: run_all(con)),
                ]
                task = progress.add_task("Bygger lager", total=len(steps))
                for label, step in steps:
                    progress.update(task, description=label)
                    step()
                    progress.advance(task)
                con.execute("CHECKPOINT")
            finally:
                con.close()
        os.replace(tmp, db_path)
        Path(f"{db_path}.wal").unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return db_path


def refresh(db_path: Path) -> None:
    """Re-run every pipeline on an existing warehouse (`styrkort refresh`; also the last step
    of `styrkort fetch kolada --preset`)."""
    from pipelines import run_all
    from warehouse.db import connect

    con = connect(db_path)
    try:
        run_all(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build_cmd(
        db: DbOption = default_db(),
        seed: int = typer.Option(20101, help="Seed for the demo data (deterministic)."),
    ) -> None:
        """Build the embedded default warehouse (real sources + flagged demo data + marts)."""
        t0 = time.perf_counter()
        path = build(db, seed=seed)
        console.print(f"[green]Klart[/green]: {path} ({time.perf_counter() - t0:.1f} s)")

    @app.command("refresh")
    def refresh_cmd(db: DbOption = default_db()) -> None:
        """Re-run every pipeline on the warehouse (after importing your own data)."""
        if not Path(db).exists():
            console.print(f"[red]Fel[/red]: lagret {db} finns inte – kör `styrkort build` först.")
            raise typer.Exit(1)
        t0 = time.perf_counter()
        refresh(db)
        console.print(f"[green]Marts uppdaterade[/green]: {db} ({time.perf_counter() - t0:.1f} s)")
