"""Run records: every pipeline run stores its configuration and a hash of it, so a result
can be traced to the exact parameters and repeated (`styrkort rerun RUN_ID`).

Which run is the default — the one whose rows the public views (and so the dashboard) show:
for each step and year (NULL for all-years steps) one run is marked `is_default`. A new run is
the default when it is asked to be (`make_default`, e.g. `--make-default` on the CLI, or
`styrkort build` / `refresh`), or when its configuration equals the current default's; when the
step has no default yet, when it equals the step's shipped configuration. So a run with other
parameters never changes what the dashboard shows unless asked to.

Re-running a configuration replaces that configuration's rows: the earlier run's record stays
(history), with `replaced_by` naming the run that now holds its rows.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS pipeline_run (
    run_id      VARCHAR PRIMARY KEY,
    step        VARCHAR NOT NULL,
    year        INTEGER,
    config_json VARCHAR NOT NULL,
    config_hash VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL
);
ALTER TABLE pipeline_run ADD COLUMN IF NOT EXISTS is_default BOOLEAN DEFAULT false;
ALTER TABLE pipeline_run ADD COLUMN IF NOT EXISTS replaced_by VARCHAR;
CREATE OR REPLACE VIEW pipeline_runs AS
SELECT run_id, step, year, config_json, config_hash, started_at,
       coalesce(is_default, false) AS is_default, replaced_by,
       replaced_by IS NULL AS is_stored
FROM pipeline_run;
"""


def config_hash(config: dict) -> str:
    """Stable short hash of a JSON-able config (key order does not matter). The record keeps
    the config's own key order (config_json), so a rerun sees it as it was given."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Run:
    """One recorded run: what the mart helpers key rows by."""
    run_id: str
    step: str
    year: int | None
    config: dict
    config_hash: str
    is_default: bool
    started_at: datetime


def ensure_runs(con) -> None:
    con.execute(RUNS_DDL)


def _has_defaults(con) -> bool:
    """pipeline_run exists with the is_default column (read-only check)."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = 'pipeline_run' AND column_name = 'is_default'").fetchall()[0][0])


def default_run(con, step: str, year: int | None = None) -> dict | None:
    """The current default run of a step (and year) as a dict with its parsed config, or None.
    Read-only."""
    if not _has_defaults(con):
        return None
    rows = con.execute(
        """SELECT run_id, config_json, config_hash, started_at FROM pipeline_run
           WHERE step = ? AND year IS NOT DISTINCT FROM ? AND is_default AND replaced_by IS NULL
           ORDER BY started_at DESC LIMIT 1""", [step, year]).fetchall()
    if not rows:
        return None
    run_id, cfg, h, started = rows[0]
    return {"run_id": run_id, "config": json.loads(cfg), "config_hash": h, "started_at": started}


def default_config(con, step: str, shipped: dict, year: int | None = None) -> dict:
    """The configuration of the step's current default run, else the shipped one."""
    current = default_run(con, step, year)
    return current["config"] if current else shipped


def start_run(con, step: str, config: dict, *, shipped: dict, year: int | None = None,
              make_default: bool = False) -> Run:
    """Record a run and decide whether it is the default (see the module docstring). Call it
    inside the step's transaction, before the step writes its rows."""
    ensure_runs(con)
    h = config_hash(config)
    current = default_run(con, step, year)
    is_default = bool(make_default) or h == (current["config_hash"] if current else config_hash(shipped))
    run_id = uuid.uuid4().hex[:12]
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    same_year = "step = ? AND year IS NOT DISTINCT FROM ?"
    con.execute(f"UPDATE pipeline_run SET replaced_by = ?, is_default = false "
                f"WHERE {same_year} AND config_hash = ? AND replaced_by IS NULL", [run_id, step, year, h])
    if is_default:
        con.execute(f"UPDATE pipeline_run SET is_default = false WHERE {same_year} AND is_default",
                    [step, year])
    con.execute(
        "INSERT INTO pipeline_run (run_id, step, year, config_json, config_hash, started_at, is_default) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, step, year, json.dumps(config, ensure_ascii=False), h, started, is_default])
    return Run(run_id, step, year, config, h, is_default, started)


def get_run(con, run_id: str) -> dict | None:
    """A run record by id (or unique id prefix) as a dict; None if unknown (read-only)."""
    rows = con.execute(
        """SELECT run_id, step, year, config_json, config_hash, started_at,
                  coalesce(is_default, false), replaced_by
           FROM pipeline_run WHERE starts_with(run_id, ?) ORDER BY run_id""", [run_id]).fetchall()
    exact = [r for r in rows if r[0] == run_id]
    rows = exact or rows
    if len(rows) != 1:
        return None
    r = rows[0]
    return {"run_id": r[0], "step": r[1], "year": r[2], "config": json.loads(r[3]), "config_hash": r[4],
            "started_at": r[5], "is_default": r[6], "replaced_by": r[7]}


def holder_of_rows(con, run_id: str) -> str:
    """The run whose rows stand for `run_id` now: itself, or the last run that replaced it."""
    seen = set()
    while run_id not in seen:
        seen.add(run_id)
        row = con.execute("SELECT replaced_by FROM pipeline_run WHERE run_id = ?", [run_id]).fetchall()
        if not row or row[0][0] is None:
            return run_id
        run_id = row[0][0]
    return run_id


def record_run(con, step: str, config: dict, year: int | None = None) -> tuple[str, str]:
    """Older API: record a run that is made the default at once; returns (run_id, config_hash).
    New steps use start_run (the run's default status follows the mart contract) and
    pipelines.core.store_rows."""
    run = start_run(con, step, config, shipped=config, year=year, make_default=True)
    return run.run_id, run.config_hash
