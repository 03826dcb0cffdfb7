"""Demo targets for the embedded default (warehouse/demo_targets.csv): a few committee targets
for Göteborg (1480), Ödeshög (0509) and Stockholm (0180), so the scorecard and the nämndrapport
show target fulfilment out of the box, and for three of their demo units (rows with a unit_id,
on the demo unit KPIs of 2013), so /enhet/<unit_id> shows a unit against its targets. Only demo
KPIs get demo targets, so a real (Kolada) figure never carries a DEMO label because of an
invented target. The file is fixed (no random numbers): the same build gives the same targets.
Invented, flagged is_demo and labelled "demo" wherever they are shown; a user's own
`styrkort import targets` for the same key replaces them."""
from __future__ import annotations

import csv
import hashlib
from pathlib import Path

DEMO_TARGETS_CSV = Path(__file__).resolve().parent / "demo_targets.csv"
DEMO_TARGET_SOURCE = "DEMO – påhittade mål (styrkort), ej verkliga beslut"


def read_demo_targets(path: Path = DEMO_TARGETS_CSV) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["year"] = int(r["year"])
        r["target"] = float(r["target"])
        r["tolerance"] = float(r["tolerance"]) if r["tolerance"] else None
        r["unit_id"] = r["unit_id"] or None
    return rows


def load_demo_targets(con, path: Path = DEMO_TARGETS_CSV) -> int:
    """Insert the demo targets (is_demo = true) and their dataset row; returns how many."""
    from warehouse.loaders import build_timestamp

    rows = read_demo_targets(path)
    con.executemany(
        "INSERT INTO target (municipality_code, kpi_id, year, unit_id, target, tolerance, decided_by, comment, "
        "source, is_demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true)",
        [(r["municipality_code"], r["kpi_id"], r["year"], r["unit_id"], r["target"], r["tolerance"],
          r["decided_by"] or None, r["comment"] or None, DEMO_TARGET_SOURCE) for r in rows])
    con.execute(
        "INSERT OR REPLACE INTO dataset VALUES (?, ?, ?, ?, ?, ?, true)",
        ["demo_mal", f"DEMO: {len(rows)} påhittade mål för Göteborg, Ödeshög och Stockholm, "
                    f"{sum(1 for r in rows if r['unit_id'])} av dem för enheter (ej verkliga beslut)",
         DEMO_TARGET_SOURCE, "warehouse/demo_targets.csv", hashlib.sha256(path.read_bytes()).hexdigest(),
         build_timestamp()])
    return len(rows)
