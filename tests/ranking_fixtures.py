"""Small hand-made and synthetic warehouses for the ranking tests and benchmark.

They go through warehouse.db.apply_schema and the stored tables, so the pipeline reads them
through the same public views as the real warehouse."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from pipelines.ranking.config import IndexConfig, load_config
from warehouse.value_source import insert_kpi_values


def tiny_warehouse(con, municipalities: Iterable[tuple], kpis: Iterable[tuple],
                   values: Iterable[tuple], years: Iterable[int] | None = None) -> None:
    """municipalities: (code, name, county_code, population[, skl_group_2005]);
    kpis: (kpi_id, higher_is_better[, is_demo]); values: (kpi_id, code, year, value).
    Population rows are written for every year in `years` (default: the years in values)."""
    from warehouse.db import apply_schema

    apply_schema(con)
    values = list(values)
    years = sorted(set(years if years is not None else (v[2] for v in values)))
    for m in municipalities:
        code, name, county, pop = m[:4]
        group = m[4] if len(m) > 4 else None
        con.execute("INSERT INTO municipality VALUES (?, ?, ?, ?, ?)",
                    [code, name, county, f"Län {county}", group])
        for y in years:
            con.execute("INSERT INTO population VALUES (?, ?, ?, 'test')", [code, y, pop])
    for k in kpis:
        kpi_id, hib = k[:2]
        is_demo = k[2] if len(k) > 2 else True
        con.execute("INSERT INTO kpi (kpi_id, title, higher_is_better, source, is_demo) "
                    "VALUES (?, ?, ?, 'test', ?)", [kpi_id, kpi_id, hib, is_demo])
    if values:
        df = pd.DataFrame(values, columns=["kpi_id", "municipality_code", "year", "value"])
        insert_kpi_values(con, df.assign(gender="T", source="test", is_demo=True))


def synthetic_warehouse(con, n: int = 290, years: Iterable[int] = range(2007, 2014),
                        config: IndexConfig | None = None, seed: int = 1,
                        incomplete: Iterable[str] = ("DEMO_VANTETID_SB", "DEMO_PERSKONT_HT")) -> None:
    """n municipalities in 21 counties with a spread of sizes, the config's KPIs with random
    values for every year; KPIs in `incomplete` miss about 10 % of the municipalities."""
    config = config or load_config()
    rng = np.random.default_rng(seed)
    years = list(years)
    codes = [f"{i:04d}" for i in range(101, 101 + n)]
    pops = np.round(np.exp(rng.uniform(np.log(2500), np.log(800000), n))).astype(int)
    munis = [(c, f"Kommun {c}", f"{i % 21 + 1:02d}", int(pops[i])) for i, c in enumerate(codes)]
    hib = {k: (i % 4 != 0) for i, k in enumerate(config.kpi_ids)}
    kpis = [(k, hib[k], True) for k in config.kpi_ids]
    rows = []
    incomplete = set(incomplete)
    for y in years:
        for k in config.kpi_ids:
            vals = rng.normal(50, 10, n)
            for c, v in zip(codes, vals):
                if k in incomplete and rng.random() < 0.1:
                    continue
                rows.append((k, c, y, float(v)))
    tiny_warehouse(con, munis, kpis, rows, years)
