"""Shared helpers of every pipeline: reading the SQL models, one transaction per step, and
writing marts. Imports nothing from the rest of `pipelines`, so every module may import it."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"


def read_sql(name: str) -> str:
    """Text of the SQL model `pipelines/sql/<name>`."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


ALL_YEARS = ("SELECT DISTINCT year FROM kpi_values WHERE gender = 'T' AND value IS NOT NULL "
             "UNION SELECT DISTINCT year FROM municipality_years")


def size_groups_sql(year: int | None = None) -> str:
    """The one size-group rule (pipelines/sql/size_groups.sql) as a query over the public views:
    municipality_code, year, size_group, size_group_year — for one year, or for every year with
    a KPI value or a population figure."""
    years = ALL_YEARS if year is None else f"SELECT {int(year)} AS year"
    return read_sql("size_groups.sql").replace("{years}", years)


def relation_exists(con, name: str) -> bool:
    """True if a table or view called `name` exists in the main schema."""
    row = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal", [name]
    ).fetchall()[0]
    if row[0]:
        return True
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0]
    return bool(row[0])


def in_transaction(con) -> bool:
    """True while `con` is inside an explicit transaction. DuckDB has no API for it and a nested
    BEGIN aborts the outer transaction, so probe: outside a transaction every statement is its
    own transaction (txid_current() moves on); inside, two statements share one id."""
    first = con.execute("SELECT txid_current()").fetchall()[0][0]
    return con.execute("SELECT txid_current()").fetchall()[0][0] == first


@contextmanager
def transaction(con):
    """One transaction for a step's writes, so a mart is replaced whole or not at all.
    If the caller already holds a transaction, join it instead of nesting."""
    if in_transaction(con):   # the caller commits or rolls back
        yield
        return
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def write_mart(con, view: str, ddl_columns: str, df: pd.DataFrame, order_by: str | None = None) -> None:
    """Older API (an undeclared mart, replaced whole on every run): replace table mart_<view>
    (typed by `ddl_columns`) with the rows of df and (re)create the view `view` over it. New
    marts are declared in pipelines/marts/<view>.toml and stored with store_rows / store_query,
    which keep every run (the mart contract); tests/test_mart_contract.py requires a declaration
    for every mart_* table of the built warehouse."""
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


# --- the mart contract ---------------------------------------------------------------------------
#
# Every mart is declared in pipelines/marts/<name>.toml (columns, types, meaning, tests) and
# stored as table mart_<name> holding the rows of every run, keyed by the run's config_hash (and
# the declaration's `scope`, e.g. year), with run_id and is_default on every row. Two views:
#   <name>      the default rows only (what the dashboard, the PDF and other pipelines read)
#   <name>_all  every stored run (what the CLI shows for a non-default run, and `styrkort runs`)
# A run replaces the rows of its own config_hash (and scope); other configurations' rows stay.

MARTS_DIR = Path(__file__).resolve().parent / "marts"
CONTRACT_COLUMNS = (
    ("run_id", "VARCHAR", "Run that wrote the row (pipeline_runs.run_id; the full configuration is there)."),
    ("config_hash", "VARCHAR", "Hash of the run's configuration: rows of one configuration are replaced together."),
    ("is_default", "BOOLEAN", "True for the default run's rows (shown by the public view and the dashboard)."),
)
TYPES = ("VARCHAR", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP",
         "VARCHAR[]", "INTEGER[]", "DOUBLE[]")


