"""`styrkort runs`, `styrkort rerun RUN_ID` and `styrkort marts check|docs`: the run record
and the mart declarations."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from pipelines.cli.common import (CsvOpt, JsonOpt, LangOpt, Output, XlsxOpt, check_lang, connect, console,
                                  err, fail, jsonable, na)
from styrkort.i18n import t
from styrkort.paths import DbOption, default_db

marts_app = typer.Typer(help="The mart declarations (pipelines/marts/*.toml): check a warehouse, write the docs.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_cmd)
    app.command("rerun")(rerun_cmd)
    app.add_typer(marts_app, name="marts")


def runs_cmd(
    step: Optional[str] = typer.Option(None, "--step", help="Only this step (effective, index, select, uncertainty, cost, associations, trends, scorecard, positions, grants)."),
    year: Optional[int] = typer.Option(None, "--year", help="Only this year."),
    all_runs: bool = typer.Option(False, "--all", help="Also runs whose rows a later run of the same configuration replaced."),
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = None,
    db: DbOption = default_db(),
) -> None:
    """The stored runs: step, year, config hash, when, and whether the dashboard shows it (default)."""
    from pipelines.core import relation_exists

    lang = check_lang(lang)
    con = connect(db)
    try:
        if not relation_exists(con, "pipeline_runs"):
            raise fail(t("cli_runs_none", lang, db=db))
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
    tab = Table(title=t("cli_runs_title", lang), caption=t("cli_runs_caption", lang))
    for key in ("run", "step", "year", "config_hash", "started", "default", "rows"):
        tab.add_column(t(f"cli_col_{key}", lang), no_wrap=True)
    for r in df.itertuples():
        rows = (t("cli_runs_stored", lang) if r.is_stored else t("cli_runs_replaced", lang, run_id=r.replaced_by))
        tab.add_row(r.run_id, r.step, "–" if na(r.year) else str(int(r.year)), r.config_hash,
                    f"{r.started_at:%Y-%m-%d %H:%M:%S}", t("yes" if r.is_default else "no", lang), rows)
    console().print(tab)


def rerun_cmd(
    run_id: str = typer.Argument(..., help="run_id from `styrkort runs` (a unique prefix is enough)."),
    as_json: JsonOpt = False,
    lang: LangOpt = None,
    db: DbOption = default_db(),
) -> None:
    """Recompute a stored run from its recorded configuration in a scratch copy and compare: "identical" (exit 0) or the differences (exit 1).

    The warehouse itself is not changed."""
    from pipelines.steps import REL_TOL, rerun_into_scratch

    lang = check_lang(lang)
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
    tx = lambda key, **kw: t(f"cli_rerun_{key}", lang, **kw)  # noqa: E731
    year = f" {run['year']}" if run["year"] is not None else ""
    c.print(tx("run", run_id=run["run_id"], step=run["step"], year=year, config_hash=run["config_hash"],
               started=f"{run['started_at']:%Y-%m-%d %H:%M:%S}"), highlight=False)
    if rep.rows_of != run["run_id"]:
        c.print(tx("replaced", run_id=rep.rows_of), highlight=False)
    if not rep.config_reproduced:
        c.print(tx("config_differs", new=rep.new_config_hash, old=run["config_hash"]), highlight=False)
    for m in rep.marts:
        if m.identical:
            c.print("  " + tx("mart_identical", mart=m.mart, n=m.stored_rows), highlight=False)
            continue
        c.print("  " + tx("mart_differs", mart=m.mart, stored=m.stored_rows, new=m.new_rows,
                          only_stored=m.only_stored, only_new=m.only_new, changed=m.n_changed), highlight=False)
        for key, col, a, b in m.changed:
            c.print("    " + tx("value_differs", key=key, column=col, stored=repr(a), new=repr(b)),
                    highlight=False, markup=False)
    if rep.identical:
        c.print(tx("identical", tol=f"{REL_TOL:g}"), highlight=False)
        return
    err.print(tx("not_identical"), highlight=False)
    raise typer.Exit(1)


@marts_app.command("check")
def marts_check_cmd(lang: LangOpt = None, db: DbOption = default_db()) -> None:
    """Check every mart of the warehouse against its declaration (columns, types, tests)."""
    from pipelines.core import check_mart, declarations

    lang = check_lang(lang)
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
        err.print(t("cli_marts_problems", lang, n=len(problems), db=db), highlight=False)
        raise typer.Exit(1)
    c.print(t("cli_marts_ok", lang, n=len(declarations())), highlight=False)


@marts_app.command("docs")
def marts_docs_cmd(
    write: bool = typer.Option(False, "--write", help="Rewrite the generated part of ARCHITECTURE.md (else print it)."),
    path: Path = typer.Option(None, "--path", help="The file to update (default: ARCHITECTURE.md of the repository)."),
    lang: LangOpt = None,
) -> None:
    """The mart table of ARCHITECTURE.md, generated from the declarations."""
    from pipelines.docs import architecture_path, mart_tables, update_architecture

    if not write:
        console().print(mart_tables(), highlight=False, markup=False)
        return
    target = path or architecture_path()
    changed = update_architecture(target)
    console().print(t("cli_docs_updated" if changed else "cli_docs_current", check_lang(lang), path=target),
                    highlight=False)
