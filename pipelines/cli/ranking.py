"""`styrkort index`, `styrkort select`, `styrkort uncertainty`.

Each command computes one run in one transaction (on any error the warehouse is unchanged),
stores it under the mart contract (a configuration other than the default is stored beside it
and the dashboard is unchanged unless --make-default), then reads the run's rows back from the
marts and prints them."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli.common import (CsvOpt, JsonOpt, LangOpt, MakeDefaultOpt, Output, check_lang, console,
                                  default_note, fail, fmt, read, run_step, warn)
from styrkort.i18n import t
from styrkort.paths import DbOption, default_db

def _texts(lang: str):
    """This module's catalogue texts (keys cli_<name>) in the command's language."""
    return lambda key, **kw: t(f"cli_{key}", lang, **kw)


def _size(group, lang: str) -> str:
    return t(f"size_short_{group}", lang) if group in ("small", "medium", "large") else "–"


ConfigOpt = typer.Option(None, "--config", help="Index config (TOML); default pipelines/configs/oj_default.toml.")


def _footer(console: Console, tx, config, config_hash: str, is_demo: bool, note: str) -> None:
    # demo data is labelled in words, not only by colour
    demo = f" · [bold]{tx('demo')}[/bold]" if is_demo else ""
    console.print(tx("footer", source=config.source, config_hash=config_hash,
                     normalisation=config.normalisation) + demo, highlight=False)
    console.print(note, highlight=False)


def _ranked(db: Path, run_id: str):
    """The index run's rows from the mart, with names and counties."""
    return read(db, """SELECT c.*, m.name, m.county_code, m.county_name FROM composite_index_all c
                       JOIN municipalities m USING (municipality_code) WHERE c.run_id = ? ORDER BY c.rank""",
                [run_id])


def register(app: typer.Typer) -> None:
    app.command("index")(index_cmd)
    app.command("select")(select_cmd)
    app.command("uncertainty")(uncertainty_cmd)


def index_cmd(
    year: int = typer.Option(..., "--year", help="Year of the KPI values."),
    config: Optional[Path] = ConfigOpt,
    top: int = typer.Option(10, "--top", help="Show this many from the top and the bottom."),
    make_default: MakeDefaultOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    lang: LangOpt = None,
    db: DbOption = default_db(),
) -> None:
    """Composite index for a year: which KPIs are used and why not, ranks and group ranks."""
    import pandas as pd

    from pipelines.ranking.config import load_config
    from pipelines.ranking.pipeline import run_index

    lang = check_lang(lang)
    tx = _texts(lang)
    try:
        cfg = load_config(config)
    except ValueError as e:
        raise fail(str(e)) from None

    def work(con):
        run = run_index(con, year, cfg, make_default=make_default)
        return run, run.is_default

    run, deps = run_step(db, work, "index", year)
    ranked = _ranked(db, run.run_id)
    usage = read(db, "SELECT * FROM index_kpi_usage_all WHERE run_id = ? ORDER BY area, kpi_id", [run.run_id])
    out = Output(as_json, csv)
    cols = ["year", "rank", "municipality_code", "name", "county_code", "size_group", "group_rank", "composite",
            "normalisation", "is_demo", "config_hash", "run_id", "is_default"]
    out.write({"index": ranked[cols]})
    if as_json:
        from pipelines.cli.common import jsonable

        out.print_json({"year": year, "config_hash": run.config_hash, "run_id": run.run_id,
                        "is_default": run.is_default, "usage": jsonable(usage.drop(columns=["is_default"])),
                        "index": jsonable(ranked[cols])})
        return
    c = console()
    tab = Table(title=tx("usage", year=year))
    for col in ("kpi", "area", "used", "reason"):
        tab.add_column(tx(f"col_{col}"))
    for r in usage.itertuples():
        tab.add_row(r.kpi_id, r.area, t("yes", lang) if r.used else f"[bold]{t('no', lang)}[/bold]", r.reason)
    c.print(tab)
    show = ranked if len(ranked) <= 2 * top else pd.concat([ranked.head(top), ranked.tail(top)])
    tab = Table(title=tx("ranking", year=year, n=top))
    for col in ("rank", "muni", "county", "group", "group_rank", "index"):
        tab.add_column(tx(f"col_{col}"), justify="right" if col in ("rank", "group_rank", "index") else "left")
    for r in show.itertuples():
        tab.add_row(str(r.rank), f"{r.municipality_code} {r.name}", str(r.county_code),
                    _size(r.size_group, lang), "–" if pd.isna(r.group_rank) else str(r.group_rank),
                    fmt(r.composite, lang))
    c.print(tab)
    _footer(c, tx, cfg, run.config_hash, bool(ranked["is_demo"].any()),
            default_note("index", run.is_default, deps, lang))
    if csv:
        c.print(tx("saved", path=csv), highlight=False)


