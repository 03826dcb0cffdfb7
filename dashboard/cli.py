"""`styrkort serve [--db] [--port] [--host] [--prod] [--workers]`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from styrkort.i18n import cli_lang, t
from styrkort.paths import DbOption, default_db

console = Console(stderr=True)


def serve(db: Path, port: int = 8050, host: str = "127.0.0.1", prod: bool = False,
          workers: int = 4, threads: int = 4, prerender: bool = False) -> None:
    db = Path(db)
    if not db.exists():
        # First start on a fresh clone: build the embedded default warehouse.
        from styrkort.build import build

        console.print(t("cli_serve_building", cli_lang(), db=db))
        build(db)
    if prod:
        env = dict(os.environ, STYRKORT_DB=str(db.resolve()))
        if prerender:
            env["STYRKORT_PRERENDER"] = "1"
        argv = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
                "--worker-class", "gthread", "--threads", str(threads),
                "--bind", f"{host}:{port}", "--preload", "--access-logfile", "-",
                "dashboard.app:create_server()"]
        console.print("[green]styrkort[/green] " + t("cli_serve_prod", cli_lang(), workers=workers,
                                                       url=f"http://{host}:{port}/"))
        os.execve(sys.executable, argv, env)
    from dashboard.app import create_app, warm_up

    app = create_app(db)
    warm_up(app)  # the dev server is threaded too
    from dashboard.report import warm_renderer_in_background
    warm_renderer_in_background()  # the PDF's Chromium starts now, not on the first PDF
    console.print("[green]styrkort[/green] " + t("cli_serve_dev", cli_lang(), url=f"http://{host}:{port}/", db=db))
    from dashboard.hardening import quiet_request_handler

    app.run(host=host, port=port, debug=False, request_handler=quiet_request_handler())


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        db: DbOption = default_db(),
        port: int = typer.Option(8050, help="Port."),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        prod: bool = typer.Option(False, "--prod", help="Run under gunicorn with several workers."),
        workers: int = typer.Option(4, help="gunicorn worker processes (--prod)."),
        threads: int = typer.Option(4, help="Threads per gunicorn worker (--prod)."),
        prerender: bool = typer.Option(False, "--prerender",
                                       help="Render every scorecard before the workers start (--prod; ~15 s)."),
    ) -> None:
        """Start the dashboard (reads the warehouse read-only)."""
        serve(db, port=port, host=host, prod=prod, workers=workers, threads=threads, prerender=prerender)
