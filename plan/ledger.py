"""The append-only ledger of events, on SQLite (default) or PostgreSQL through SQLAlchemy Core.

The schema is versioned by a one-row `kehoach_schema` table and an ordered list of migrations rather
than Alembic: one table and plain functions, no migration environment to ship with the package.

Beside the events the ledger keeps their *states* (migration 4): each occurrence's latest stage
statuses, each invitation's latest answer, the outcome notes and the events per day. They are
written by `append` in the transaction that records the events, so they never disagree with them,
and `rebuild_states` derives them again from the events. Reports read them instead of grouping a
year of events. The tables are defined in `plan.ledger_tables`, the states kept by `plan.ledger_states`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from plan.events import Event, EventKind, NewEvent, PlanRef
from plan.ledger_states import add_to_states, rebuild_states
from plan.ledger_tables import (
    REPORT_TABLES,
    STATE_TABLES,
    UTC,
    events_table,
    insert_for,
    instance_table,
    outbox_files_table,
    outbox_table,
    schema_table,
)
from plan.nfc import nfc

_SUPPORTED = ("sqlite", "postgresql")

# Held for the whole transaction by every writer on PostgreSQL: migrations never race, two appends
# cannot deadlock on each other's keys, and ids become visible in id order, so a reader that
# continues `after_id` never skips an event committed late with a smaller id.
_PG_WRITE_LOCK = 0x6B65686F61636800  # "kehoach\0"

# Execution option marking a write transaction. SQLite then starts it with BEGIN IMMEDIATE, taking
# the write lock up front (waiting out other writers under busy_timeout) rather than failing with
# "database is locked" when a transaction that began by reading tries to write.
_WRITE = "kehoach_write"


class LedgerError(Exception):
    """A ledger problem in plain words for the user; never carries a password."""


# -- migrations ------------------------------------------------------------------------------------
# MIGRATIONS[n - 1] takes the database from version n - 1 to version n, inside the transaction that
# records the new version. Adding a table is one function appended here. A migration that alters an
# existing table must not rely on the module-level Table (which always describes the newest shape)
# to build the older one.


def _v1_events(conn: Connection) -> None:
    events_table.create(conn)


def _v2_instance(conn: Connection) -> None:
    instance_table.create(conn)
    conn.execute(instance_table.insert().values(id=uuid.uuid4().hex, created_at=_utc_now().isoformat()))


def _v3_outbox(conn: Connection) -> None:
    outbox_table.create(conn)


def _v4_states(conn: Connection) -> None:
    for table in STATE_TABLES:
        table.create(conn)
    rebuild_states(conn)


def _v5_outbox_files(conn: Connection) -> None:
    outbox_files_table.create(conn)


def _v6_reports(conn: Connection) -> None:
    for table in REPORT_TABLES:
        table.create(conn)


MIGRATIONS: list[Callable[[Connection], None]] = [_v1_events, _v2_instance, _v3_outbox, _v4_states, _v5_outbox_files, _v6_reports]
SCHEMA_VERSION = len(MIGRATIONS)


# -- the ledger ------------------------------------------------------------------------------------


class Ledger:
    """Append events idempotently and read them back; there is no update and no delete."""

    def __init__(self, url: str, *, clock: Callable[[], dt.datetime] | None = None):
        self._url = _resolve_url(url)
        self._clock = clock or _utc_now
        self._engine = _make_engine(self._url, self.display_url)
        try:
            self._migrate()
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """For the outbox (notifications/outbox.py), which shares this database and its migrations."""
        return self._engine

    @contextlib.contextmanager
    def transaction(self, *, write: bool, snapshot: bool = False) -> Iterator[Connection]:
        """A connection in a transaction, database errors turned into LedgerError. A write
        transaction takes the write lock first (BEGIN IMMEDIATE on SQLite, the writers' lock on
        PostgreSQL), so a read-then-update inside it cannot race another writer. A `snapshot` read
        sees one state of the database in all its statements: what SQLite's read transactions
        always do, REPEATABLE READ on PostgreSQL (whose default gives each statement its own)."""
        what = "Không ghi được vào cơ sở dữ liệu" if write else "Không đọc được cơ sở dữ liệu"
        with self._errors(what):
            if write:
                with _write_transaction(self._engine) as conn:
                    yield conn
            else:
                with self._engine.connect() as conn:
                    if snapshot and self._engine.dialect.name == "postgresql":
                        conn.execution_options(isolation_level="REPEATABLE READ")
                    with conn.begin():
                        yield conn

    @functools.cached_property
    def instance_id(self) -> str:
        """A random id given to this database when it was created (stable across connections)."""
        with self._errors("Không đọc được cơ sở dữ liệu"), self._engine.connect() as conn:
            return conn.execute(sa.select(instance_table.c.id)).scalar_one()

    @property
    def display_url(self) -> str:
        return _shown(self._url)

    def __repr__(self) -> str:
        return f"Ledger({self.display_url!r})"

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        self._engine.dispose()

    # -- writing -----------------------------------------------------------------------------------

    def append(self, ref: PlanRef, events: Sequence[NewEvent]) -> list[Event]:
        """Record the events in one transaction; keys already recorded are skipped. Returns what was inserted."""
        if not events:
            return []
        recorded_at = self._clock()
        if recorded_at.tzinfo is None:
            raise ValueError("the ledger clock must return aware datetimes")
        recorded_at = recorded_at.astimezone(UTC)
        plan_id, plan_hash = nfc(ref.plan_id), ref.plan_hash

        insert = insert_for(self._engine.dialect.name)
        inserted: list[Event] = []
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        with self._errors("Không ghi được sự kiện vào sổ theo dõi"), self._write() as conn:
            for new in events:
                row = _row(new, plan_id, plan_hash, recorded_at)
                # The database would skip a repeated key too; not sending it saves a round trip.
                if row["idempotency_key"] in seen:
                    continue
                seen.add(row["idempotency_key"])
                # One statement per event: RETURNING then tells exactly which keys were new.
                stmt = (
                    insert(events_table)
                    .values(**row)
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                    .returning(events_table.c.id)
                )
                new_id = conn.execute(stmt).scalar_one_or_none()
                if new_id is not None:
                    rows.append({**row, "id": new_id})
                    inserted.append(_event(rows[-1]))
            # The states follow in the same transaction: they hold exactly the events committed.
            add_to_states(conn, rows)
        return inserted

    # -- reading -----------------------------------------------------------------------------------

    def events(
        self,
        plan_id: str,
        *,
        item: str | None = None,
        occurrence: str | None = None,
        kinds: Iterable[EventKind] | None = None,
        after_id: int = 0,
    ) -> list[Event]:
        """The plan's events, oldest first (by id), narrowed by item, occurrence, kinds and a cursor."""
        t = events_table
        query = sa.select(t).where(t.c.plan_id == nfc(plan_id), t.c.id > after_id)
        if item is not None:
            query = query.where(t.c.item == nfc(item))
        if occurrence is not None:
            query = query.where(t.c.occurrence == nfc(occurrence))
        if kinds is not None:
            wanted = sorted({EventKind(k).value for k in kinds})
            if not wanted:
                return []
            query = query.where(t.c.kind.in_(wanted))
        query = query.order_by(t.c.id)
        with self._errors("Không đọc được sổ theo dõi"), self._engine.connect() as conn:
            return [_event(row._mapping) for row in conn.execute(query)]

    def count(self, plan_id: str | None = None) -> int:
        """How many events are recorded, for one plan or in all."""
        query = sa.select(sa.func.count()).select_from(events_table)
        if plan_id is not None:
            query = query.where(events_table.c.plan_id == nfc(plan_id))
        with self._errors("Không đọc được sổ theo dõi"), self._engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    # -- plumbing ----------------------------------------------------------------------------------

    def _write(self):
        return _write_transaction(self._engine)

    def _errors(self, what: str):
        return _translate_errors(what, self._url, self.display_url)

    def _migrate(self) -> None:
        # Most connects find the schema current: check without taking the write lock.
        with self._errors("Không kết nối được cơ sở dữ liệu"), self._engine.connect() as conn:
            if sa.inspect(conn).has_table(schema_table.name):
                version = conn.execute(sa.select(schema_table.c.version)).scalar()
                if version is not None:
                    self._check_not_newer(version)
                    if version == len(MIGRATIONS):
                        return
        with self._errors("Không cập nhật được lược đồ cơ sở dữ liệu"), self._write() as conn:
            schema_table.create(conn, checkfirst=True)
            version = conn.execute(sa.select(schema_table.c.version)).scalar()
            if version is None:
                conn.execute(schema_table.insert().values(version=0))
                version = 0
            self._check_not_newer(version)
            for target in range(version + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[target - 1](conn)
            if version != len(MIGRATIONS):
                conn.execute(schema_table.update().values(version=len(MIGRATIONS)))

    def _check_not_newer(self, version: object) -> None:
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise LedgerError(
                f"Cơ sở dữ liệu {self.display_url} ghi phiên bản lược đồ «{str(version)[:40]}», không phải một số — "
                "sổ đã bị sửa tay hoặc hỏng: dùng bản sao lưu"
            )
        if version > len(MIGRATIONS):
            raise LedgerError(
                f"Cơ sở dữ liệu {self.display_url} dùng lược đồ phiên bản {version}, mới hơn phiên bản "
                f"{len(MIGRATIONS)} mà bản Kehoach này hiểu — hãy nâng cấp Kehoach."
            )


@contextlib.contextmanager
def _write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: BEGIN IMMEDIATE on SQLite, the writers' lock on PostgreSQL."""
    with engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_WRITE_LOCK)))
        yield conn


