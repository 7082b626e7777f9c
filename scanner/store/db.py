"""Engine and sessions. SQLite (WAL) by default; PostgreSQL by URL, same code.

Commands that need the database call `open_store()`, which upgrades the schema first, so a fresh
data dir or an older database both work without a separate step.

`retrying(fn, what=...)` runs one transaction again after a connection or I/O error (a PostgreSQL
restart, a full disk, SQLite busy) with growing waits, for at most ``SCANNER_DB_RETRY_SECONDS``
(default 30), then raises `StoreUnavailable` with one line naming what could not be done.

Every value an engine stores goes through `scanner.printable.storable` (statement parameters and
the strings inside JSON columns): crawled text can hold NUL, which PostgreSQL refuses in text, and
lone surrogates, which no UTF-8 holds (SQLite refused those). A page, an API answer or a header
carrying one made its whole transaction fail, on PostgreSQL alone for NUL; both back ends now store
U+FFFD in their place, the same on both (the evidence keeps the bytes as received).
"""

from __future__ import annotations

import ast
import functools
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from scanner.config import Config, ConfigError
from scanner.filemodes import open_private, private_dir, private_file
from scanner.printable import is_storable, storable

log = logging.getLogger(__name__)

MIGRATIONS_PACKAGE = "scanner.store.migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _storable_row(row: Any) -> Any:
    """One statement's parameters (a dict, a tuple or a list) with every str `storable`."""
    if isinstance(row, dict):
        return {key: storable(value) if type(value) is str else value for key, value in row.items()}
    return type(row)(storable(value) if type(value) is str else value for value in row)


def _storable_parameters(  # type: ignore[no-untyped-def]
    _conn, _cursor, statement: str, parameters: Any, _context, executemany: bool
) -> tuple[str, Any]:
    """``before_cursor_execute``: every statement, ORM, Core or text(), passes here. The strings of all
    its rows are checked at once (~14 µs for a page's 50 signals), and copied only when one holds
    something to replace."""
    if not parameters:
        return statement, parameters
    # An executemany's rows; SQLAlchemy's "insertmanyvalues" batches pass one flat row as executemany.
    many = executemany and not isinstance(parameters, dict) and isinstance(parameters[0], dict | tuple | list)
    rows = parameters if many else (parameters,)
    joined = "".join(
        [
            value
            for row in rows
            for value in (row.values() if isinstance(row, dict) else row)
            if type(value) is str
        ]
    )
    if is_storable(joined):
        return statement, parameters
    fixed = [_storable_row(row) for row in rows]
    return statement, fixed if many else fixed[0]


def _storable_json_value(value: Any) -> Any:
    if value.__class__ is str:
        return storable(value)
    if value.__class__ is float and not math.isfinite(value):
        return None  # JSON has no NaN or Infinity: PostgreSQL refuses them, as strict parsers do
    if isinstance(value, dict):
        return {
            storable(key) if key.__class__ is str else key: _storable_json_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_storable_json_value(item) for item in value]
    return value


def storable_json(value: Any) -> str:
    """A JSON column's text (``json.dumps``) with NUL and lone surrogates in its strings replaced.

    PostgreSQL's json type takes ``"\\u0000"`` and ``"\\ud800"`` (jsonb would not) but they come back
    to Python as the characters themselves, which no page, feed or file can then be written with.
    ``json.dumps`` escapes both, so text without ``\\u0000`` or ``\\ud`` is storable as it is. A float
    that is not finite (``NaN``, ``Infinity``: not JSON, and refused by PostgreSQL) is stored as null.
    """
    text = json.dumps(value)
    if "\\u0000" not in text and "\\ud" not in text and "NaN" not in text and "Infinity" not in text:
        return text
    return json.dumps(_storable_json_value(value))


def make_engine(url: str) -> Engine:
    """A new engine (connection pool) for ``url``; `open_store` keeps one per Config."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"SCANNER_DATABASE_URL: not a valid database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            # Created 0600 before SQLite opens it; its -wal and -shm files take the same mode.
            private_file(parsed.database)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, json_serializer=storable_json
        )
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
            url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
        try:
            engine = create_engine(url, pool_pre_ping=True, json_serializer=storable_json)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            shown = parsed.render_as_string(hide_password=True)
            raise ConfigError(f"SCANNER_DATABASE_URL: unsupported database URL {shown!r} ({exc})") from None
    event.listen(engine, "before_cursor_execute", _storable_parameters, retval=True)
    return engine


# Any constant works: it names the lock PostgreSQL holds while one process migrates.
_PG_MIGRATION_LOCK = 0x706B7363616E  # "pkscan"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (alembic `upgrade heads`).

    Several processes (a scheduler's jobs, parallel crawlers) may start on a fresh database at
    once; the upgrade is serialised so that only one creates the tables and the others find them.
    A database already at the heads is left alone without loading Alembic (`at_heads`): most
    processes start on a current schema, and Alembic with the migration scripts is ~11 MB.
    """
    if at_heads(engine):
        return
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    with _migrations_dir() as script_location, _migration_lock(engine), engine.begin() as connection:
        cfg.set_main_option("script_location", script_location)
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")