def select_cmd(
    year: int = typer.Option(..., "--year", help="Year of the KPI values."),
    config: Optional[Path] = typer.Option(None, "--config", help="Index config (TOML)."),
    max_per_county: Optional[int] = typer.Option(None, "--max-per-county", min=1,
                                                 help="Geographic spread: at most K per county in the high list and in the low list."),
    swap: Optional[list[str]] = typer.Option(None, "--swap", help="OUT:IN:REASON — replace a selected municipality by another of the same size group (repeatable)."),
    make_default: MakeDefaultOpt = False,
    as_json: JsonOpt = False,
    csv: Optional[Path] = typer.Option(None, "--csv", help="Write the selection (one row per municipality, Table-1 long form) to this CSV file."),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Write Table 1 and the selection to this Excel file."),
    lang: LangOpt = None,
    db: DbOption = default_db(),
) -> None:
    """The 15 high / 15 low selection (6+6 small, 6+6 medium, 3+3 large), stored in `selections`."""
    from pipelines.ranking.config import load_config
    from pipelines.ranking.pipeline import run_select
    from pipelines.ranking.selection import SelectionError, parse_swap, shortfall, table1

    lang = check_lang(lang)
    tx = _texts(lang)
    try:
        swaps = [parse_swap(s) for s in (swap or [])]
        cfg = load_config(config)
    except (SelectionError, ValueError) as e:
        raise fail(str(e)) from None

    def work(con):
        run = run_select(con, year, cfg, max_per_county=max_per_county, swaps=swaps, make_default=make_default)
        return run, run.is_default

    run, deps = run_step(db, work, "select", year)
    items = read(db, """SELECT i.*, s.index_config_hash, s.options_json FROM selection_items_all i
                        JOIN selections_all s USING (selection_id) WHERE i.selection_id = ?""",
                 [run.selection_id])
    from pipelines.ranking.selection import order_items

    items = order_items(items)
    short = shortfall(items)
    if short:  # to stderr, so --json output stays clean
        warn(tx("select_shortfall", places="; ".join(short)))
    export = items[["size_group", "result", "rank", "group_rank", "municipality_code", "name", "county_code",
                    "county_name", "composite", "adjusted", "reason", "replaces", "is_demo"]].assign(
        year=year, config_hash=run.index.config_hash, selection_id=run.selection_id)
    Output(as_json, csv, xlsx).write({"Tabell 1": table1(items), "Urval": export}, csv_table="Urval")
    if as_json:
        from pipelines.ranking.pipeline import selection_json

        Output(True).print_json(selection_json(run, items))
        return
    c = console()
    _print_selection(c, run, items, tx, lang, default_note("select", run.is_default, deps, lang))
    for f in (csv, xlsx):
        if f:
            c.print(tx("saved", path=f), highlight=False)


