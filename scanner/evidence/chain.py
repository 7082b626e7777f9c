"""The tamper-evident evidence log: captures form a hash chain.

``chain_hash(n) = SHA-256(chain_hash(n-1) + "\\n" + canonical(capture n) + "\\n" + body_sha256(n))``
with ``chain_hash(0) = "0" * 64``. ``canonical`` is the JSON (sorted keys, no spaces, UTF-8) of the
fields in `CHAINED_FIELDS`: where the exchange's records are, what was fetched, when, from which
address, and the body digest. A rendered capture also chains ``screenshot_sha256`` (`OPTIONAL_CHAINED_FIELDS`
are in the JSON only when set, so rows written before they existed keep their hashes). Changing any of them, removing a row or re-ordering rows breaks every
later hash. ``platform_id`` is not chained: it is derived later (by detection) and may be regrouped.

Appending is safe with several processes writing at once: on SQLite the append runs in a
``BEGIN IMMEDIATE`` transaction (one writer at a time, others wait on busy_timeout); on PostgreSQL
under a transaction-scoped advisory lock. ``seq`` is unique, so even a lock that did not hold could
never produce a fork: the losing insert fails and is retried on the new tip.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.compiler import Compiled

from scanner.store.models import Capture, detached

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "seq",
    "run_id",
    "method",
    "url",
    "final_url",
    "status",
    "content_type",
    "fetched_at",
    "remote_ip",
    "warc_file",
    "warc_offset",
    "warc_length",
    "record_id",
    "request_record_id",
    "body_sha256",
    "body_length",
    "warc_sha256",
)
# Chained only when not None: the screenshot digest of a RENDER capture (scanner.render), the
# vantage point a capture was fetched through (scanner.net.vantage).
OPTIONAL_CHAINED_FIELDS = ("screenshot_sha256", "vantage")
# Arbitrary constant naming "the capture chain" among PostgreSQL advisory locks.
PG_LOCK_KEY = 0x706B7363  # "pksc"
APPEND_ATTEMPTS = 20


def format_time(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive UTC on some paths
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# json.dumps with these arguments builds a new encoder per call (a capture is chained per page).
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical(fields: dict[str, Any] | Capture) -> bytes:
    get = fields.get if isinstance(fields, dict) else lambda name: getattr(fields, name)
    data: dict[str, Any] = {}
    for name in CHAINED_FIELDS:
        value = get(name)
        data[name] = format_time(value) if isinstance(value, datetime) else value
    for name in OPTIONAL_CHAINED_FIELDS:
        value = get(name)
        if value is not None:
            data[name] = value
    return _CANONICAL_JSON(data).encode("utf-8")


def chain_hash(prev_chain_hash: str, fields: dict[str, Any] | Capture) -> str:
    body_sha256 = fields["body_sha256"] if isinstance(fields, dict) else fields.body_sha256
    digest = hashlib.sha256()
    digest.update(prev_chain_hash.encode("ascii") + b"\n")
    digest.update(canonical(fields) + b"\n")
    digest.update(body_sha256.encode("ascii"))
    return digest.hexdigest()


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # pysqlite would otherwise start a DEFERRED transaction, letting two writers read the same tip.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


# A batch is one executemany, then its ids are read back by seq (unique, and ours: we hold the lock).
# INSERT ... RETURNING with the ids in the rows' order ran one statement per row on SQLite (it cannot
# promise RETURNING's order), ~30 µs of SQLAlchemy each on the capture thread of a crawl.
_TIP = select(Capture.seq, Capture.chain_hash).order_by(Capture.seq.desc()).limit(1)  # type: ignore[attr-defined]
_INSERT = insert(Capture)
_IDS = (
    select(Capture.id)
    .where(Capture.seq >= bindparam("first"), Capture.seq <= bindparam("last"))  # type: ignore[operator]
    .order_by(Capture.seq)
)
# Every column but the id, with the model's defaults: each row of one executemany has the same keys.
_COLUMNS = {
    name: None if field.is_required() else field.get_default(call_default_factory=True)
    for name, field in Capture.model_fields.items()
    if name != "id"
}


@dataclass(frozen=True)
class _Statements:
    """The chain's three statements compiled for one dialect, run with ``exec_driver_sql``.

    A capture is chained per page, on the crawl's capture thread: executing the Core statements
    cost ~60 µs an exchange in SQLAlchemy (cache keys, per-row parameter processing) against ~25 µs
    for the database's own work. Compiled once, they still go through the connection (its
    transaction, the engine's ``before_cursor_execute`` hooks) with bound parameters; each row's
    values pass through the column types' bind processors, as Core would pass them (SQLite stores
    ``fetched_at`` as text).
    """

    tip: str
    insert: str
    ids: str
    insert_keys: tuple[str, ...] | None  # positional parameter order; None: named parameters
    ids_keys: tuple[str, ...] | None
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, dialect: Dialect) -> _Statements:
        insert_sql = _INSERT.compile(dialect=dialect, column_keys=list(_COLUMNS))
        ids_sql = _IDS.compile(dialect=dialect)
        columns = Capture.__table__.c  # type: ignore[attr-defined]
        processors = {
            name: processor
            for name in _COLUMNS
            if (processor := columns[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        return cls(
            # The limit is our constant 1, written into the statement rather than bound.
            tip=str(_TIP.compile(dialect=dialect, compile_kwargs={"literal_binds": True})),
            insert=str(insert_sql),
            ids=str(ids_sql),
            insert_keys=_positions(insert_sql),
            ids_keys=_positions(ids_sql),
            processors=processors,
        )

    def insert_parameters(self, rows: list[dict[str, Any]]) -> list[Any]:
        processors = self.processors
        bound = [
            {name: processors[name](value) if name in processors else value for name, value in row.items()}
            for row in rows
        ]
        if self.insert_keys is None:
            return bound
        return [tuple(row[name] for name in self.insert_keys) for row in bound]

    def ids_parameters(self, first: int, last: int) -> Any:
        values = {"first": first, "last": last}
        return values if self.ids_keys is None else tuple(values[name] for name in self.ids_keys)


def _positions(compiled: Compiled) -> tuple[str, ...] | None:
    """The bound parameters' names in order for a positional paramstyle (qmark, format), else None."""
    return tuple(compiled.positiontup) if compiled.positiontup is not None else None  # type: ignore[attr-defined]


