"""`styrkort index`, `styrkort select`, `styrkort uncertainty`.

Each command runs in one transaction: on any error the warehouse is unchanged."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from styrkort.formats import number
from styrkort.paths import DbOption, default_db

LANGS = ("sv", "en")
T = {
    "sv": {
        "usage": "KPI:er i index {year}", "kpi": "KPI", "area": "Område", "used": "Används",
        "reason": "Skäl", "yes": "ja", "no": "nej", "ranking": "Rangordning {year} (topp och botten {n})",
        "rank": "Rang", "muni": "Kommun", "group": "Storleksgrupp", "group_rank": "Grupprang",
        "index": "Index", "county": "Län", "adjusted": "Justerad", "result": "Resultat",
        "table1": "Urval {year} i formen av studiens tabell 1 (rang 1 = högst av {n})",
        "high": "Höga resultat (rang)", "low": "Låga resultat (rang)",
        "selection": "Valda kommuner", "config": "Konfiguration", "demo": "demodata",
        "saved": "Sparat", "unc": "Ranglägets osäkerhet {year} ({draws} dragningar, frö {seed})",
        "median": "Median", "interval": "5–95 %", "p_top": "Andel topp", "p_bottom": "Andel botten",
        "high_r": "hög", "low_r": "låg",
        "sizes": {"small": "små", "medium": "medelstora", "large": "stora"},
    },
    "en": {
        "usage": "KPIs in the index {year}", "kpi": "KPI", "area": "Area", "used": "Used",
        "reason": "Reason", "yes": "yes", "no": "no", "ranking": "Ranking {year} (top and bottom {n})",
        "rank": "Rank", "muni": "Municipality", "group": "Size group", "group_rank": "Group rank",
        "index": "Index", "county": "County", "adjusted": "Adjusted", "result": "Result",
        "table1": "Selection {year} in the shape of the study's Table 1 (rank 1 = highest of {n})",
        "high": "High results (ranks)", "low": "Low results (ranks)",
        "selection": "Selected municipalities", "config": "Config", "demo": "demo data",
        "saved": "Saved", "unc": "Rank uncertainty {year} ({draws} draws, seed {seed})",
        "median": "Median", "interval": "5–95 %", "p_top": "Share top", "p_bottom": "Share bottom",
        "high_r": "high", "low_r": "low",
        "sizes": {"small": "small", "medium": "medium", "large": "large"},
    },
}


def _open(db: Path):
    from warehouse.db import connect

    if not Path(db).exists():
        raise typer.BadParameter(f"warehouse {db} does not exist; run `styrkort build` first",
                                 param_hint="--db")
    return connect(db)


def _in_transaction(db: Path, fn):
    """Run fn(con) in one transaction; a clear message and exit code 1 on a known error."""
    from pipelines.ranking.config import ConfigError
    from pipelines.ranking.index import IndexComputationError
    from pipelines.ranking.selection import SelectionError

    con = _open(db)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            out = fn(con)
            con.execute("COMMIT")
            return out
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except (ConfigError, IndexComputationError, SelectionError) as e:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]Fel/error:[/bold red] {e}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        con.close()


def _footer(console: Console, t: dict, index_run) -> None:
    # demo data is labelled in words, not only by colour
    demo = f" · [bold]{t['demo']}[/bold]" if index_run.is_demo else ""
    console.print(f"{t['config']}: {index_run.config.source} · config_hash {index_run.config_hash}"
                  f" · normalisation {index_run.config.normalisation}{demo}", highlight=False)


def _fmt(x, lang: str, decimals: int = 3) -> str:
    return number(float(x), decimals, lang)


def _console() -> Console:
    # piped output (files, CI logs) gets a wide fixed width instead of 80 columns
    return Console(width=None if sys.stdout.isatty() else 160)


def _check_lang(lang: str) -> dict:
    if lang not in LANGS:
        raise typer.BadParameter(f"use one of {', '.join(LANGS)}", param_hint="--lang")
    return T[lang]


def register(app: typer.Typer) -> None:
    @app.command("index")
    def index_cmd(
        year: int = typer.Option(..., "--year", help="Year of the KPI values."),
        config: Optional[Path] = typer.Option(None, "--config", help="Index config (TOML); default pipelines/configs/oj_default.toml."),
        top: int = typer.Option(10, "--top", help="Show this many from the top and the bottom."),
        lang: str = typer.Option("sv", "--lang", help="sv or en."),
        db: DbOption = default_db(),
    ) -> None:
        """Composite index for a year: which KPIs are used and why not, ranks and group ranks."""
        import pandas as pd

        from pipelines.ranking.pipeline import run_index
        from pipelines.ranking.config import load_config

        t = _check_lang(lang)
        run = _in_transaction(db, lambda con: run_index(con, year, load_config(config)))
        console = _console()
        usage = Table(title=t["usage"].format(year=year))
        for col in ("kpi", "area", "used", "reason"):
            usage.add_column(t[col])
        for r in run.result.usage.itertuples():
            usage.add_row(r.kpi_id, r.area, t["yes"] if r.used else f"[bold]{t['no']}[/bold]", r.reason)
        console.print(usage)
        ranked = run.ranked.sort_values("rank")
        show = ranked if len(ranked) <= 2 * top else pd.concat([ranked.head(top), ranked.tail(top)])
        tab = Table(title=t["ranking"].format(year=year, n=top))
        for col in ("rank", "muni", "county", "group", "group_rank", "index"):
            tab.add_column(t[col], justify="right" if col in ("rank", "group_rank", "index") else "left")
        for r in show.itertuples():
            tab.add_row(str(r.rank), f"{r.municipality_code} {r.name}", str(r.county_code),
                        t["sizes"].get(r.size_group, "–"), "–" if pd.isna(r.group_rank) else str(r.group_rank),
                        _fmt(r.composite, lang))
        console.print(tab)
        _footer(console, t, run)

    @app.command("select")
    def select_cmd(
        year: int = typer.Option(..., "--year", help="Year of the KPI values."),
        config: Optional[Path] = typer.Option(None, "--config", help="Index config (TOML)."),
        max_per_county: Optional[int] = typer.Option(None, "--max-per-county", min=1,
                                                     help="Geographic spread: at most K per county in the high list and in the low list."),
        swap: Optional[list[str]] = typer.Option(None, "--swap", help="OUT:IN:REASON — replace a selected municipality by another of the same size group (repeatable)."),
        as_json: bool = typer.Option(False, "--json", help="Print the selection as JSON (only JSON on stdout)."),
        csv: Optional[Path] = typer.Option(None, "--csv", help="Write the selection (one row per municipality, Table-1 long form) to this CSV file."),
        xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Write Table 1 and the selection to this Excel file."),
        lang: str = typer.Option("sv", "--lang", help="sv or en."),
        db: DbOption = default_db(),
    ) -> None:
        """The 15 high / 15 low selection (6+6 small, 6+6 medium, 3+3 large), stored in `selections`."""
        from pipelines.ranking.pipeline import run_select, selection_json
        from pipelines.ranking.config import load_config
        from pipelines.ranking.selection import SelectionError, parse_swap, shortfall

        t = _check_lang(lang)
        try:
            swaps = [parse_swap(s) for s in (swap or [])]
        except SelectionError as e:
            Console(stderr=True, soft_wrap=True).print(f"[bold red]Fel/error:[/bold red] {e}", highlight=False)
            raise typer.Exit(1) from None
        run = _in_transaction(db, lambda con: run_select(
            con, year, load_config(config), max_per_county=max_per_county, swaps=swaps))
        short = shortfall(run.items)
        if short:  # to stderr, so --json output stays clean
            Console(stderr=True).print("[bold]Varning/warning:[/bold] the rules left places empty: "
                                       + "; ".join(short), highlight=False)
        if csv:
            _write_csv(run, csv)
        if xlsx:
            _write_xlsx(run, xlsx, t)
        if as_json:
            sys.stdout.write(json.dumps(selection_json(run), ensure_ascii=False, indent=2) + "\n")
            return
        console = _console()
        _print_selection(console, run, t, lang)
        for f in (csv, xlsx):
            if f:
                console.print(f"{t['saved']}: {f}", highlight=False)

    @app.command("uncertainty")
    def uncertainty_cmd(
        year: int = typer.Option(..., "--year", help="Year of the KPI values."),
        draws: int = typer.Option(1000, "--draws", min=1, help="Monte Carlo draws."),
        seed: int = typer.Option(2010, "--seed", help="Random seed (same seed, same result)."),
        config: Optional[Path] = typer.Option(None, "--config", help="Index config (TOML)."),
        concentration: float = typer.Option(50.0, "--concentration", min=0.001,
                                            help="Dirichlet concentration around the configured weights (higher = closer)."),
        lang: str = typer.Option("sv", "--lang", help="sv or en."),
        db: DbOption = default_db(),
    ) -> None:
        """Rank uncertainty: weights drawn around the config, normalisation zscore/minmax/rank."""
        from pipelines.ranking.pipeline import run_uncertainty
        from pipelines.ranking.config import load_config
        from pipelines.ranking.selection import select

        t = _check_lang(lang)
        run = _in_transaction(db, lambda con: run_uncertainty(
            con, year, load_config(config), draws=draws, seed=seed, concentration=concentration))
        chosen = select(run.index.ranked)[["municipality_code", "result"]]
        tab_df = (chosen.merge(run.index.ranked, on="municipality_code")
                  .merge(run.table, on="municipality_code"))
        console = _console()
        tab = Table(title=t["unc"].format(year=year, draws=draws, seed=seed))
        for col in ("result", "group", "muni", "rank", "median", "interval", "p_top", "p_bottom"):
            tab.add_column(t[col], justify="right" if col in ("rank", "median", "interval", "p_top", "p_bottom") else "left")
        for r in tab_df.itertuples():
            tab.add_row(t["high_r"] if r.result == "high" else t["low_r"], t["sizes"][r.size_group],
                        f"{r.municipality_code} {r.name}", str(r.rank), _fmt(r.rank_median, lang, 1),
                        f"{_fmt(r.rank_p05, lang, 0)}–{_fmt(r.rank_p95, lang, 0)}",
                        _fmt(100 * r.p_top, lang, 0) + " %", _fmt(100 * r.p_bottom, lang, 0) + " %")
        console.print(tab)
        _footer(console, t, run.index)


def _print_selection(console: Console, run, t: dict, lang: str) -> None:
    from pipelines.ranking.selection import table1

    n = len(run.index.ranked)
    t1 = Table(title=t["table1"].format(year=run.index.year, n=n))
    t1.add_column(t["group"])
    t1.add_column(t["high"])
    t1.add_column(t["low"])
    for r in table1(run.items).itertuples():
        t1.add_row(t["sizes"][r.size_group], r.high, r.low)
    console.print(t1)
    tab = Table(title=t["selection"])
    for col in ("result", "group", "rank", "group_rank", "muni", "county", "index", "adjusted", "reason"):
        tab.add_column(t[col], justify="right" if col in ("rank", "group_rank", "index") else "left")
    for r in run.items.itertuples():
        tab.add_row(t["high_r"] if r.result == "high" else t["low_r"], t["sizes"][r.size_group],
                    str(r.rank), str(r.group_rank), f"{r.municipality_code} {r.name}",
                    f"{r.county_code} {r.county_name or ''}".strip(), _fmt(r.composite, lang),
                    t["yes"] if r.adjusted else t["no"], str(r.reason))
    console.print(tab)
    console.print(f"selection_id {run.selection_id}", highlight=False)
    _footer(console, t, run.index)


def _export_frame(run):
    cols = ["size_group", "result", "rank", "group_rank", "municipality_code", "name", "county_code",
            "county_name", "composite", "adjusted", "reason", "replaces"]
    return run.items[cols].assign(year=run.index.year, config_hash=run.index.config_hash,
                                  selection_id=run.selection_id)


def _write_csv(run, path: Path) -> None:
    _export_frame(run).to_csv(path, index=False, encoding="utf-8")


def _write_xlsx(run, path: Path, t: dict) -> None:
    import pandas as pd

    from pipelines.ranking.selection import table1

    with pd.ExcelWriter(path, engine="xlsxwriter") as xw:
        table1(run.items).to_excel(xw, sheet_name="Tabell 1", index=False)
        _export_frame(run).to_excel(xw, sheet_name="Urval", index=False)
