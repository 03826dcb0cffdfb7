"""`styrkort cost`, `styrkort associations`, `styrkort trends`, `styrkort grants`.

By default a command reads the marts `styrkort build` stored (read-only connection).
`--refresh` (and `trends --years N` with another N than stored) recomputes the step from the
warehouse's public views, stores it in one transaction and records the run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from styrkort.formats import kr as _kr_fmt, number, percent
from styrkort.paths import DbOption, default_db

console = Console()
err = Console(stderr=True)

SIZES = {"sv": {"small": "små", "medium": "medelstora", "large": "stora"},
         "en": {"small": "small", "medium": "medium", "large": "large"}}
LangOption = typer.Option("sv", "--lang", help="sv | en")
VERDICTS = {"sv": {}, "en": {"förbättras": "improving", "försämras": "worsening",
                             "ingen tydlig förändring": "no clear change", "ingen riktning": "no direction"}}


def _connect(db: Path, write: bool):
    from warehouse.db import connect

    if not Path(db).exists():
        raise typer.BadParameter(f"warehouse {db} does not exist; run `styrkort build` first",
                                 param_hint="--db")
    return connect(db, read_only=not write)


def _has(con, view: str) -> bool:
    from pipelines.core import relation_exists

    return relation_exists(con, view)


def _ensure(db: Path, view: str, refresh: bool, run) -> None:
    """Recompute the step (writing) when asked to or when its mart is missing."""
    con = _connect(db, write=False)
    try:
        missing = not _has(con, view)
    finally:
        con.close()
    if refresh or missing:
        con = _connect(db, write=True)
        try:
            run(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()


def _read(db: Path, sql: str, params: list | None = None):
    con = _connect(db, write=False)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def _na(x) -> bool:
    import pandas as pd

    return x is None or bool(pd.isna(x))


def kr(x, decimals: int = 0, lang: str = "sv") -> str:
    return _kr_fmt(None if _na(x) else x, decimals, lang)


def _jsonable(df) -> list[dict]:
    return json.loads(df.to_json(orient="records", force_ascii=False, date_format="iso"))


def _num(x, d=3, lang="sv"):
    """At least `d` decimals, more for small numbers so 4 significant digits show."""
    import math

    if _na(x):
        return number(None, lang=lang)
    if x != 0 and abs(x) < 1:
        d = min(8, max(d, 3 - int(math.floor(math.log10(abs(x))))))
    return number(x, d, lang)


def _p(x, lang="sv"):
    if _na(x):
        return number(None, lang=lang)
    return "< 0,001" if x < 0.001 and lang == "sv" else ("< 0.001" if x < 0.001 else number(x, 3, lang))


def register(app: typer.Typer) -> None:
    @app.command("cost")
    def cost_cmd(
        year: int = typer.Option(..., "--year", help="Year (Kolada N20014 exists 1998–2011 in the embedded data)."),
        db: DbOption = default_db(),
        top: int = typer.Option(10, help="Show the N highest and lowest deviations."),
        refresh: bool = typer.Option(False, help="Recompute the cost step and store it."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        lang: str = LangOption,
    ) -> None:
        """Cost deviation from standard cost (official Kolada N20016/N20900 or modelled) and the model."""
        from pipelines.cost import run_cost

        _ensure(db, "cost_deviation", refresh, run_cost)
        dev = _read(db, """SELECT c.*, m.name FROM cost_deviation c LEFT JOIN municipalities m
                            USING (municipality_code) WHERE year = ? ORDER BY deviation_pct DESC""", [year])
        model = _read(db, "SELECT * FROM cost_model WHERE year = ? ORDER BY term", [year])
        if dev.empty:
            years = _read(db, "SELECT DISTINCT year FROM cost_deviation ORDER BY 1")["year"].tolist()
            err.print(f"[red]Ingen kostnadsavvikelse för {year}[/red] (no cost deviation for {year}); "
                      f"år/years: {years[0] if years else '–'}–{years[-1] if years else '–'}")
            raise typer.Exit(1)
        if as_json:
            print(json.dumps({"year": year, "methods": dev["method"].value_counts().to_dict(),
                              "model": _jsonable(model.drop(columns=["config_hash"], errors="ignore")),
                              "deviation": _jsonable(dev.drop(columns=["config_hash"], errors="ignore"))},
                             ensure_ascii=False, indent=1))
            return
        sv = lang == "sv"
        methods = ", ".join(f"{k}: {v}" for k, v in dev["method"].value_counts().items())
        if not model.empty:
            m0 = model.iloc[0]
            t = Table(title=(f"Kostnadsmodell {year} (modellerad standardkostnad)" if sv else
                             f"Cost model {year} (modelled standard cost)"),
                      caption=f"{m0['formula']} · R² = {_num(m0['r_squared'], 3, lang)} · n = {int(m0['n'])}")
            for c in (("Term", "Term"), ("Koefficient", "Coefficient"), ("95 % KI", "95 % CI"), ("p", "p")):
                t.add_column(c[0] if sv else c[1], justify="left" if c[0] == "Term" else "right")
            for r in model.itertuples():
                t.add_row(r.term, _num(r.coef, 2, lang),
                          f"{_num(r.ci_low, 2, lang)} – {_num(r.ci_high, 2, lang)}", _p(r.p_value, lang))
            console.print(t)
        t = Table(title=(f"Avvikelse från standardkostnad {year}, högst och lägst {top} ({methods})" if sv else
                         f"Deviation from standard cost {year}, highest and lowest {top} ({methods})"),
                  caption="Källa: Kolada N20014; metod per rad (official = Kolada, modelled = modellerad)" if sv
                  else "Source: Kolada N20014; method per row (official = Kolada, modelled)")
        for c in (("Kommun", "Municipality"), ("Nettokostnad kr/inv", "Net cost SEK/inh."),
                  ("Standardkostnad", "Standard cost"), ("Avvikelse", "Deviation"), ("Metod", "Method")):
            t.add_column(c[0] if sv else c[1], justify="left" if c[0] in ("Kommun", "Metod") else "right")
        shown = dev.head(top) if len(dev) <= 2 * top else dev.iloc[list(range(top)) + list(range(len(dev) - top, len(dev)))]
        for i, r in enumerate(shown.itertuples()):
            if i == top and len(dev) > 2 * top:
                t.add_row("…", "", "", "", "")
            t.add_row(f"{r.name} ({r.municipality_code})", kr(r.net_cost, lang=lang), kr(r.standard_cost, lang=lang),
                      percent(r.deviation_pct, 1, lang), r.method if r.method == "official" else
                      ("modellerad" if sv else "modelled"))
        console.print(t)

    @app.command("associations")
    def associations_cmd(
        year: Optional[int] = typer.Option(None, "--year", help="Year; all years if left out."),
        db: DbOption = default_db(),
        refresh: bool = typer.Option(False, help="Recompute (after a new index or cost run) and store."),
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption,
    ) -> None:
        """Does quality relate to cost or structure? Correlations, OLS and ANOVA per year."""
        from pipelines.economy_associations import run_associations

        _ensure(db, "quality_associations", refresh, run_associations)
        where, params = ("WHERE year = ?", [year]) if year is not None else ("", [])
        df = _read(db, f"SELECT * FROM quality_associations {where} ORDER BY year, test", params)
        if as_json:
            print(json.dumps(_jsonable(df.drop(columns=["config_hash"], errors="ignore")), ensure_ascii=False, indent=1))
            return
        if df.empty:
            err.print("[red]Inga samband beräknade[/red] (no associations: is there a composite index for that year?)")
            raise typer.Exit(1)
        sv = lang == "sv"
        t = Table(title="Samband mellan kvalitet (sammanvägt index) och kostnad/struktur" if sv else
                  "Quality (composite index) vs cost and structure",
                  caption="Index: demodata där index bygger på demo-KPI:er · kostnad: modellerad där Kolada N20016/N20900 saknas"
                  if sv else "Index: demo data where it is built on demo KPIs · cost: modelled where Kolada N20016/N20900 are missing")
        for c in (("År", "Year"), ("Test", "Test"), ("Statistika", "Statistic"), ("Skattning", "Estimate"),
                  ("95 % KI", "95 % CI"), ("p", "p"), ("n", "n")):
            t.add_column(c[0] if sv else c[1], justify="left" if c[0] in ("Test", "Statistika") else "right",
                         no_wrap=c[0] in ("Test", "95 % KI"))
        for r in df.itertuples():
            ci = "–" if _na(r.ci_low) else f"{_num(r.ci_low, 3, lang)} – {_num(r.ci_high, 3, lang)}"
            t.add_row(str(r.year), r.test, r.statistic, _num(r.estimate, 3, lang), ci, _p(r.p_value, lang), str(r.n))
        console.print(t)

    @app.command("trends")
    def trends_cmd(
        years: int = typer.Option(5, "--years", help="Window: the KPI's last N years (at least 3)."),
        db: DbOption = default_db(),
        kpi: Optional[str] = typer.Option(None, "--kpi", help="Only this KPI id."),
        municipality: Optional[str] = typer.Option(None, "--municipality", help="Municipality code, e.g. 0180."),
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption,
    ) -> None:
        """Trend per KPI and municipality: OLS slope over the last N years with 95 % CI and verdict."""
        from pipelines.trends import MIN_POINTS, run_trends

        if years < MIN_POINTS:
            raise typer.BadParameter(f"must be at least {MIN_POINTS}", param_hint="--years")
        stored = None
        con = _connect(db, write=False)
        try:
            if _has(con, "trends"):
                row = con.execute("SELECT max(window_years) FROM trends").fetchall()
                stored = row[0][0] if row else None
        finally:
            con.close()
        _ensure(db, "trends", stored != years, lambda c: run_trends(c, years=years))
        cond, params = [], []
        if kpi:
            cond.append("t.kpi_id = ?"); params.append(kpi)
        if municipality:
            cond.append("t.municipality_code = ?"); params.append(municipality)
        where = ("WHERE " + " AND ".join(cond)) if cond else ""
        df = _read(db, f"""SELECT t.*, m.name, k.title FROM trends t
                           LEFT JOIN municipalities m USING (municipality_code)
                           LEFT JOIN kpis k USING (kpi_id) {where}
                           ORDER BY t.kpi_id, t.municipality_code""", params)
        if as_json:
            print(json.dumps(_jsonable(df.drop(columns=["config_hash"], errors="ignore")), ensure_ascii=False, indent=1))
            return
        if df.empty:
            err.print("[red]Inga trender för urvalet[/red] (no trends for this selection)")
            raise typer.Exit(1)
        sv = lang == "sv"
        if municipality or (kpi and len(df) <= 60):
            one = bool(municipality)
            where_txt = f" – {df['name'].iloc[0]} ({municipality})" if one else ""
            t = Table(title=(f"Trender, senaste {years} åren{where_txt}" if sv else
                             f"Trends, last {years} years{where_txt}"),
                      caption="Lutning per år, 95 % KI (OLS); (demo) = demodata" if sv
                      else "Slope per year, 95 % CI (OLS); (demo) = demo data")
            cols = [("KPI", "KPI")] + ([] if one else [("Kommun", "Municipality")]) + [
                ("År", "Years"), ("Lutning/år", "Slope/yr"), ("95 % KI", "95 % CI"), ("Bedömning", "Verdict")]
            for c in cols:
                t.add_column(c[0] if sv else c[1], no_wrap=c[0] in ("År", "Lutning/år"),
                             justify="right" if c[0] in ("Lutning/år", "95 % KI") else "left")
            for r in df.itertuples():
                demo = " (demo)" if r.is_demo else ""
                cells = [f"{r.kpi_id}{demo}"] + ([] if one else [f"{r.name} ({r.municipality_code})"]) + [
                    f"{r.first_year}–{r.last_year} (n={r.n_years})", _num(r.slope, 3, lang),
                    f"{_num(r.ci_low, 2, lang)} – {_num(r.ci_high, 2, lang)}", VERDICTS[lang].get(r.verdict, r.verdict)]
                t.add_row(*cells)
            console.print(t)
            return
        summary = (df.pivot_table(index=["kpi_id", "title"], columns="verdict", values="municipality_code",
                                  aggfunc="count", fill_value=0).reset_index())
        verdicts = [v for v in ("förbättras", "försämras", "ingen tydlig förändring", "ingen riktning")
                    if v in summary.columns]
        t = Table(title=(f"Antal kommuner per bedömning, senaste {years} åren" if sv
                         else f"Municipalities per verdict, last {years} years"))
        t.add_column("KPI", no_wrap=True, max_width=16, overflow="ellipsis")
        t.add_column("Titel" if sv else "Title", max_width=24, overflow="ellipsis", no_wrap=True)
        short = ({"förbättras": "bättre", "försämras": "sämre", "ingen tydlig förändring": "oklart",
                  "ingen riktning": "–"} if sv else
                 {"förbättras": "better", "försämras": "worse", "ingen tydlig förändring": "unclear",
                  "ingen riktning": "–"})
        t.caption = ("bättre = förbättras, sämre = försämras (95 % KI utesluter 0), oklart = ingen tydlig "
                     "förändring, – = KPI utan riktning" if sv else
                     "better/worse = 95 % CI excludes 0 in the good/bad direction, unclear = no clear change, "
                     "– = KPI without direction")
        for v in verdicts:
            t.add_column(short[v], justify="right")
        for d in summary.to_dict("records"):
            t.add_row(d["kpi_id"], d["title"] or "", *[str(int(d.get(v, 0))) for v in verdicts])
        console.print(t)

    @app.command("grants")
    def grants_cmd(
        db: DbOption = default_db(),
        municipality: Optional[str] = typer.Option(None, "--municipality", help="Uptake rows of one municipality."),
        not_applied: bool = typer.Option(False, "--not-applied", help="List the municipalities that did not apply in 2013."),
        refresh: bool = typer.Option(False, help="Recompute the grant step and store it."),
        as_json: bool = typer.Option(False, "--json"),
        lang: str = LangOption,
    ) -> None:
        """Grant uptake 2011–2013 (frames, applications, awards) and the reconciliation with the report."""
        from pipelines.grants import run_grants

        _ensure(db, "grant_uptake", refresh, run_grants)
        sv = lang == "sv"
        recon = _read(db, 'SELECT "check", expected, actual, difference, note FROM grant_reconciliation')
        by_size = _read(db, "SELECT * FROM grant_uptake_by_size_group ORDER BY round, pot, size_group")
        na = _read(db, "SELECT * FROM grant_not_applied_2013 ORDER BY municipality_code")
        stim = _read(db, "SELECT * FROM stimulus_returns")
        rows = None
        if municipality:
            rows = _read(db, "SELECT * FROM grant_uptake WHERE municipality_code = ? ORDER BY round, pot", [municipality])
        if as_json:
            doc = {"reconciliation": _jsonable(recon), "by_size_group": _jsonable(by_size.drop(columns=["config_hash"])),
                   "not_applied_2013": _jsonable(na.drop(columns=["config_hash"])),
                   "stimulus_returns": _jsonable(stim.drop(columns=["config_hash"]))}
            if rows is not None:
                doc["uptake"] = _jsonable(rows.drop(columns=["config_hash"]))
            print(json.dumps(doc, ensure_ascii=False, indent=1))
            return
        if rows is not None:
            if rows.empty:
                err.print(f"[red]Okänd kommunkod {municipality}[/red] (unknown municipality code)")
                raise typer.Exit(1)
            t = Table(title=f"Prestationsersättning {municipality}" if sv else f"Performance grants {municipality}")
            for c in (("Omgång", "Round"), ("Pott", "Pot"), ("Ram", "Frame"), ("Sökt", "Applied"),
                      ("Beviljat", "Granted"), ("Utnyttjande", "Uptake"), ("Underlag", "Data level")):
                t.add_column(c[0] if sv else c[1])
            for r in rows.itertuples():
                applied = "–" if _na(r.applied) else (
                    ("ja" if r.applied else "nej") if sv else ("yes" if r.applied else "no"))
                t.add_row(r.round, str(r.pot), kr(r.frame_sek, lang=lang), applied, kr(r.granted_sek, lang=lang),
                          percent(None if _na(r.uptake_share) else 100 * r.uptake_share, 1, lang), r.data_level)
            console.print(t)
        t = Table(title="Avstämning mot Socialstyrelsens rapport (2014)" if sv else "Reconciliation with the 2014 report")
        for c in (("Kontroll", "Check"), ("Förväntat", "Expected"), ("Utfall", "Actual"),
                  ("Skillnad", "Difference"), ("Not", "Note")):
            t.add_column(c[0] if sv else c[1], max_width=70 if c[0] == "Not" else None,
                         justify="right" if c[0] in ("Förväntat", "Utfall", "Skillnad") else "left")
        def fmt(x):
            if _na(x):
                return "–"
            return number(x, 0 if abs(x) >= 100 or float(x).is_integer() else 4, lang)
        for r in recon.itertuples():
            t.add_row(r.check, fmt(r.expected), fmt(r.actual), fmt(r.difference), r.note)
        console.print(t)
        t = Table(title="Utnyttjande per storleksgrupp (beviljat / ram)" if sv else "Uptake by size group (granted / frame)")
        for c in (("Omgång", "Round"), ("Pott", "Pot"), ("Storleksgrupp", "Size group"), ("Kommuner", "Municipalities"),
                  ("Sökte", "Applied"), ("Beviljade", "Granted"), ("Ram", "Frame"), ("Beviljat", "Granted SEK"),
                  ("Utnyttjande", "Uptake")):
            t.add_column(c[0] if sv else c[1], justify="left" if c[0] in ("Omgång", "Storleksgrupp") else "right")
        for r in by_size.itertuples():
            share = None if _na(r.uptake_share) else 100 * r.uptake_share
            t.add_row(r.round, str(r.pot), SIZES[lang].get(r.size_group, r.size_group), str(r.municipalities),
                      "–" if _na(r.applied) else str(int(r.applied)),
                      "–" if _na(r.granted) else str(int(r.granted)),
                      kr(r.frame_sek, lang=lang), kr(r.granted_sek, lang=lang), percent(share, 1, lang))
        console.print(t)
        console.print(("– = uppgift per kommun saknas (endast omgångens totalsumma finns för 2011–2012)" if sv else
                       "– = no per-municipality data (only round totals exist for 2011–2012)"))
        console.print((f"Sökte inte 2013: {len(na)} kommuner (--not-applied listar dem)" if sv else
                       f"Did not apply in 2013: {len(na)} municipalities (--not-applied lists them)"))
        if not_applied:
            t = Table(title="Kommuner som inte sökte 2013" if sv else "Municipalities that did not apply in 2013")
            for c in (("Kod", "Code"), ("Kommun", "Municipality"), ("Län", "County"), ("Storleksgrupp", "Size group"),
                      ("Ram pott 1", "Frame pot 1"), ("Ram pott 2", "Frame pot 2")):
                t.add_column(c[0] if sv else c[1])
            for r in na.itertuples():
                t.add_row(r.municipality_code, r.name, r.county_name or "", SIZES[lang].get(r.size_group, r.size_group or ""),
                          kr(r.frame_pot1_sek, lang=lang), kr(r.frame_pot2_sek, lang=lang))
            console.print(t)
        for r in stim.itertuples():
            console.print((f"Återbetalt stimulansbidrag (eget bidrag, ej prestationsersättning): {r.name} {r.grant_years}: "
                           f"erhållet {kr(r.received_total_sek)}, förbrukat {kr(r.spent_sek)}, återbetalt "
                           f"{kr(r.returned_sek)} ({percent(100 * r.returned_share, 1)}) den {r.returned_date:%Y-%m-%d}")
                          if sv else
                          (f"Returned stimulus grant (a separate grant): {r.name} {r.grant_years}: received "
                           f"{kr(r.received_total_sek, lang='en')}, spent {kr(r.spent_sek, lang='en')}, returned "
                           f"{kr(r.returned_sek, lang='en')} on {r.returned_date:%Y-%m-%d}"))
