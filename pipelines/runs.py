"""Run records: every pipeline run stores its configuration and a hash of it, so a result
can be traced to the exact parameters and repeated with one of them changed."""
from __future__ import annotations

import hashlib
import json
import uuid
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
CREATE OR REPLACE VIEW pipeline_runs AS SELECT * FROM pipeline_run;
"""


def config_hash(config: dict) -> str:
    """Stable short hash of a JSON-able config (key order does not matter)."""
    canonical = json.dumps(config, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def record_run(con, step: str, config: dict, year: int | None = None) -> tuple[str, str]:
    """Store a run record; returns (run_id, config_hash)."""
    con.execute(RUNS_DDL)
    run_id = uuid.uuid4().hex[:12]
    h = config_hash(config)
    con.execute(
        "INSERT INTO pipeline_run VALUES (?, ?, ?, ?, ?, ?)",
        [run_id, step, year, json.dumps(config, sort_keys=True, ensure_ascii=False), h,
         datetime.now(timezone.utc).replace(tzinfo=None)],
    )
    return run_id, h
