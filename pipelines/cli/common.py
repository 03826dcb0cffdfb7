"""What every pipeline command shares: opening the warehouse, one transaction per run, the
output options (--json / --csv / --xlsx, one helper for all commands) and number formatting."""
from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Optional

import typer
from rich.console import Console

from styrkort.formats import kr as _kr, number, percent  # noqa: F401  (re-exported for the commands)
from styrkort.i18n import cli_lang, t

LANGS = ("sv", "en")

# --- options shared by the commands ---------------------------------------------------------------
LangOpt = Annotated[Optional[str], typer.Option(
    "--lang", help="sv or en (default: STYRKORT_LANG, else sv).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables (only JSON on stdout).")]
CsvOpt = Annotated[Optional[Path], typer.Option("--csv", help="Also write the table to this CSV file (UTF-8, comma, decimal point).")]
XlsxOpt = Annotated[Optional[Path], typer.Option("--xlsx", help="Also write the table(s) to this Excel file (one sheet per table).")]
MakeDefaultOpt = Annotated[bool, typer.Option(
    "--make-default", help="Make this run the default: the dashboard shows it (and the steps that read it are recomputed).")]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Recompute the step's default run on the data now in the warehouse.")]


@dataclass(frozen=True)
class Output:
    """The output options of one command call."""
    as_json: bool = False
    csv: Path | None = None
    xlsx: Path | None = None

    def write(self, tables: dict[str, "object"], csv_table: str | None = None) -> list[Path]:
        """Write the files asked for: CSV = `csv_table` (default: the first table), Excel = every
        table, one sheet each (sheet names ≤ 31 characters). Returns the files written."""
        import pandas as pd

        written = []
        if self.csv:
            name = csv_table or next(iter(tables))
            tables[name].to_csv(self.csv, index=False, encoding="utf-8")
            written.append(self.csv)
        if self.xlsx:
            with pd.ExcelWriter(self.xlsx, engine="xlsxwriter") as xw:
                for sheet, df in tables.items():
                    df.to_excel(xw, sheet_name=sheet[:31], index=False)
            written.append(self.xlsx)
        return written

    def print_json(self, doc) -> None:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n")


def check_lang(lang: str | None) -> str:
    """The command's language: --lang, else STYRKORT_LANG, else Swedish."""
    if lang is None:
        return cli_lang()
    if lang not in LANGS:
        raise typer.BadParameter(t("cli_lang_choice", cli_lang(), langs=", ".join(LANGS)), param_hint="--lang")
    return lang


# --- consoles and errors --------------------------------------------------------------------------

def console() -> Console:
    # piped output (files, CI logs) gets a wide fixed width instead of 80 columns
    return Console(width=None if sys.stdout.isatty() else 160)


err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    # soft_wrap: a file name in the message is never broken across lines
    err.print(f"[bold red]{t('cli_error', cli_lang())}[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    err.print(f"[bold]{t('cli_warning', cli_lang())}[/bold] {message}", highlight=False, soft_wrap=True)


# --- the warehouse --------------------------------------------------------------------------------

def connect(db: Path, write: bool = False):
    from warehouse.db import connect as _connect

    if not Path(db).exists():
        raise typer.BadParameter(t("cli_no_warehouse", cli_lang(), db=db), param_hint="--db")
    return _connect(db, read_only=not write)


def known_errors() -> tuple[type[BaseException], ...]:
    from pipelines.core import DeclarationError
    from pipelines.ranking.config import ConfigError
    from pipelines.ranking.index import IndexComputationError
    from pipelines.ranking.selection import SelectionError

    return (ConfigError, IndexComputationError, SelectionError, DeclarationError, ValueError, LookupError)


def in_transaction(db: Path, fn: Callable):
    """Run fn(con) in one transaction on a private copy of the warehouse that replaces it
    atomically on success (warehouse.db.writing: one writer at a time, a running dashboard keeps
    reading the old file until the new one is in place). On any error the warehouse is unchanged;
    a known error prints its message and exits 1."""
    from warehouse.db import WarehouseError, writing

    connect(db).close()   # a clear message if the warehouse is missing
    try:
        with writing(db) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                out = fn(con)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return out
    except WarehouseError as e:
        raise fail(str(e)) from None
    except known_errors() as e:
        raise fail(str(e)) from None


def run_step(db: Path, fn: Callable, step: str, year: int | None = None):
    """fn(con) -> (result, run_id, is_default) in one transaction; when the run's rows are the
    default, the steps that read them are recomputed in the same transaction. Returns
    (result, dependants recomputed)."""
    from pipelines.steps import refresh_dependants

    def work(con):
        result, is_default = fn(con)
        return result, (refresh_dependants(con, step, year) if is_default else [])

    return in_transaction(db, work)


def read(db: Path, sql: str, params: list | dict | None = None):
    con = connect(db)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def stored_run(db: Path, step: str, config_hash: str, year: int | None = None) -> str | None:
    """run_id of the stored run of this step and configuration (None if none or no runs yet)."""
    from pipelines.core import relation_exists

    con = connect(db)
    try:
        if not relation_exists(con, "pipeline_runs"):
            return None
        rows = con.execute("""SELECT run_id FROM pipeline_runs WHERE step = ? AND config_hash = ?
                              AND year IS NOT DISTINCT FROM ? AND is_stored
                              ORDER BY started_at DESC LIMIT 1""", [step, config_hash, year]).fetchall()
        return rows[0][0] if rows else None
    finally:
        con.close()


def default_note(step: str, is_default: bool, dependants: list[str], lang: str | None = None) -> str:
    lang = check_lang(lang)
    if is_default:
        more = t("cli_run_recomputed", lang, steps=", ".join(dependants)) if dependants else ""
        return t("cli_run_default", lang) + more
    return t("cli_run_beside", lang)


# --- formatting -----------------------------------------------------------------------------------

def na(x) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):   # lists and the like
        return False


def fmt(x, lang: str = "sv", decimals: int = 3) -> str:
    return number(None if na(x) else float(x), decimals, lang)


def kr(x, decimals: int = 0, lang: str = "sv") -> str:
    return _kr(None if na(x) else x, decimals, lang)


def num(x, d: int = 3, lang: str = "sv") -> str:
    """At least `d` decimals, more for small numbers so 4 significant digits show."""
    if na(x):
        return number(None, lang=lang)
    if x != 0 and abs(x) < 1:
        d = min(8, max(d, 3 - int(math.floor(math.log10(abs(x))))))
    return number(x, d, lang)


def p_value(x, lang: str = "sv") -> str:
    if na(x):
        return number(None, lang=lang)
    if x < 0.001:
        return "< " + number(0.001, 3, lang)
    return number(x, 3, lang)


def jsonable(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))