@contextlib.contextmanager
def _translate_errors(what: str, url: URL, display: str) -> Iterator[None]:
    """Database failures become a LedgerError naming the database and the cause, password removed."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        raise LedgerError(f"{what} {display}: {_reason(exc, url)}") from exc


# -- URLs and engines ------------------------------------------------------------------------------


def _resolve_url(text: str) -> URL:
    try:
        parsed = make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise LedgerError(
            f"Địa chỉ cơ sở dữ liệu không hợp lệ: «{_mask_unparsed(text)}» — cần dạng "
            "sqlite:///đường/dẫn/ledger.sqlite hoặc postgresql+psycopg://người_dùng@máy/tên_csdl"
        ) from None  # the parser's message repeats the URL, password included
    # psycopg is the PostgreSQL driver Kehoach ships: a plain postgresql:// URL, or Prefect's
    # postgresql+asyncpg:// one for the same server, is read as postgresql+psycopg://.
    if parsed.drivername in ("postgresql", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in _SUPPORTED:
        raise LedgerError(
            f"Kehoach chỉ hỗ trợ SQLite và PostgreSQL, không hỗ trợ «{parsed.get_backend_name()}» "
            f"({_shown(parsed)})"
        )
    return parsed


def _make_engine(url: URL, display: str) -> Engine:
    options: dict[str, Any] = {
        # Readable Vietnamese in the database; NaN is not JSON and PostgreSQL would refuse it anyway.
        "json_serializer": functools.partial(json.dumps, ensure_ascii=False, allow_nan=False),
    }
    if url.get_backend_name() == "postgresql":
        options["pool_pre_ping"] = True  # long-lived workers outlive server restarts
    try:
        engine = sa.create_engine(url, **options)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise LedgerError(f"Thiếu thư viện kết nối cho {display}: {exc}") from None
    except sa.exc.ArgumentError as exc:
        raise LedgerError(f"Địa chỉ cơ sở dữ liệu không dùng được: {display} ({_scrub(str(exc), url)})") from None
    if engine.dialect.name == "sqlite":
        sa_event.listen(engine, "connect", _sqlite_on_connect)
        sa_event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching to WAL itself needs a lock another process may hold.
        cursor.execute("PRAGMA busy_timeout=30000")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor, patience: float = 30.0) -> None:
    """WAL is a property of the file: only the first connection to a new database switches it. That
    switch can fail at once with "database is locked" when other processes open the new file at the
    same moment (SQLite does not call the busy handler for it), so wait and retry, as busy_timeout would."""
    import sqlite3
    import time

    deadline = time.monotonic() + patience
    delay = 0.01
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)


def _sqlite_on_begin(conn: Connection) -> None:
    # The sqlite3 module (before Python 3.16) emits BEGIN only before DML, so DDL and reads would run
    # outside the transaction; emit it ourselves, IMMEDIATE when the transaction will write.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")



_SECRET_QUERY = ("password", "passwd", "pwd", "sslpassword")

# What SQLite and PostgreSQL say most often, in the user's words.
_REASONS = (
    ("file is not a database", "tệp sổ không phải cơ sở dữ liệu SQLite (bị hỏng hoặc bị ghi đè)"),
    ("no such table", "thiếu bảng trong cơ sở dữ liệu (bị xóa hoặc sửa tay)"),
    ("already exists", "lược đồ không khớp phiên bản ghi trong sổ (bị sửa tay)"),
    ("database is locked", "cơ sở dữ liệu đang bị một tiến trình khác khóa"),
    ("unable to open database file", "không mở được tệp cơ sở dữ liệu (thư mục không có hoặc không ghi được)"),
    ("Connection refused", "máy chủ cơ sở dữ liệu từ chối kết nối (chưa chạy, hoặc sai cổng)"),
    ("password authentication failed", "sai tên đăng nhập hoặc mật khẩu cơ sở dữ liệu"),
    ("does not exist", "cơ sở dữ liệu hoặc người dùng không tồn tại trên máy chủ"),
    ("timeout expired", "máy chủ cơ sở dữ liệu không trả lời kịp"),
    ("Name or service not known", "không tìm thấy máy chủ cơ sở dữ liệu theo tên"),
)


def _shown(url: URL) -> str:
    """The URL as it may be shown: no password, in the user part or in the query."""
    query = {k: ("***" if k.lower() in _SECRET_QUERY else v) for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def _reason(exc: BaseException, url: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = " ".join(lines) or type(orig).__name__
    for english, ours in _REASONS:
        if english.lower() in text.lower():
            return _scrub(f"{ours} ({text[:160]})", url)
    return _scrub(text, url)


def _scrub(text: str, url: URL) -> str:
    secrets = [url.password, *(v for k, v in url.query.items() if k.lower() in _SECRET_QUERY)]
    for secret in secrets:
        if not secret:
            continue
        for value in ([secret] if isinstance(secret, str) else list(secret)):
            for form in {str(value), quote(str(value), safe="")}:
                text = text.replace(form, "***")
    return text


def _mask_unparsed(text: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", text)


# -- rows and events -------------------------------------------------------------------------------


def _utc_now() -> dt.datetime:
    return dt.datetime.now(UTC)


def _json_payload(new: NewEvent) -> dict[str, Any]:
    """The payload as the database will give it back (JSON types, NFC text), or a TypeError naming the key."""
    try:
        return json.loads(json.dumps(nfc(dict(new.payload)), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"payload of event {new.key!r} is not JSON: {exc}") from exc


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    # Stages and statuses arrive as enums; the column holds their value, never "Stage.EXECUTION".
    return nfc(str(value.value if isinstance(value, Enum) else value))


def _row(new: NewEvent, plan_id: str, plan_hash: str, recorded_at: dt.datetime) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "plan_hash": plan_hash,
        "item": nfc(new.item),
        "occurrence": nfc(new.occurrence),
        "stage": _optional_text(new.stage),
        "counterpart": _optional_text(new.counterpart),
        "kind": EventKind(new.kind).value,
        "status": _optional_text(new.status),
        "payload": _json_payload(new),
        "actor": nfc(new.actor),
        "recorded_at": recorded_at,
        "effective_date": new.effective_date,
        "idempotency_key": nfc(new.key),
    }


def _event(row: Any) -> Event:
    return Event(
        key=row["idempotency_key"],
        item=row["item"],
        kind=EventKind(row["kind"]),
        occurrence=row["occurrence"],
        stage=row["stage"],
        counterpart=row["counterpart"],
        status=row["status"],
        payload=row["payload"],
        actor=row["actor"],
        effective_date=row["effective_date"],
        id=row["id"],
        plan_id=row["plan_id"],
        plan_hash=row["plan_hash"],
        recorded_at=row["recorded_at"],
    )