def at_heads(engine: Engine) -> bool:
    """The database's ``alembic_version`` rows are exactly the heads of the migration scripts.

    The heads are read from the scripts' ``revision`` and ``down_revision`` literals (not imported);
    a script written otherwise, or any doubt, answers False and Alembic decides.
    """
    heads = _script_heads()
    if heads is None:
        return False
    try:
        with engine.connect() as connection:
            current = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        return False  # no table yet (a new database), or unreachable: the upgrade says which
    return current == heads


def _script_heads() -> frozenset[str] | None:
    """Revisions no other migration script names as its ``down_revision``; None if one cannot be read.

    Read once a process, under a lock: the scripts ship with the package, and CPython 3.11 keeps the
    AST converter's recursion count per interpreter, not per thread, so two threads opening stores at
    once (the web app's and a feed writer's) made ``ast.parse`` raise "AST constructor recursion depth
    mismatch"."""
    with _SCRIPT_HEADS_LOCK:
        return _read_script_heads()


_SCRIPT_HEADS_LOCK = threading.Lock()


@functools.cache
def _read_script_heads() -> frozenset[str] | None:
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in resources.files(MIGRATIONS_PACKAGE).joinpath("versions").iterdir():
        if not script.name.endswith(".py") or script.name == "__init__.py":
            continue
        values: dict[str, object] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                if node.targets[0].id in ("revision", "down_revision"):
                    try:
                        values[node.targets[0].id] = ast.literal_eval(node.value)
                    except ValueError:
                        return None
        revision, down = values.get("revision"), values.get("down_revision")
        downs = down if isinstance(down, tuple | list) else (() if down is None else (down,))
        if not isinstance(revision, str) or not all(isinstance(d, str) for d in downs):
            return None
        revisions.add(revision)
        parents.update(downs)
    return frozenset(revisions - parents) or None


@contextmanager
def _migrations_dir() -> Iterator[str]:
    """The migration scripts as a directory Alembic can list.

    From a source tree or wheel that is the package folder itself; from a zipped egg (scrapyd runs
    those) the scripts are copied to a temporary directory first.
    """
    root = resources.files(MIGRATIONS_PACKAGE)
    if isinstance(root, Path):
        yield str(root)
        return
    with tempfile.TemporaryDirectory(prefix="pkscan-migrations-") as tmp:
        _copy_tree(root, Path(tmp))
        yield tmp


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_dir():
            if item.name != "__pycache__":
                _copy_tree(item, target / item.name)
        elif item.name.endswith((".py", ".mako")):
            (target / item.name).write_bytes(item.read_bytes())


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """An exclusive file lock beside a SQLite database file (PostgreSQL uses an advisory lock)."""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with os.fdopen(open_private(f"{database}.migrate-lock", os.O_RDWR | os.O_APPEND), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class StoreUnavailable(Exception):
    """The database cannot be reached or opened; str() is one line for the operator."""


def open_store(config: Config) -> Engine:
    """The engine for the configured database, its schema upgraded: one per Config, kept by it."""
    return config.built("store", lambda: _open(config))


def _open(config: Config) -> Engine:
    try:
        private_dir(config.data_dir)
    except OSError as exc:
        raise ConfigError(
            f"SCANNER_DATA_DIR: cannot create {config.data_dir}: {exc.strerror or exc}"
        ) from None
    engine = make_engine(config.database_url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise StoreUnavailable(f"database unreachable: {shown}: {reason}") from None
    return engine


T = TypeVar("T")
RETRY_ENV = "SCANNER_DB_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 30.0
MAX_RETRY_WAIT = 2.0


def retry_seconds() -> float:
    raw = os.environ.get(RETRY_ENV, "").strip()
    try:
        seconds = float(raw) if raw else DEFAULT_RETRY_SECONDS
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ConfigError(f"{RETRY_ENV}={raw!r}: not a number of seconds (0 or more)")
    return seconds


def transient(exc: DBAPIError) -> bool:
    # Connection lost or refused, server shutting down, disk full, SQLite busy: may pass. A constraint
    # violation or a bad statement will not, and is raised at once.
    return isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated


def error_line(exc: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's statement and background link."""
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


def retrying(fn: Callable[[], T], *, what: str, seconds: float | None = None) -> T:
    """``fn()`` (one whole transaction), again after transient database errors for a bounded time."""
    budget = retry_seconds() if seconds is None else seconds
    deadline = time.monotonic() + budget
    wait = 0.1
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            if not transient(exc):
                raise
            if time.monotonic() + wait > deadline:
                raise StoreUnavailable(
                    f"database unavailable while {what} (retried for {budget:g} s): {error_line(exc)}"
                ) from exc
            log.info("database error while %s, retrying in %.1f s: %s", what, wait, error_line(exc))
            time.sleep(wait)
            wait = min(wait * 2, MAX_RETRY_WAIT)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error: nothing half-written."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
