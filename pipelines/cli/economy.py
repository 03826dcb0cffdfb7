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
from styrkort.paths import DbOption, default_db

SIZES = {"sv": {"small": "små", "medium": "medelstora", "large": "stora"},
         "en": {"small": "small", "medium": "medium", "large": "large"}}
VERDICT_ORDER = ("improving", "worsening", "no_change", "no_direction")
VERDICTS = {"sv": {"improving": "förbättras", "worsening": "försämras", "no_change": "ingen tydlig förändring",
                   "no_direction": "ingen riktning"},
            "en": {"improving": "improving", "worsening": "worsening", "no_change": "no clear change",
                   "no_direction": "no direction"}}
VERDICT_SHORT = {"sv": {"improving": "bättre", "worsening": "sämre", "no_change": "oklart", "no_direction": "–"},
                 "en": {"improving": "better", "worsening": "worse", "no_change": "unclear", "no_direction": "–"}}


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
    lang: LangOpt = "sv",
) -> None:
    """Cost deviation from standard cost (official Kolada N20016/N20900 or modelled) and the model."""
    check_lang(lang)
    ensure_default(db, "cost", "cost_deviation", refresh)
    dev = read(db, """SELECT c.*, m.name FROM cost_deviation c LEFT JOIN municipalities m
                      USING (municipality_code) WHERE year = ? ORDER BY deviation_pct DESC""", [year])
    model = read(db, "SELECT * FROM cost_model WHERE year = ? ORDER BY term", [year])
    if dev.empty:
        years = read(db, "SELECT DISTINCT year FROM cost_deviation ORDER BY 1")["year"].tolist()
        err.print(f"[red]Ingen kostnadsavvikelse för {year}[/red] (no cost deviation for {year}); "
                  f"år/years: {years[0] if years else '–'}–{years[-1] if years else '–'}")
        raise typer.Exit(1)
    Output(as_json, csv, xlsx).write({"cost_deviation": dev, "cost_model": model})
    if as_json:
        Output(True).print_json({"year": year, "methods": dev["method"].value_counts().to_dict(),
                                 "model": jsonable(_drop_contract(model)),
                                 "deviation": jsonable(_drop_contract(dev))})
        return
    sv = lang == "sv"
    c = console()
    methods = ", ".join(f"{k}: {v}" for k, v in dev["method"].value_counts().items())
    if not model.empty:
        m0 = model.iloc[0]
        t = Table(title=(f"Kostnadsmodell {year} (modellerad standardkostnad)" if sv else
                         f"Cost model {year} (modelled standard cost)"),
                  caption=f"{m0['formula']} · R² = {num(m0['r_squared'], 3, lang)} · n = {int(m0['n'])}")
        for col in (("Term", "Term"), ("Koefficient", "Coefficient"), ("95 % KI", "95 % CI"), ("p", "p")):
            t.add_column(col[0] if sv else col[1], justify="left" if col[0] == "Term" else "right")
        for r in model.itertuples():
            t.add_row(r.term, num(r.coef, 2, lang),
                      f"{num(r.ci_low, 2, lang)} – {num(r.ci_high, 2, lang)}", p_value(r.p_value, lang))
        c.print(t)
    t = Table(title=(f"Avvikelse från standardkostnad {year}, högst och lägst {top} ({methods})" if sv else
                     f"Deviation from standard cost {year}, highest and lowest {top} ({methods})"),
              caption="Källa: Kolada N20014; metod per rad (official = Kolada, modelled = modellerad)" if sv
              else "Source: Kolada N20014; method per row (official = Kolada, modelled)")
    for col in (("Kommun", "Municipality"), ("Nettokostnad kr/inv", "Net cost SEK/inh."),
                ("Standardkostnad", "Standard cost"), ("Avvikelse", "Deviation"), ("Metod", "Method")):
        t.add_column(col[0] if sv else col[1], justify="left" if col[0] in ("Kommun", "Metod") else "right")
    shown = dev.head(top) if len(dev) <= 2 * top else dev.iloc[list(range(top)) + list(range(len(dev) - top, len(dev)))]
    for i, r in enumerate(shown.itertuples()):
        if i == top and len(dev) > 2 * top:
            t.add_row("…", "", "", "", "")
        t.add_row(f"{r.name} ({r.municipality_code})", kr(r.net_cost, lang=lang), kr(r.standard_cost, lang=lang),
                  percent(r.deviation_pct, 1, lang), r.method if r.method == "official" else
                  ("modellerad" if sv else "modelled"))
    c.print(t)


