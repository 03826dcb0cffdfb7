"""Connections and schema. Writers go through `writing(path)`; the web process uses
`connect(path, read_only=True)` and can never write.

Changing the warehouse (import, refresh, build) never writes the file in place::

    from warehouse.db import writing
    with writing(db) as con:          # a private copy <db>.tmp-<pid> beside the warehouse
        ...                           # change it (a transaction if you like)
    # on success: CHECKPOINT, close, os.replace(copy, db) - one atomic rename

so a kill -9 at any moment leaves the previous warehouse or the new one, never a mix, and a
dashboard serving the same file (read-only, it holds DuckDB's shared lock) keeps answering from
the old file until it notices the new one (dashboard/data.py reopens a replaced file). One
writer at a time: `writing` holds an exclusive flock on the warehouse file; a second writer
gets `WarehouseBusy` at once. Temporary files of a killed earlier writer (`<db>.tmp-<pid>` and
its `.wal`, pid no longer running) are removed by the next writer.

`writing(db, in_place=True)` opens the file itself instead (no copy; for a warehouse too large
to copy): it fails with `WarehouseBusy` while anything else has the file open, the dashboard
included. Every problem with the warehouse file itself (missing, a folder, not a DuckDB file,
busy, disk full) is a `WarehouseError` whose text is one line for the user.
"""
from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import duckdb

SCHEMA_FILES = ("01_tables.sql", "02_views.sql")
# 2: kpi_value.source_id -> value_source (was: source and is_demo on every row).
SCHEMA_VERSION = "2"
_MAGIC_OFFSET, _MAGIC = 8, b"DUCK"


class WarehouseError(Exception):
    """The warehouse file cannot be used; str() is a one-line message (Swedish + English)."""


class WarehouseBusy(WarehouseError):
    """Another process holds the warehouse (a writer, or with --in-place any reader)."""


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"Warehouse {path} does not exist; run `styrkort build` first.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def schema_sql(name: str) -> str:
    return resources.files("warehouse.schema").joinpath(name).read_text(encoding="utf-8")


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create tables, bring an older warehouse's tables up to date, (re)create the public
    views. Idempotent."""
    from warehouse.value_source import upgrade_kpi_value

    tables = schema_sql("01_tables.sql")
    con.execute(tables)
    if upgrade_kpi_value(con, create_table_sql(tables, "kpi_value")):
        con.execute("INSERT OR REPLACE INTO warehouse_meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])
    con.execute(schema_sql("02_views.sql"))


def create_table_sql(tables: str, table: str) -> str:
    """One table's CREATE TABLE statement out of a schema file (it ends at the first line ");")."""
    m = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \(.*?\n\);", tables, re.S)
    if m is None:
        raise ValueError(f"CREATE TABLE {table} not found in the schema")
    return m.group(0)


