"""`styrkort runs`, `styrkort rerun RUN_ID` and `styrkort marts check|docs`: the run record
and the mart declarations."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from pipelines.cli.common import (CsvOpt, JsonOpt, LangOpt, Output, XlsxOpt, check_lang, connect, console,
                                  err, fail, jsonable, na)
from styrkort.paths import DbOption, default_db

marts_app = typer.Typer(help="The mart declarations (pipelines/marts/*.toml): check a warehouse, write the docs.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_cmd)
    app.command("rerun")(rerun_cmd)
    app.add_typer(marts_app, name="marts")


def runs_cmd(
    step: Optional[str] = typer.Option(None, "--step", help="Only this step (index, select, uncertainty, cost, associations, trends, scorecard, grants)."),
    year: Optional[int] = typer.Option(None, "--year", help="Only this year."),
    all_runs: bool = typer.Option(False, "--all", help="Also runs whose rows a later run of the same configuration replaced."),
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = "sv",
    db: DbOption = default_db(),
) -> None:
    """The stored runs: step, year, config hash, when, and whether the dashboard shows it (default)."""
    from pipelines.core import relation_exists

    sv = check_lang(lang) == "sv"
    con = connect(db)
    try:
        if not relation_exists(con, "pipeline_runs"):
            raise fail(f"{db} has no run records; run `styrkort build` or `styrkort refresh`")
        cond, params = ["true"], []
        if step:
            cond.append("step = ?"); params.append(step)
        if year is not None:
            cond.append("year = ?"); params.append(year)
        if not all_runs:
            cond.append("is_stored")
        df = con.execute(f"""SELECT run_id, step, year, config_hash, started_at, is_default, is_stored,
                                    replaced_by, config_json FROM pipeline_runs WHERE {' AND '.join(cond)}
                             ORDER BY started_at, step, year""", params).df()
    finally:
        con.close()
    Output(as_json, csv, xlsx).write({"runs": df})
    if as_json:
        Output(True).print_json(jsonable(df))
        return
    t = Table(title="Sparade körningar" if sv else "Stored runs",
              caption=("standard = det instrumentpanelen visar; styrkort rerun RUN_ID räknar om en körning"
                       if sv else "default = what the dashboard shows; styrkort rerun RUN_ID recomputes a run"))
    for col in (("Körning", "Run"), ("Steg", "Step"), ("År", "Year"), ("Konfiguration (hash)", "Config hash"),
                ("Startad (UTC)", "Started (UTC)"), ("Standard", "Default"), ("Rader", "Rows")):
        t.add_column(col[0] if sv else col[1], no_wrap=True)
    yes, no = ("ja", "nej") if sv else ("yes", "no")
    for r in df.itertuples():
        rows = (("sparade" if sv else "stored") if r.is_stored else
                (f"ersatta av {r.replaced_by}" if sv else f"replaced by {r.replaced_by}"))
        t.add_row(r.run_id, r.step, "–" if na(r.year) else str(int(r.year)),
                  r.config_hash, f"{r.started_at:%Y-%m-%d %H:%M:%S}", yes if r.is_default else no, rows)
    console().print(t)


def rerun_cmd(
    run_id: str = typer.Argument(..., help="run_id from `styrkort runs` (a unique prefix is enough)."),
    as_json: JsonOpt = False,
    db: DbOption = default_db(),
) -> None:
    """Recompute a stored run from its recorded configuration in a scratch copy and compare: "identical" (exit 0) or the differences (exit 1).

    The warehouse itself is not changed."""
    from pipelines.steps import REL_TOL, rerun_into_scratch

    connect(db).close()   # a clear message if the warehouse is missing
    try:
        rep = rerun_into_scratch(Path(db), run_id)
    except LookupError as e:
        raise fail(str(e), 2) from None
    run = rep.run
    if as_json:
        Output(True).print_json({
            "run_id": run["run_id"], "step": run["step"], "year": run["year"], "config_hash": run["config_hash"],
            "rows_of": rep.rows_of, "config_reproduced": rep.config_reproduced, "identical": rep.identical,
            "marts": [{"mart": m.mart, "stored_rows": m.stored_rows, "recomputed_rows": m.new_rows,
                       "only_stored": m.only_stored, "only_recomputed": m.only_new, "changed_values": m.n_changed,
                       "examples": [{"key": k, "column": c, "stored": a, "recomputed": b}
                                    for k, c, a, b in m.changed]} for m in rep.marts]})
        raise typer.Exit(0 if rep.identical else 1)
    c = console()
    year = f" {run['year']}" if run["year"] is not None else ""
    c.print(f"Run {run['run_id']}: {run['step']}{year}, config_hash {run['config_hash']}, "
            f"started {run['started_at']:%Y-%m-%d %H:%M:%S} UTC", highlight=False)
    if rep.rows_of != run["run_id"]:
        c.print(f"Its rows were replaced by run {rep.rows_of} of the same configuration; comparing with those.",
                highlight=False)
    if not rep.config_reproduced:
        c.print(f"[bold]different[/bold]: this version records the configuration as {rep.new_config_hash}, "
                f"not {run['config_hash']} (a parameter it no longer supports?)", highlight=False)
    for m in rep.marts:
        if m.identical:
            c.print(f"  {m.mart}: identical ({m.stored_rows} rows)", highlight=False)
            continue
        c.print(f"  {m.mart}: [bold]differs[/bold] — stored {m.stored_rows} rows, recomputed {m.new_rows}; "
                f"only stored {m.only_stored}, only recomputed {m.only_new}, changed values {m.n_changed}",
                highlight=False)
        for key, col, a, b in m.changed:
            c.print(f"    {key} {col}: stored {a!r}, recomputed {b!r}", highlight=False)
    if rep.identical:
        c.print("[bold]identical[/bold]: recomputing from the recorded configuration gives the stored rows "
                f"(numbers within a relative {REL_TOL:g})")
        return
    err.print("[bold]not identical[/bold]: see the differences above")
    raise typer.Exit(1)


@marts_app.command("check")
def marts_check_cmd(db: DbOption = default_db()) -> None:
    """Check every mart of the warehouse against its declaration (columns, types, tests)."""
    from pipelines.core import check_mart, declarations

    con = connect(db)
    problems = []
    try:
        for name in declarations():
            problems += check_mart(con, name)
    finally:
        con.close()
    c = console()
    for p in problems:
        c.print(f"  {p}", highlight=False)
    if problems:
        err.print(f"[bold red]{len(problems)} problem(s)[/bold red] in {db}")
        raise typer.Exit(1)
    c.print(f"{len(declarations())} marts match their declarations", highlight=False)


@marts_app.command("docs")
def marts_docs_cmd(
    write: bool = typer.Option(False, "--write", help="Rewrite the generated part of ARCHITECTURE.md (else print it)."),
    path: Path = typer.Option(None, "--path", help="The file to update (default: ARCHITECTURE.md of the repository)."),
) -> None:
    """The mart table of ARCHITECTURE.md, generated from the declarations."""
    from pipelines.docs import architecture_path, mart_tables, update_architecture

    if not write:
        console().print(mart_tables(), highlight=False, markup=False)
        return
    target = path or architecture_path()
    changed = update_architecture(target)
    console().print(f"{target}: {'updated' if changed else 'already up to date'}", highlight=False)