def _print_selection(c: Console, run, items, tx, lang: str, note: str) -> None:
    from pipelines.ranking.selection import table1

    n = len(run.index.ranked)
    t1 = Table(title=tx("table1", year=run.index.year, n=n))
    t1.add_column(tx("col_group"))
    t1.add_column(tx("col_high"))
    t1.add_column(tx("col_low"))
    for r in table1(items).itertuples():
        t1.add_row(_size(r.size_group, lang), r.high, r.low)
    c.print(t1)
    tab = Table(title=tx("selection"))
    for col in ("result", "group", "rank", "group_rank", "muni", "county", "index", "adjusted", "reason"):
        tab.add_column(tx(f"col_{col}"), justify="right" if col in ("rank", "group_rank", "index") else "left")
    for r in items.itertuples():
        tab.add_row(tx(f"result_{r.result}"), _size(r.size_group, lang),
                    str(r.rank), str(r.group_rank), f"{r.municipality_code} {r.name}",
                    f"{r.county_code} {r.county_name or ''}".strip(), fmt(r.composite, lang),
                    t("yes" if r.adjusted else "no", lang), str(r.reason))
    c.print(tab)
    c.print(f"selection_id {run.selection_id}", highlight=False)
    _footer(c, tx, run.index.config, run.index.config_hash, bool(items["is_demo"].any()), note)


def uncertainty_cmd(
    year: int = typer.Option(..., "--year", help="Year of the KPI values."),
    draws: int = typer.Option(500, "--draws", min=1, help="Monte Carlo draws (the default run: 500)."),
    seed: int = typer.Option(2010, "--seed", help="Random seed (same seed, same result)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Index config (TOML)."),
    concentration: float = typer.Option(50.0, "--concentration", min=0.001,
                                        help="Dirichlet concentration around the configured weights (higher = closer)."),
    make_default: MakeDefaultOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    lang: LangOpt = None,
    db: DbOption = default_db(),
) -> None:
    """Rank uncertainty: weights drawn around the config, normalisation zscore/minmax/rank."""
    from pipelines.ranking.config import load_config
    from pipelines.ranking.pipeline import run_uncertainty
    from pipelines.ranking.selection import select

    lang = check_lang(lang)
    tx = _texts(lang)
    try:
        cfg = load_config(config)
    except ValueError as e:
        raise fail(str(e)) from None

    def work(con):
        run = run_uncertainty(con, year, cfg, draws=draws, seed=seed, concentration=concentration,
                              make_default=make_default)
        return run, run.is_default

    run, deps = run_step(db, work, "uncertainty", year)
    ranked = _ranked(db, run.index.run_id)
    table = read(db, "SELECT * FROM rank_uncertainty_all WHERE run_id = ?", [run.run_id])
    # the municipalities the plain ranking selects (pipelines' own rule), with their uncertainty
    chosen = select(ranked)[["municipality_code", "result"]]
    tab_df = (chosen.merge(ranked[["municipality_code", "name", "size_group", "rank"]], on="municipality_code")
              .merge(table.drop(columns=["is_default"]), on="municipality_code"))
    Output(as_json, csv).write({"uncertainty": table.merge(
        ranked[["municipality_code", "name", "size_group", "rank"]], on="municipality_code")})
    if as_json:
        from pipelines.cli.common import jsonable

        Output(True).print_json({"year": year, "run_id": run.run_id, "is_default": run.is_default,
                                 "draws": draws, "seed": seed, "selected": jsonable(tab_df)})
        return
    c = console()
    tab = Table(title=tx("unc", year=year, draws=draws, seed=seed))
    for col in ("result", "group", "muni", "rank", "median", "interval", "p_top", "p_bottom"):
        tab.add_column(tx(f"col_{col}"), justify="right" if col in ("rank", "median", "interval", "p_top", "p_bottom") else "left")
    for r in tab_df.itertuples():
        tab.add_row(tx(f"result_{r.result}"), _size(r.size_group, lang),
                    f"{r.municipality_code} {r.name}", str(r.rank), fmt(r.rank_median, lang, 1),
                    f"{fmt(r.rank_p05, lang, 0)}–{fmt(r.rank_p95, lang, 0)}",
                    fmt(100 * r.p_top, lang, 0) + " %", fmt(100 * r.p_bottom, lang, 0) + " %")
    c.print(tab)
    _footer(c, tx, cfg, run.index.config_hash, bool(table["is_demo"].any()),
            default_note("uncertainty", run.is_default, deps, lang))
