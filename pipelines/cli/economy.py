"""`styrkort cost`, `styrkort associations`, `styrkort trends`, `styrkort grants`.

A command reads the marts (read-only connection): the default run, or for `trends --years N`
the stored run of that window. It computes only when asked (--refresh: the step's default run
on the data now in the warehouse), when the mart is missing, or when no run with the asked
parameters is stored yet — and then stores that run under the mart contract: a run with other
parameters is kept beside the default and the dashboard is unchanged unless --make-default."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from pipelines.cli.common import (CsvOpt, JsonOpt, LangOpt, MakeDefaultOpt, Output, RefreshOpt, XlsxOpt,
                                  check_lang, connect, console, default_note, err, jsonable, kr, na, num,
                                  number, p_value, percent, read, run_step, stored_run)
from styrkort.grant_texts import check_text, note_text
from styrkort.i18n import t
from styrkort.paths import DbOption, default_db

VERDICT_ORDER = ("improving", "worsening", "no_change", "no_direction")


def _texts(lang: str):
    """This module's catalogue texts (keys cli_<name>) in the command's language."""
    return lambda key, **kw: t(f"cli_{key}", lang, **kw)


def _size(group, lang: str, empty: str = "–") -> str:
    return t(f"size_short_{group}", lang) if group in ("small", "medium", "large") else (group or empty)


def _columns(table: Table, tx, keys: list[str], right: tuple = (), **opts) -> None:
    for key in keys:
        table.add_column(tx(f"col_{key}"), justify="right" if key in right else "left",
                         **{k: v(key) if callable(v) else v for k, v in opts.items()})


def register(app: typer.Typer) -> None:
    app.command("cost")(cost_cmd)
    app.command("associations")(associations_cmd)
    app.command("trends")(trends_cmd)
    app.command("grants")(grants_cmd)


def _has(db: Path, view: str) -> bool:
    from pipelines.core import relation_exists

    con = connect(db)
    try:
        return relation_exists(con, view)
    finally:
        con.close()


def ensure_default(db: Path, step: str, view: str, refresh: bool) -> list[str]:
    """Recompute the step's default run when asked to or when its mart is missing; returns the
    dependent steps recomputed with it."""
    from pipelines.steps import refresh_step

    if refresh or not _has(db, view):
        _, deps = run_step(db, lambda con: (refresh_step(con, step), True), step)
        return deps
    return []


def _drop_contract(df):
    return df.drop(columns=[c for c in ("config_hash", "run_id", "is_default") if c in df.columns])


def cost_cmd(
    year: int = typer.Option(..., "--year", help="Year (Kolada N20014 exists 1998–2011 in the embedded data)."),
    db: DbOption = default_db(),
    top: int = typer.Option(10, help="Show the N highest and lowest deviations."),
    refresh: RefreshOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = None,
) -> None:
    """Cost deviation from standard cost (official Kolada N20016/N20900 or modelled) and the model."""
    lang = check_lang(lang)
    tx = _texts(lang)
    ensure_default(db, "cost", "cost_deviation", refresh)
    dev = read(db, """SELECT c.*, m.name FROM cost_deviation c LEFT JOIN municipalities m
                      USING (municipality_code) WHERE year = ? ORDER BY deviation_pct DESC""", [year])
    model = read(db, "SELECT * FROM cost_model WHERE year = ? ORDER BY term", [year])
    if dev.empty:
        years = read(db, "SELECT DISTINCT year FROM cost_deviation ORDER BY 1")["year"].tolist()
        err.print(tx("cost_none", year=year, first=years[0] if years else "–", last=years[-1] if years else "–"),
                  highlight=False)
        raise typer.Exit(1)
    Output(as_json, csv, xlsx).write({"cost_deviation": dev, "cost_model": model})
    if as_json:
        Output(True).print_json({"year": year, "methods": dev["method"].value_counts().to_dict(),
                                 "model": jsonable(_drop_contract(model)),
                                 "deviation": jsonable(_drop_contract(dev))})
        return
    c = console()
    methods = ", ".join(f"{tx('method_' + k)}: {v}" for k, v in dev["method"].value_counts().items())
    if not model.empty:
        m0 = model.iloc[0]
        tab = Table(title=tx("cost_model", year=year),
                    caption=f"{m0['formula']} · R² = {num(m0['r_squared'], 3, lang)} · n = {int(m0['n'])}")
        _columns(tab, tx, ["term", "coef", "ci", "p"], right=("coef", "ci", "p"))
        for r in model.itertuples():
            tab.add_row(r.term, num(r.coef, 2, lang),
                      f"{num(r.ci_low, 2, lang)} – {num(r.ci_high, 2, lang)}", p_value(r.p_value, lang))
        c.print(tab)
    tab = Table(title=tx("cost_deviation", year=year, n=top, methods=methods), caption=tx("cost_caption"))
    _columns(tab, tx, ["muni", "net_cost", "standard_cost", "deviation", "method"],
             right=("net_cost", "standard_cost", "deviation"))
    shown = dev.head(top) if len(dev) <= 2 * top else dev.iloc[list(range(top)) + list(range(len(dev) - top, len(dev)))]
    for i, r in enumerate(shown.itertuples()):
        if i == top and len(dev) > 2 * top:
            tab.add_row("…", "", "", "", "")
        tab.add_row(f"{r.name} ({r.municipality_code})", kr(r.net_cost, lang=lang), kr(r.standard_cost, lang=lang),
                    percent(r.deviation_pct, 1, lang), tx(f"method_{r.method}"))
    c.print(tab)


def associations_cmd(
    year: Optional[int] = typer.Option(None, "--year", help="Year; all years if left out."),
    db: DbOption = default_db(),
    refresh: RefreshOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = None,
) -> None:
    """Does quality relate to cost or structure? Correlations, OLS and ANOVA per year."""
    lang = check_lang(lang)
    tx = _texts(lang)
    ensure_default(db, "associations", "quality_associations", refresh)
    where, params = ("WHERE year = ?", [year]) if year is not None else ("", [])
    df = read(db, f"SELECT * FROM quality_associations {where} ORDER BY year, test", params)
    Output(as_json, csv, xlsx).write({"quality_associations": df})
    if as_json:
        Output(True).print_json(jsonable(_drop_contract(df)))
        return
    if df.empty:
        err.print(tx("assoc_none"), highlight=False)
        raise typer.Exit(1)
    tab = Table(title=tx("assoc_title"), caption=tx("assoc_caption"))
    _columns(tab, tx, ["year", "test", "statistic", "estimate", "ci", "p", "n"],
             right=("year", "estimate", "ci", "p", "n"), no_wrap=lambda k: k in ("test", "ci"))
    for r in df.itertuples():
        ci = "–" if na(r.ci_low) else f"{num(r.ci_low, 3, lang)} – {num(r.ci_high, 3, lang)}"
        tab.add_row(str(r.year), r.test, r.statistic, num(r.estimate, 3, lang), ci, p_value(r.p_value, lang), str(r.n))
    console().print(tab)


def trends_cmd(
    years: int = typer.Option(5, "--years", help="Window: the KPI's last N years (at least 3)."),
    db: DbOption = default_db(),
    kpi: Optional[str] = typer.Option(None, "--kpi", help="Only this KPI id."),
    municipality: Optional[str] = typer.Option(None, "--municipality", help="Municipality code, e.g. 0180."),
    refresh: RefreshOpt = False,
    make_default: MakeDefaultOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = None,
) -> None:
    """Trend per KPI and municipality: OLS slope over the last N years with 95 % CI and verdict.

    Another window than the default run's is stored beside it: /kommun keeps its verdicts."""
    from pipelines.runs import config_hash
    from pipelines.trends import MIN_POINTS, run_trends, trends_config

    lang = check_lang(lang)
    tx = _texts(lang)
    if years < MIN_POINTS:
        raise typer.BadParameter(tx("at_least", n=MIN_POINTS), param_hint="--years")
    run_id = None if (refresh or make_default) else stored_run(db, "trends", config_hash(trends_config(years)))
    note = None
    if run_id is None:
        def work(con):
            rid = run_trends(con, years=years, make_default=make_default)
            default = con.execute("SELECT is_default FROM pipeline_run WHERE run_id = ?", [rid]).fetchall()[0][0]
            return (rid, default), default
        (run_id, is_default), deps = run_step(db, work, "trends")
        note = default_note("trends", is_default, deps, lang)
    cond, params = ["t.run_id = ?"], [run_id]
    if kpi:
        cond.append("t.kpi_id = ?"); params.append(kpi)
    if municipality:
        cond.append("t.municipality_code = ?"); params.append(municipality)
    df = read(db, f"""SELECT t.*, m.name, k.title FROM trends_all t
                      LEFT JOIN municipalities m USING (municipality_code)
                      LEFT JOIN kpis k USING (kpi_id) WHERE {' AND '.join(cond)}
                      ORDER BY t.kpi_id, t.municipality_code""", params)
    Output(as_json, csv, xlsx).write({"trends": df})
    if as_json:
        Output(True).print_json(jsonable(_drop_contract(df)))
        return
    if df.empty:
        err.print(tx("trends_none"), highlight=False)
        raise typer.Exit(1)
    c = console()
    default = bool(df["is_default"].iloc[0])
    run_note = note or tx("run_id", run_id=run_id) + " · " + tx("run_default" if default else "run_stored_beside")
    if municipality or (kpi and len(df) <= 60):
        one = bool(municipality)
        where_txt = f" – {df['name'].iloc[0]} ({municipality})" if one else ""
        tab = Table(title=tx("trends_title", n=years, where=where_txt), caption=tx("trends_caption"))
        _columns(tab, tx, ["kpi"] + ([] if one else ["muni"]) + ["years", "slope", "ci", "verdict"],
                 right=("slope", "ci"), no_wrap=lambda k: k in ("years", "slope"))
        for r in df.itertuples():
            demo = " (demo)" if r.is_demo else ""
            cells = [f"{r.kpi_id}{demo}"] + ([] if one else [f"{r.name} ({r.municipality_code})"]) + [
                f"{r.first_year}–{r.last_year} (n={r.n_years})", num(r.slope, 3, lang),
                f"{num(r.ci_low, 2, lang)} – {num(r.ci_high, 2, lang)}",
                t(f"trend_{r.verdict}", lang) if r.verdict in VERDICT_ORDER else r.verdict]
            tab.add_row(*cells)
        c.print(tab)
        c.print(run_note, highlight=False)
        return
    summary = (df.pivot_table(index=["kpi_id", "title"], columns="verdict", values="municipality_code",
                              aggfunc="count", fill_value=0).reset_index())
    verdicts = [v for v in VERDICT_ORDER if v in summary.columns]
    tab = Table(title=tx("trends_counts_title", n=years), caption=tx("trends_counts_caption"))
    tab.add_column(tx("col_kpi"), no_wrap=True, max_width=16, overflow="ellipsis")
    tab.add_column(tx("col_title"), max_width=24, overflow="ellipsis", no_wrap=True)
    for v in verdicts:
        tab.add_column(tx(f"verdict_short_{v}"), justify="right")
    for d in summary.to_dict("records"):
        tab.add_row(d["kpi_id"], d["title"] or "", *[str(int(d.get(v, 0))) for v in verdicts])
    c.print(tab)
    c.print(run_note, highlight=False)