def needs_upgrade(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether an existing warehouse has tables of an older schema (see apply_schema)."""
    from warehouse.value_source import has_old_layout

    return has_old_layout(con)


# -- checking the file ------------------------------------------------------------------------------

def check_warehouse(db: Path | str) -> Path:
    """db as an existing DuckDB warehouse file, or WarehouseError with a one-line message."""
    db = Path(db)
    try:
        st = os.stat(db)
    except FileNotFoundError:
        raise WarehouseError(f"lagret {db} finns inte (warehouse not found); kör `styrkort build` först") from None
    except OSError as e:
        raise WarehouseError(f"lagret {db} går inte att öppna (cannot open warehouse): {e.strerror}") from None
    if os.path.isdir(db):
        raise WarehouseError(f"{db} är en mapp, inte ett lager (not a warehouse file: a folder)")
    if not _is_regular(st.st_mode):
        raise WarehouseError(f"{db} är inte en vanlig fil (not a warehouse file)")
    try:
        with open(db, "rb") as f:
            head = f.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError as e:
        raise WarehouseError(f"lagret {db} går inte att läsa (cannot read warehouse): {e.strerror}") from None
    if head[_MAGIC_OFFSET:] != _MAGIC:
        raise WarehouseError(f"{db} är inte ett DuckDB-lager (not a DuckDB warehouse file)")
    return db


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def duckdb_failure(db: Path | str, e: BaseException) -> WarehouseError:
    """A DuckDB/OS error while opening or writing the warehouse -> one-line WarehouseError."""
    msg = str(e)
    if "Could not set lock" in msg or "Conflicting lock" in msg:
        pid = re.search(r"PID (\d+)", msg)
        who = f" av process {pid.group(1)}" if pid else ""
        return WarehouseBusy(f"lagret {db} används{who} (warehouse busy: open in another process, e.g. "
                             f"`styrkort serve`); försök igen när den är klar, eller utan --in-place")
    if isinstance(e, OSError) and e.errno == errno.ENOSPC or "No space left" in msg:
        return WarehouseError(f"disken är full, lagret {db} är oförändrat (no space left on device)")
    if "not a valid DuckDB database" in msg:
        return WarehouseError(f"{db} är inte ett DuckDB-lager (not a DuckDB warehouse file)")
    if "Is a directory" in msg:
        return WarehouseError(f"{db} är en mapp, inte ett lager (not a warehouse file: a folder)")
    if "Permission denied" in msg or isinstance(e, PermissionError):
        return WarehouseError(f"lagret {db} får inte skrivas (permission denied)")
    first = msg.splitlines()[0] if msg else type(e).__name__
    return WarehouseError(f"lagret {db} går inte att använda (warehouse error): {first[:200]}")


# -- one writer at a time -----------------------------------------------------------------------------

class _WriterLock:
    """An exclusive flock on the warehouse file (flock and DuckDB's fcntl locks do not interact).
    The lock follows the file's inode, so after another writer's os.replace it is taken again
    on the new file."""

    def __init__(self, db: Path):
        self.db, self.fd = db, None

    def acquire(self) -> None:
        for _ in range(5):
            try:
                fd = os.open(self.db, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return  # nothing to protect yet (a first build)
            except OSError as e:
                raise duckdb_failure(self.db, e) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise WarehouseBusy(f"lagret {self.db} ändras redan av en annan import, refresh eller build "
                                    f"(warehouse busy: another writer); försök igen när den är klar") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.db).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return
            os.close(fd)   # replaced while we waited: lock the new file
        raise WarehouseBusy(f"lagret {self.db} byts ut hela tiden (warehouse busy)")

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def temp_path(db: Path) -> Path:
    return db.with_name(f"{db.name}.tmp-{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(db: Path) -> list[Path]:
    """Delete `<db>.tmp-<pid>` (and `.wal`) left by writers that no longer run. Returns them."""
    db = Path(db)
    pattern = re.compile(re.escape(db.name) + r"\.tmp-(\d+)(\.wal)?")
    removed = []
    try:
        entries = list(os.scandir(db.parent if str(db.parent) else "."))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _copy_consistent(db: Path, tmp: Path) -> None:
    """Copy the warehouse (and a write-ahead log beside it) while holding DuckDB's shared lock,
    so no writer outside `writing` (which would need the exclusive lock) changes it meanwhile."""
    try:
        guard = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as e:
        raise duckdb_failure(db, e) from None
    try:
        shutil.copyfile(db, tmp)
        wal = Path(f"{db}.wal")
        if wal.exists():
            shutil.copyfile(wal, Path(f"{tmp}.wal"))
    except OSError as e:
        raise duckdb_failure(db, e) from None
    finally:
        guard.close()


def _discard(tmp: Path) -> None:
    for p in (tmp, Path(f"{tmp}.wal")):
        try:
            p.unlink()
        except OSError:
            pass


def _upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """Every writer works on the current schema: an older warehouse is brought up to date in
    one transaction before the caller's change (a no-op, one catalogue query, when current)."""
    if needs_upgrade(con):
        con.execute("BEGIN")
        apply_schema(con)
        con.execute("COMMIT")


@contextmanager
def writing(db: Path | str, *, in_place: bool = False, fresh: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection whose changes reach `db` atomically when the block ends without an
    exception (see the module docstring). fresh=True starts from an empty file instead of a copy
    (`styrkort build`); db may then be missing, but an existing db must be a warehouse (a text
    file is never overwritten). in_place=True writes `db` itself (transactions are then the
    caller's only protection)."""
    db = Path(db)
    if fresh:
        if db.exists() or db.is_symlink():
            check_warehouse(db)
        db.parent.mkdir(parents=True, exist_ok=True)
    else:
        check_warehouse(db)
    # Swap the file a symlink points at, not the symlink (data/warehouse.duckdb -> /big/disk/...).
    db = Path(os.path.realpath(db))
    lock = _WriterLock(db)
    lock.acquire()
    try:
        remove_stale_temp_files(db)
        if in_place:
            try:
                con = duckdb.connect(str(db))
            except duckdb.Error as e:
                raise duckdb_failure(db, e) from None
            try:
                _upgrade(con)
                yield con
                con.execute("CHECKPOINT")
            finally:
                con.close()
            return
        tmp = temp_path(db)
        _discard(tmp)
        try:
            if not fresh:
                _copy_consistent(db, tmp)
            try:
                con = duckdb.connect(str(tmp))
            except duckdb.Error as e:
                raise duckdb_failure(db, e) from None
            try:
                if not fresh:
                    _upgrade(con)
                yield con
                con.execute("CHECKPOINT")
            except duckdb.IOException as e:
                raise duckdb_failure(db, e) from None
            finally:
                con.close()
            try:
                with open(tmp, "rb+") as f:
                    os.fsync(f.fileno())
                # A write-ahead log beside the old file belongs to the old file: it was copied
                # into ours, and must not be replayed onto the new one.
                Path(f"{db}.wal").unlink(missing_ok=True)
                os.replace(tmp, db)
            except OSError as e:
                raise duckdb_failure(db, e) from None
            _fsync_dir(db.parent if str(db.parent) else Path("."))
        finally:
            _discard(tmp)
    finally:
        lock.release()