_STATEMENTS: dict[Dialect, _Statements] = {}


def _statements(conn: Connection) -> _Statements:
    found = _STATEMENTS.get(conn.dialect)
    if found is None:
        found = _STATEMENTS[conn.dialect] = _Statements.compile(conn.dialect)
    return found


def tip(conn: Connection) -> tuple[int, str]:
    """(seq, chain_hash) of the last capture, or (0, GENESIS) for an empty log."""
    row = conn.exec_driver_sql(_statements(conn).tip).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def append(engine: Engine, fields: dict[str, Any]) -> Capture:
    """Insert a capture at the end of the chain; ``fields`` holds every column but seq and the hashes."""
    return append_many(engine, [fields])[0]


def append_many(engine: Engine, many: list[dict[str, Any]]) -> list[Capture]:
    """Insert captures, in order, at the end of the chain in one transaction (one lock wait for all)."""
    for attempt in range(APPEND_ATTEMPTS):
        try:
            with engine.connect() as conn:
                _lock(conn)
                seq, prev = tip(conn)
                rows = []
                for fields in many:
                    seq += 1
                    row = dict(fields, seq=seq, prev_chain_hash=prev)
                    row["chain_hash"] = prev = chain_hash(prev, row)
                    rows.append({**_COLUMNS, **row})
                statements = _statements(conn)
                conn.exec_driver_sql(statements.insert, statements.insert_parameters(rows))
                ids = (
                    conn.exec_driver_sql(statements.ids, statements.ids_parameters(rows[0]["seq"], seq))
                    .scalars()
                    .all()
                )
                conn.commit()
                return [
                    detached(Capture, {"id": row_id, **row}) for row_id, row in zip(ids, rows, strict=True)
                ]
        except (IntegrityError, OperationalError):
            # Another writer won the race (unique seq) or the lock wait timed out: retry on the new tip.
            if attempt == APPEND_ATTEMPTS - 1:
                raise
            time.sleep(min(0.01 * 2**attempt, 1.0))
    raise AssertionError("unreachable")