def associations_cmd(
    year: Optional[int] = typer.Option(None, "--year", help="Year; all years if left out."),
    db: DbOption = default_db(),
    refresh: RefreshOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = "sv",
) -> None:
    """Does quality relate to cost or structure? Correlations, OLS and ANOVA per year."""
    check_lang(lang)
    ensure_default(db, "associations", "quality_associations", refresh)
    where, params = ("WHERE year = ?", [year]) if year is not None else ("", [])
    df = read(db, f"SELECT * FROM quality_associations {where} ORDER BY year, test", params)
    Output(as_json, csv, xlsx).write({"quality_associations": df})
    if as_json:
        Output(True).print_json(jsonable(_drop_contract(df)))
        return
    if df.empty:
        err.print("[red]Inga samband beräknade[/red] (no associations: is there a composite index for that year?)")
        raise typer.Exit(1)
    sv = lang == "sv"
    t = Table(title="Samband mellan kvalitet (sammanvägt index) och kostnad/struktur" if sv else
              "Quality (composite index) vs cost and structure",
              caption="Index: demodata där index bygger på demo-KPI:er · kostnad: modellerad där Kolada N20016/N20900 saknas"
              if sv else "Index: demo data where it is built on demo KPIs · cost: modelled where Kolada N20016/N20900 are missing")
    for col in (("År", "Year"), ("Test", "Test"), ("Statistika", "Statistic"), ("Skattning", "Estimate"),
                ("95 % KI", "95 % CI"), ("p", "p"), ("n", "n")):
        t.add_column(col[0] if sv else col[1], justify="left" if col[0] in ("Test", "Statistika") else "right",
                     no_wrap=col[0] in ("Test", "95 % KI"))
    for r in df.itertuples():
        ci = "–" if na(r.ci_low) else f"{num(r.ci_low, 3, lang)} – {num(r.ci_high, 3, lang)}"
        t.add_row(str(r.year), r.test, r.statistic, num(r.estimate, 3, lang), ci, p_value(r.p_value, lang), str(r.n))
    console().print(t)


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
    lang: LangOpt = "sv",
) -> None:
    """Trend per KPI and municipality: OLS slope over the last N years with 95 % CI and verdict.

    Another window than the default run's is stored beside it: /kommun keeps its verdicts."""
    from pipelines.runs import config_hash
    from pipelines.trends import MIN_POINTS, run_trends, trends_config

    check_lang(lang)
    if years < MIN_POINTS:
        raise typer.BadParameter(f"must be at least {MIN_POINTS}", param_hint="--years")
    run_id = None if (refresh or make_default) else stored_run(db, "trends", config_hash(trends_config(years)))
    note = None
    if run_id is None:
        def work(con):
            rid = run_trends(con, years=years, make_default=make_default)
            default = con.execute("SELECT is_default FROM pipeline_run WHERE run_id = ?", [rid]).fetchall()[0][0]
            return (rid, default), default
        (run_id, is_default), deps = run_step(db, work, "trends")
        note = default_note("trends", is_default, deps)
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
        err.print("[red]Inga trender för urvalet[/red] (no trends for this selection)")
        raise typer.Exit(1)
    sv = lang == "sv"
    c = console()
    default = bool(df["is_default"].iloc[0])
    run_note = note or (f"run {run_id} · " + ("default run (the dashboard shows it)" if default else
                                              "stored run beside the default (the dashboard is unchanged)"))
    if municipality or (kpi and len(df) <= 60):
        one = bool(municipality)
        where_txt = f" – {df['name'].iloc[0]} ({municipality})" if one else ""
        t = Table(title=(f"Trender, senaste {years} åren{where_txt}" if sv else
                         f"Trends, last {years} years{where_txt}"),
                  caption="Lutning per år, 95 % KI (OLS); (demo) = demodata" if sv
                  else "Slope per year, 95 % CI (OLS); (demo) = demo data")
        cols = [("KPI", "KPI")] + ([] if one else [("Kommun", "Municipality")]) + [
            ("År", "Years"), ("Lutning/år", "Slope/yr"), ("95 % KI", "95 % CI"), ("Bedömning", "Verdict")]
        for col in cols:
            t.add_column(col[0] if sv else col[1], no_wrap=col[0] in ("År", "Lutning/år"),
                         justify="right" if col[0] in ("Lutning/år", "95 % KI") else "left")
        for r in df.itertuples():
            demo = " (demo)" if r.is_demo else ""
            cells = [f"{r.kpi_id}{demo}"] + ([] if one else [f"{r.name} ({r.municipality_code})"]) + [
                f"{r.first_year}–{r.last_year} (n={r.n_years})", num(r.slope, 3, lang),
                f"{num(r.ci_low, 2, lang)} – {num(r.ci_high, 2, lang)}", VERDICTS[lang].get(r.verdict, r.verdict)]
            t.add_row(*cells)
        c.print(t)
        c.print(run_note, highlight=False)
        return
    summary = (df.pivot_table(index=["kpi_id", "title"], columns="verdict", values="municipality_code",
                              aggfunc="count", fill_value=0).reset_index())
    verdicts = [v for v in VERDICT_ORDER if v in summary.columns]
    t = Table(title=(f"Antal kommuner per bedömning, senaste {years} åren" if sv
                     else f"Municipalities per verdict, last {years} years"))
    t.add_column("KPI", no_wrap=True, max_width=16, overflow="ellipsis")
    t.add_column("Titel" if sv else "Title", max_width=24, overflow="ellipsis", no_wrap=True)
    t.caption = ("bättre = förbättras, sämre = försämras (95 % KI utesluter 0), oklart = ingen tydlig "
                 "förändring, – = KPI utan riktning" if sv else
                 "better/worse = 95 % CI excludes 0 in the good/bad direction, unclear = no clear change, "
                 "– = KPI without direction")
    for v in verdicts:
        t.add_column(VERDICT_SHORT[lang][v], justify="right")
    for d in summary.to_dict("records"):
        t.add_row(d["kpi_id"], d["title"] or "", *[str(int(d.get(v, 0))) for v in verdicts])
    c.print(t)
    c.print(run_note, highlight=False)