class DeclarationError(ValueError):
    """A mart declaration file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    not_null: bool = False
    accepted_values: tuple = ()
    min: float | None = None
    max: float | None = None
    relationship: str | None = None    # "view.column": every value occurs there
    volatile: bool = False             # differs between identical runs (ids, timestamps)
    contract: bool = False             # one of CONTRACT_COLUMNS


@dataclass(frozen=True)
class Declaration:
    name: str
    step: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]               # unique within one run
    scope: tuple[str, ...] = ()        # with config_hash: the rows one run replaces
    order_by: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()        # public views the step reads for this mart
    pages: tuple[str, ...] = ()        # who shows it
    path: str = ""

    @property
    def table(self) -> str:
        return f"mart_{self.name}"

    @property
    def all_view(self) -> str:
        return f"{self.name}_all"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        return ", ".join(f'{_q(c.name)} {c.type}' for c in self.columns)


def _q(name: str) -> str:
    return f'"{name}"'


def _tuple(value, what: str, path: str) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DeclarationError(f"{path}: {what} must be a list of strings")
    return tuple(value)


def parse_declaration(data: dict, path: str = "<dict>") -> Declaration:
    """Validate a parsed declaration (pure)."""
    known = {"name", "step", "description", "columns", "key", "scope", "order_by", "reads", "pages"}
    unknown = set(data) - known
    if unknown:
        raise DeclarationError(f"{path}: unknown key(s) {sorted(unknown)}")
    for req in ("name", "step", "description", "columns", "key"):
        if req not in data:
            raise DeclarationError(f"{path}: missing '{req}'")
    cols: list[Column] = []
    col_keys = {"name", "type", "description", "not_null", "accepted_values", "min", "max",
                "relationship", "volatile"}
    for i, c in enumerate(data["columns"]):
        extra = set(c) - col_keys
        if extra:
            raise DeclarationError(f"{path}: columns[{i}]: unknown key(s) {sorted(extra)}")
        if c.get("type") not in TYPES:
            raise DeclarationError(f"{path}: column {c.get('name')!r}: type {c.get('type')!r} is not one of {TYPES}")
        if not c.get("description"):
            raise DeclarationError(f"{path}: column {c.get('name')!r}: give a description (its meaning)")
        cols.append(Column(c["name"], c["type"], c["description"], bool(c.get("not_null", False)),
                           tuple(c.get("accepted_values", ())), c.get("min"), c.get("max"),
                           c.get("relationship"), bool(c.get("volatile", False))))
    names = [c.name for c in cols]
    for name, _, _ in CONTRACT_COLUMNS:
        if name in names:
            raise DeclarationError(f"{path}: column {name!r} is added by the mart contract; do not declare it")
    cols += [Column(n, t, d, not_null=True, volatile=(n in ("run_id", "is_default")), contract=True)
             for n, t, d in CONTRACT_COLUMNS]
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        raise DeclarationError(f"{path}: duplicate column names")
    decl = Declaration(
        name=data["name"], step=data["step"], description=data["description"], columns=tuple(cols),
        key=_tuple(data["key"], "key", path), scope=_tuple(data.get("scope"), "scope", path),
        order_by=_tuple(data.get("order_by"), "order_by", path), reads=_tuple(data.get("reads"), "reads", path),
        pages=_tuple(data.get("pages"), "pages", path), path=path)
    for what in ("key", "scope", "order_by"):
        bad = [k for k in getattr(decl, what) if k not in names]
        if bad:
            raise DeclarationError(f"{path}: {what} names unknown column(s) {bad}")
    return decl


_DECLARATIONS: dict[str, Declaration] = {}


def declarations() -> dict[str, Declaration]:
    """Every mart declaration (pipelines/marts/*.toml), by mart name."""
    if not _DECLARATIONS:
        import tomllib

        for path in sorted(MARTS_DIR.glob("*.toml")):
            rel = f"pipelines/marts/{path.name}"
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise DeclarationError(f"{rel}: invalid TOML: {e}") from None
            decl = parse_declaration(data, rel)
            if decl.name != path.stem:
                raise DeclarationError(f"{rel}: name {decl.name!r} differs from the file name")
            _DECLARATIONS[decl.name] = decl
    return dict(_DECLARATIONS)


def declaration(name: str) -> Declaration:
    try:
        return declarations()[name]
    except KeyError:
        raise DeclarationError(f"no declaration pipelines/marts/{name}.toml") from None


def marts_of_step(step: str) -> list[Declaration]:
    return [d for d in declarations().values() if d.step == step]


def _table_columns(con, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def ensure_mart(con, name: str) -> Declaration:
    """Create mart_<name> from its declaration if missing, and its two views. A table of another
    shape (a warehouse built by an older version) is rebuilt empty: its rows cannot be kept."""
    decl = declaration(name)
    have = _table_columns(con, decl.table)
    want = [(c.name, c.type) for c in decl.columns]
    if have != want:
        if have:
            for view in (decl.name, decl.all_view):
                if relation_exists(con, view):
                    kind = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
                                       [view]).fetchall()[0][0]
                    con.execute(f"DROP {'VIEW' if kind else 'TABLE'} IF EXISTS {view}")
            con.execute(f"DROP TABLE {decl.table}")
        con.execute(f"CREATE TABLE {decl.table} ({decl.ddl()})")
    cols = ", ".join(_q(c) for c in decl.column_names)
    con.execute(f"CREATE OR REPLACE VIEW {decl.name} AS SELECT {cols} FROM {decl.table} WHERE is_default")
    con.execute(f"CREATE OR REPLACE VIEW {decl.all_view} AS SELECT {cols} FROM {decl.table}")
    return decl


def _clear_for_run(con, name: str, run, scope: dict):
    """The contract's first half of storing a run: delete the rows of the same config_hash (and
    scope), and un-mark the other configurations' rows when this run becomes the default."""
    decl = ensure_mart(con, name)
    if set(scope) != set(decl.scope):
        raise ValueError(f"{decl.table}: scope must be {list(decl.scope)}, got {sorted(scope)}")
    cond = " AND ".join([f"{_q(k)} = ?" for k in decl.scope]) or "true"
    svals = [scope[k] for k in decl.scope]
    con.execute(f"DELETE FROM {decl.table} WHERE config_hash = ? AND {cond}", [run.config_hash, *svals])
    if run.is_default:
        con.execute(f"UPDATE {decl.table} SET is_default = false WHERE is_default AND {cond}", svals)
    return decl


def store_rows(con, name: str, df: pd.DataFrame, run, **scope) -> int:
    """Store one run's rows in mart_<name> following the contract: delete the rows of the same
    config_hash (and scope, e.g. year=2009), un-mark other configurations' rows if this run is
    the default, insert df with run_id / config_hash / is_default. `run` has run_id,
    config_hash and is_default (pipelines.runs.Run). Returns the number of rows stored.
    Call it inside the step's transaction."""
    decl = _clear_for_run(con, name, run, scope)
    if not len(df):
        return 0
    data = df.copy()
    for k, v in scope.items():
        if k not in data.columns:
            data[k] = v
    data["run_id"], data["config_hash"], data["is_default"] = run.run_id, run.config_hash, bool(run.is_default)
    missing = [c for c in decl.column_names if c not in data.columns]
    if missing:
        raise ValueError(f"{decl.table}: data frame lacks declared columns {missing}")
    con.register("_mart_rows", data[decl.column_names])
    try:
        order = f" ORDER BY {', '.join(_q(c) for c in decl.order_by)}" if decl.order_by else ""
        cols = ", ".join(_q(c) for c in decl.column_names)
        con.execute(f"INSERT INTO {decl.table} ({cols}) SELECT {cols} FROM _mart_rows{order}")
    finally:
        con.unregister("_mart_rows")
    return len(data)


def store_query(con, name: str, sql: str, params: dict | list | None, run, **scope) -> None:
    """Like store_rows for rows computed in SQL: `sql` yields the declared columns except the
    contract ones (and scope columns it lacks are filled in)."""
    decl = _clear_for_run(con, name, run, scope)
    extra = {"run_id": run.run_id, "config_hash": run.config_hash, "is_default": bool(run.is_default), **scope}
    select = ", ".join(
        f"{_sql_literal(extra[c])} AS {_q(c)}" if c in extra else _q(c) for c in decl.column_names)
    order = f" ORDER BY {', '.join(_q(c) for c in decl.order_by)}" if decl.order_by else ""
    cols = ", ".join(_q(c) for c in decl.column_names)
    con.execute(f"INSERT INTO {decl.table} ({cols}) SELECT {select} FROM ({sql}) AS _q{order}", params)


def _sql_literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


# --- checking a mart against its declaration (the tests, and `styrkort marts check`) --------------

def check_mart(con, name: str) -> list[str]:
    """Problems of the stored mart against its declaration, as readable lines ([] = all pass):
    columns and types exactly as declared, the key unique per run and in the public view,
    not_null, accepted_values, min/max and relationships."""
    decl = declaration(name)
    problems: list[str] = []
    have = _table_columns(con, decl.table)
    want = [(c.name, c.type) for c in decl.columns]
    if have != want:
        return [f"{decl.table}: columns {have} differ from the declaration {want}"]
    for view in (decl.name, decl.all_view):
        if not relation_exists(con, view):
            problems.append(f"{view}: view missing")
    if problems:
        return problems
    t = decl.table

    def count(sql: str, params=None) -> int:
        return int(con.execute(sql, params or []).fetchall()[0][0])

    key = ", ".join(_q(k) for k in decl.key)
    if decl.key:
        n = count(f"SELECT count(*) FROM (SELECT run_id, {key} FROM {t} GROUP BY ALL HAVING count(*) > 1)")
        if n:
            problems.append(f"{t}: {n} duplicate keys ({', '.join(decl.key)}) within a run")
        scope_key = ", ".join(_q(k) for k in dict.fromkeys((*decl.scope, *decl.key)))
        n = count(f"SELECT count(*) FROM (SELECT {scope_key} FROM {decl.name} GROUP BY ALL HAVING count(*) > 1)")
        if n:
            problems.append(f"{decl.name}: {n} duplicate keys in the default rows (two default runs?)")
    n = count(f"SELECT count(*) FROM (SELECT {', '.join(_q(k) for k in decl.scope) or '1'}, "
              f"count(DISTINCT run_id) AS n FROM {decl.name} GROUP BY ALL HAVING n > 1)")
    if n:
        problems.append(f"{decl.name}: {n} scopes with rows of more than one default run")
    for c in decl.columns:
        col = _q(c.name)
        if c.not_null:
            n = count(f"SELECT count(*) FROM {t} WHERE {col} IS NULL")
            if n:
                problems.append(f"{t}.{c.name}: {n} NULL values (declared not_null)")
        if c.accepted_values:
            n = count(f"SELECT count(*) FROM {t} WHERE {col} IS NOT NULL AND NOT list_contains(?, {col})",
                      [list(c.accepted_values)])
            if n:
                bad = [r[0] for r in con.execute(
                    f"SELECT DISTINCT {col} FROM {t} WHERE {col} IS NOT NULL AND NOT list_contains(?, {col}) LIMIT 5",
                    [list(c.accepted_values)]).fetchall()]
                problems.append(f"{t}.{c.name}: {n} values outside {list(c.accepted_values)}, e.g. {bad}")
        if c.min is not None:
            n = count(f"SELECT count(*) FROM {t} WHERE {col} < ?", [c.min])
            if n:
                problems.append(f"{t}.{c.name}: {n} values below {c.min}")
        if c.max is not None:
            n = count(f"SELECT count(*) FROM {t} WHERE {col} > ?", [c.max])
            if n:
                problems.append(f"{t}.{c.name}: {n} values above {c.max}")
        if c.relationship:
            view, _, other = c.relationship.partition(".")
            if not relation_exists(con, view):
                problems.append(f"{t}.{c.name}: relationship target {view} missing")
            else:
                n = count(f"SELECT count(*) FROM {t} WHERE {col} IS NOT NULL AND {col} NOT IN "
                          f"(SELECT {_q(other)} FROM {view} WHERE {_q(other)} IS NOT NULL)")
                if n:
                    problems.append(f"{t}.{c.name}: {n} values not in {c.relationship}")
    return problems