def grants_cmd(
    db: DbOption = default_db(),
    municipality: Optional[str] = typer.Option(None, "--municipality", help="Uptake rows of one municipality."),
    not_applied: bool = typer.Option(False, "--not-applied", help="List the municipalities that did not apply in 2013."),
    refresh: RefreshOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = None,
) -> None:
    """Grant uptake 2011–2013 (frames, applications, awards) and the reconciliation with the report."""
    lang = check_lang(lang)
    tx = _texts(lang)
    ensure_default(db, "grants", "grant_uptake", refresh)
    recon = read(db, 'SELECT "check", expected, actual, difference, note, note_values, agreement '
                     'FROM grant_reconciliation')
    by_size = read(db, "SELECT * FROM grant_uptake_by_size_group ORDER BY round, pot, size_group")
    na_df = read(db, "SELECT * FROM grant_not_applied_2013 ORDER BY municipality_code")
    stim = read(db, "SELECT * FROM stimulus_returns")
    rows = None
    if municipality:
        rows = read(db, "SELECT * FROM grant_uptake WHERE municipality_code = ? ORDER BY round, pot", [municipality])
    tables = {"by_size_group": by_size, "reconciliation": recon, "not_applied_2013": na_df, "stimulus_returns": stim}
    if rows is not None:
        tables = {"uptake": rows, **tables}
    Output(as_json, csv, xlsx).write(tables)
    if as_json:
        doc = {"reconciliation": jsonable(recon), "by_size_group": jsonable(_drop_contract(by_size)),
               "not_applied_2013": jsonable(_drop_contract(na_df)),
               "stimulus_returns": jsonable(_drop_contract(stim))}
        if rows is not None:
            doc["uptake"] = jsonable(_drop_contract(rows))
        Output(True).print_json(doc)
        return
    c = console()
    if rows is not None:
        if rows.empty:
            err.print(tx("unknown_municipality", code=municipality), highlight=False)
            raise typer.Exit(1)
        tab = Table(title=tx("grants_title", code=municipality))
        _columns(tab, tx, ["round", "pot", "frame", "applied", "granted_sek", "uptake", "data_level"])
        for r in rows.itertuples():
            applied = "–" if na(r.applied) else t("yes" if r.applied else "no", lang)
            tab.add_row(r.round, str(r.pot), kr(r.frame_sek, lang=lang), applied, kr(r.granted_sek, lang=lang),
                        percent(None if na(r.uptake_share) else 100 * r.uptake_share, 1, lang), r.data_level)
        c.print(tab)
    tab = Table(title=tx("grants_recon_title"))
    _columns(tab, tx, ["check", "expected", "actual", "difference", "note"],
             right=("expected", "actual", "difference"), max_width=lambda k: 70 if k == "note" else None)

    def fmt(x):
        if na(x):
            return "–"
        return number(x, 0 if abs(x) >= 100 or float(x).is_integer() else 4, lang)
    names = dict(read(db, "SELECT municipality_code, name FROM municipalities").itertuples(index=False))
    for r in recon.itertuples():
        tab.add_row(check_text(r.check, lang, lambda code: names.get(code, code)), fmt(r.expected), fmt(r.actual), fmt(r.difference),
                    note_text(r.note, r.note_values, lang))
    c.print(tab)
    tab = Table(title=tx("grants_by_size_title"))
    _columns(tab, tx, ["round", "pot", "group", "municipalities", "n_applied", "n_granted", "frame", "granted_sek",
                       "uptake"], right=("pot", "municipalities", "n_applied", "n_granted", "frame", "granted_sek",
                                         "uptake"))
    for r in by_size.itertuples():
        share = None if na(r.uptake_share) else 100 * r.uptake_share
        tab.add_row(r.round, str(r.pot), _size(r.size_group, lang), str(r.municipalities),
                    "–" if na(r.applied) else str(int(r.applied)),
                    "–" if na(r.granted) else str(int(r.granted)),
                    kr(r.frame_sek, lang=lang), kr(r.granted_sek, lang=lang), percent(share, 1, lang))
    c.print(tab)
    c.print(tx("grants_dash_note"), highlight=False)
    c.print(tx("grants_not_applied_count", n=len(na_df)), highlight=False)
    if not_applied:
        tab = Table(title=tx("grants_not_applied_title"))
        _columns(tab, tx, ["code", "muni", "county", "group", "frame_pot1", "frame_pot2"])
        for r in na_df.itertuples():
            tab.add_row(r.municipality_code, r.name, r.county_name or "", _size(r.size_group, lang, ""),
                        kr(r.frame_pot1_sek, lang=lang), kr(r.frame_pot2_sek, lang=lang))
        c.print(tab)
    for r in stim.itertuples():
        c.print(tx("grants_stimulus", name=r.name, years=r.grant_years, received=kr(r.received_total_sek, lang=lang),
                   spent=kr(r.spent_sek, lang=lang), returned=kr(r.returned_sek, lang=lang),
                   share=percent(100 * r.returned_share, 1, lang), date=f"{r.returned_date:%Y-%m-%d}"),
                highlight=False)
