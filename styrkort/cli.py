"""The `styrkort` console script. Each layer registers its own commands:
warehouse (build, import, fetch) -> pipelines (index, select, ...) -> dashboard (serve)."""
from __future__ import annotations

import typer

app = typer.Typer(
    help="styrkort – balanserade styrkort för äldreomsorgen / balanced scorecards for elderly care.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    from dashboard.cli import register as register_dashboard
    from pipelines.cli import register as register_pipelines
    from styrkort.build import register as register_build
    from warehouse.cli import register as register_warehouse

    register_build(app)
    register_warehouse(app)
    register_pipelines(app)
    register_dashboard(app)


_register()

if __name__ == "__main__":  # pragma: no cover
    app()
