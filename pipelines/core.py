"""Shared helpers of every pipeline: reading the SQL models, one transaction per step, and
writing marts. Imports nothing from the rest of `pipelines`, so every module may import it."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"


def read_sql(name: str) -> str:
    """Text of the SQL model `pipelines/sql/<name>`."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def relation_exists(con, name: str) -> bool:
    """True if a table or view called `name` exists in the main schema."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal", [name]
    ).fetchall()[0]
    if row[0]:
        return True
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0]
    return bool(row[0])


@contextmanager
def transaction(con):
    """One transaction for a step's writes, so a mart is replaced whole or not at all.
    If the caller already holds a transaction, join it instead of nesting."""
    try:
        con.execute("BEGIN TRANSACTION")
    except Exception:  # already inside a transaction: the caller commits
        yield
        return
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def write_mart(con, view: str, ddl_columns: str, df: pd.DataFrame, order_by: str | None = None) -> None:
    """Replace table mart_<view> (typed by `ddl_columns`, so it exists even when empty) with
    the rows of df, and (re)create the public view `view` over it."""
    table = f"mart_{view}"
    sql_cols = [c.strip().split()[0] for c in split_columns(ddl_columns)]  # may be quoted: "check"
    cols = [c.strip('"') for c in sql_cols]
    con.execute(f"CREATE OR REPLACE TABLE {table} ({ddl_columns})")
    if len(df):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{table}: data frame lacks columns {missing}")
        con.register("_mart_df", df[cols])
        try:
            order = f" ORDER BY {order_by}" if order_by else ""
            con.execute(f"INSERT INTO {table} SELECT {', '.join(sql_cols)} FROM _mart_df{order}")
        finally:
            con.unregister("_mart_df")
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {table}")


def split_columns(ddl: str) -> list[str]:
    """Split a column list on top-level commas (types like DECIMAL(10,2) stay whole)."""
    parts, depth, cur = [], 0, []
    for ch in ddl:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur))
    return [p for p in (p.strip() for p in parts) if p]