def grants_cmd(
    db: DbOption = default_db(),
    municipality: Optional[str] = typer.Option(None, "--municipality", help="Uptake rows of one municipality."),
    not_applied: bool = typer.Option(False, "--not-applied", help="List the municipalities that did not apply in 2013."),
    refresh: RefreshOpt = False,
    as_json: JsonOpt = False,
    csv: CsvOpt = None,
    xlsx: XlsxOpt = None,
    lang: LangOpt = "sv",
) -> None:
    """Grant uptake 2011–2013 (frames, applications, awards) and the reconciliation with the report."""
    check_lang(lang)
    ensure_default(db, "grants", "grant_uptake", refresh)
    sv = lang == "sv"
    recon = read(db, 'SELECT "check", expected, actual, difference, note FROM grant_reconciliation')
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
            err.print(f"[red]Okänd kommunkod {municipality}[/red] (unknown municipality code)")
            raise typer.Exit(1)
        t = Table(title=f"Prestationsersättning {municipality}" if sv else f"Performance grants {municipality}")
        for col in (("Omgång", "Round"), ("Pott", "Pot"), ("Ram", "Frame"), ("Sökt", "Applied"),
                    ("Beviljat", "Granted"), ("Utnyttjande", "Uptake"), ("Underlag", "Data level")):
            t.add_column(col[0] if sv else col[1])
        for r in rows.itertuples():
            applied = "–" if na(r.applied) else (
                ("ja" if r.applied else "nej") if sv else ("yes" if r.applied else "no"))
            t.add_row(r.round, str(r.pot), kr(r.frame_sek, lang=lang), applied, kr(r.granted_sek, lang=lang),
                      percent(None if na(r.uptake_share) else 100 * r.uptake_share, 1, lang), r.data_level)
        c.print(t)
    t = Table(title="Avstämning mot Socialstyrelsens rapport (2014)" if sv else "Reconciliation with the 2014 report")
    for col in (("Kontroll", "Check"), ("Förväntat", "Expected"), ("Utfall", "Actual"),
                ("Skillnad", "Difference"), ("Not", "Note")):
        t.add_column(col[0] if sv else col[1], max_width=70 if col[0] == "Not" else None,
                     justify="right" if col[0] in ("Förväntat", "Utfall", "Skillnad") else "left")

    def fmt(x):
        if na(x):
            return "–"
        return number(x, 0 if abs(x) >= 100 or float(x).is_integer() else 4, lang)
    for r in recon.itertuples():
        t.add_row(r.check, fmt(r.expected), fmt(r.actual), fmt(r.difference), r.note)
    c.print(t)
    t = Table(title="Utnyttjande per storleksgrupp (beviljat / ram)" if sv else "Uptake by size group (granted / frame)")
    for col in (("Omgång", "Round"), ("Pott", "Pot"), ("Storleksgrupp", "Size group"), ("Kommuner", "Municipalities"),
                ("Sökte", "Applied"), ("Beviljade", "Granted"), ("Ram", "Frame"), ("Beviljat", "Granted SEK"),
                ("Utnyttjande", "Uptake")):
        t.add_column(col[0] if sv else col[1], justify="left" if col[0] in ("Omgång", "Storleksgrupp") else "right")
    for r in by_size.itertuples():
        share = None if na(r.uptake_share) else 100 * r.uptake_share
        t.add_row(r.round, str(r.pot), SIZES[lang].get(r.size_group, r.size_group or "–"), str(r.municipalities),
                  "–" if na(r.applied) else str(int(r.applied)),
                  "–" if na(r.granted) else str(int(r.granted)),
                  kr(r.frame_sek, lang=lang), kr(r.granted_sek, lang=lang), percent(share, 1, lang))
    c.print(t)
    c.print(("– = uppgift per kommun saknas (endast omgångens totalsumma finns för 2011–2012)" if sv else
             "– = no per-municipality data (only round totals exist for 2011–2012)"))
    c.print((f"Sökte inte 2013: {len(na_df)} kommuner (--not-applied listar dem)" if sv else
             f"Did not apply in 2013: {len(na_df)} municipalities (--not-applied lists them)"))
    if not_applied:
        t = Table(title="Kommuner som inte sökte 2013" if sv else "Municipalities that did not apply in 2013")
        for col in (("Kod", "Code"), ("Kommun", "Municipality"), ("Län", "County"), ("Storleksgrupp", "Size group"),
                    ("Ram pott 1", "Frame pot 1"), ("Ram pott 2", "Frame pot 2")):
            t.add_column(col[0] if sv else col[1])
        for r in na_df.itertuples():
            t.add_row(r.municipality_code, r.name, r.county_name or "", SIZES[lang].get(r.size_group, r.size_group or ""),
                      kr(r.frame_pot1_sek, lang=lang), kr(r.frame_pot2_sek, lang=lang))
        c.print(t)
    for r in stim.itertuples():
        c.print((f"Återbetalt stimulansbidrag (eget bidrag, ej prestationsersättning): {r.name} {r.grant_years}: "
                 f"erhållet {kr(r.received_total_sek)}, förbrukat {kr(r.spent_sek)}, återbetalt "
                 f"{kr(r.returned_sek)} ({percent(100 * r.returned_share, 1)}) den {r.returned_date:%Y-%m-%d}")
                if sv else
                (f"Returned stimulus grant (a separate grant): {r.name} {r.grant_years}: received "
                 f"{kr(r.received_total_sek, lang='en')}, spent {kr(r.spent_sek, lang='en')}, returned "
                 f"{kr(r.returned_sek, lang='en')} on {r.returned_date:%Y-%m-%d}"))
