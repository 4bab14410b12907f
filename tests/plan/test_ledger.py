"""The ledger: idempotent appends in one transaction, reads in id order, schema versions, both databases.

Every test runs on SQLite; on PostgreSQL too when KEHOACH_TEST_POSTGRES_URL names a database the tests
may create schemas in (`.ci/run` starts a throwaway one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

import plan.ledger as ledger_module
from plan.events import MAIN, CoordinationStatus, EventKind, NewEvent, PlanRef, StageStatus
from plan.ledger import SCHEMA_VERSION, Ledger, LedgerError
from plan.model import Stage

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
ICT = dt.timezone(dt.timedelta(hours=7), "ICT")
POSTGRES_URL = os.environ.get("KEHOACH_TEST_POSTGRES_URL", "").strip()
REF = PlanRef("hanoi-svhtt-ttdn-2023", "0123456789abcdef")
OTHER_REF = PlanRef("hanoi-svhtt-ttdn-2024", "fedcba9876543210")
NOW = dt.datetime(2023, 5, 4, 2, 0, 0, 123456, tzinfo=UTC)


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def ledger(database_url):
    with Ledger(database_url, clock=lambda: NOW) as opened:
        yield opened


@pytest.fixture
def raw(database_url):
    """A plain SQLAlchemy engine on the same database, to look behind the ledger's back."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


def ev(key: str, item: str = "item-1", kind: EventKind = EventKind.STAGE_STATUS, **fields) -> NewEvent:
    return NewEvent(key=key, item=item, kind=kind, **fields)


def keys(events) -> list[str]:
    return [e.key for e in events]


# -- appending and reading back --------------------------------------------------------------------


def test_an_event_round_trips_with_vietnamese_text_in_nfc_and_its_dates(ledger):
    decomposed = unicodedata.normalize("NFD", "Hội nghị gặp mặt Đại sứ quán Pháp — đã hoàn thành")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    new = ev(
        "item-3/main/execution/outcome/1",
        item="item-3",
        kind=EventKind.OUTCOME,
        occurrence=MAIN,
        stage=Stage.EXECUTION,
        counterpart="dai-su-quan-phap",
        status=StageStatus.DONE,
        payload={
            "ghi_chú": decomposed,
            "chỉ_số": {"số_người_tham_dự": 120, "tỉ_lệ": 0.75, "đạt": True, "trống": None},
            "liên_kết": ["https://svhtt.hanoi.gov.vn/tin-tức/1", "Bài viết"],
        },
        actor="Nguyễn Thị Hương (Phòng Quản lý Văn hóa)",
        effective_date=dt.date(2023, 10, 31),
    )

    [inserted] = ledger.append(REF, [new])
    [stored] = ledger.events(REF.plan_id)

    assert stored == inserted
    assert stored.id > 0
    assert (stored.plan_id, stored.plan_hash) == (REF.plan_id, REF.plan_hash)
    assert stored.key == new.key and stored.item == "item-3" and stored.occurrence == MAIN
    assert stored.stage == "execution" and stored.counterpart == "dai-su-quan-phap"
    assert stored.kind is EventKind.OUTCOME and stored.status == StageStatus.DONE
    assert stored.actor == "Nguyễn Thị Hương (Phòng Quản lý Văn hóa)"
    assert stored.effective_date == dt.date(2023, 10, 31) and type(stored.effective_date) is dt.date
    assert stored.recorded_at == NOW
    assert stored.payload == {
        "ghi_chú": "Hội nghị gặp mặt Đại sứ quán Pháp — đã hoàn thành",
        "chỉ_số": {"số_người_tham_dự": 120, "tỉ_lệ": 0.75, "đạt": True, "trống": None},
        "liên_kết": ["https://svhtt.hanoi.gov.vn/tin-tức/1", "Bài viết"],
    }
    assert unicodedata.is_normalized("NFC", stored.payload["ghi_chú"])


def test_optional_fields_default_and_come_back_as_none(ledger):
    ledger.append(REF, [ev("bare", kind=EventKind.OCCURRENCE_OPENED)])
    [stored] = ledger.events(REF.plan_id)
    assert stored.stage is None and stored.counterpart is None and stored.status is None
    assert stored.effective_date is None and stored.payload == {}
    assert stored.occurrence == MAIN and stored.actor == "kehoach"


def test_a_key_repeated_within_one_batch_is_recorded_once_first_one_wins(ledger):
    inserted = ledger.append(
        REF,
        [ev("k1", payload={"n": 1}), ev("k2"), ev("k1", payload={"n": 2})],
    )
    assert keys(inserted) == ["k1", "k2"]
    assert [(e.key, e.payload) for e in ledger.events(REF.plan_id)] == [("k1", {"n": 1}), ("k2", {})]


def test_a_key_already_recorded_is_skipped_silently_in_a_later_batch(ledger):
    ledger.append(REF, [ev("k1", payload={"n": 1}), ev("k2")])
    inserted = ledger.append(REF, [ev("k2", payload={"n": 2}), ev("k3")])
    assert keys(inserted) == ["k3"]
    assert ledger.append(REF, [ev("k1"), ev("k3")]) == []
    assert keys(ledger.events(REF.plan_id)) == ["k1", "k2", "k3"]
    assert [e.payload for e in ledger.events(REF.plan_id, after_id=0)][:2] == [{"n": 1}, {}]
    assert ledger.count() == 3


def test_keys_are_unique_across_plans(ledger):
    ledger.append(REF, [ev("shared")])
    assert ledger.append(OTHER_REF, [ev("shared")]) == []
    assert ledger.count(OTHER_REF.plan_id) == 0


def test_an_empty_batch_writes_nothing(ledger):
    assert ledger.append(REF, []) == []
    assert ledger.count() == 0


def test_a_batch_whose_payload_cannot_be_serialised_writes_nothing(ledger):
    ledger.append(REF, [ev("before")])
    batch = [ev("a"), ev("b"), ev("bad", payload={"when": object()}), ev("c")]
    with pytest.raises(TypeError, match="bad"):
        ledger.append(REF, batch)
    assert keys(ledger.events(REF.plan_id)) == ["before"]
    # Nothing of the failed batch holds a key: the same events go in once the bad one is fixed.
    assert keys(ledger.append(REF, [ev("a"), ev("b"), ev("c")])) == ["a", "b", "c"]


def test_a_batch_the_database_rejects_midway_writes_nothing(ledger):
    # The third event breaks a NOT NULL constraint after two rows were inserted in the transaction.
    batch = [ev("a"), ev("b"), NewEvent(key="no-item", item=None, kind=EventKind.OUTCOME), ev("c")]
    with pytest.raises(LedgerError) as raised:
        ledger.append(REF, batch)
    assert "item" in str(raised.value)
    assert ledger.count() == 0
    assert keys(ledger.append(REF, [ev("a"), ev("b")])) == ["a", "b"]


def test_a_payload_with_nan_is_refused_as_it_is_not_json(ledger):
    with pytest.raises(TypeError):
        ledger.append(REF, [ev("nan", payload={"ratio": float("nan")})])
    assert ledger.count() == 0


# -- concurrency -----------------------------------------------------------------------------------

# 40 keys, each appended by every worker in its own order and batching, plus repeats within batches.
SHARED_KEYS = [f"shared-{i:02d}" for i in range(40)]


def _batches_for(worker: int) -> list[list[str]]:
    import random

    order = SHARED_KEYS[:]
    random.Random(worker).shuffle(order)
    batches = [order[i : i + 7] for i in range(0, len(order), 7)]
    return [batch + batch[:2] for batch in batches]


def test_threads_appending_overlapping_keys_record_each_key_exactly_once(ledger):
    workers = 8
    start = threading.Barrier(workers)

    def work(worker: int) -> list[str]:
        start.wait()
        won = []
        for batch in _batches_for(worker):
            won += keys(ledger.append(REF, [ev(k, payload={"worker": worker}) for k in batch]))
        return won

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(work, range(workers)))

    won = [k for result in results for k in result]
    assert sorted(won) == SHARED_KEYS  # every key returned as inserted to exactly one thread
    assert sorted(keys(ledger.events(REF.plan_id))) == SHARED_KEYS
    assert ledger.count() == len(SHARED_KEYS)


WORKER = textwrap.dedent(
    """
    import json, sys
    from plan.events import EventKind, NewEvent, PlanRef
    from plan.ledger import Ledger

    url, worker, batches = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    ref = PlanRef("hanoi-svhtt-ttdn-2023", "0123456789abcdef")
    won = []
    with Ledger(url) as ledger:
        for batch in batches:
            events = [NewEvent(key=k, item="item-1", kind=EventKind.OUTCOME, payload={"worker": worker}) for k in batch]
            won += [e.key for e in ledger.append(ref, events)]
    print(json.dumps(won))
    """
)


def test_processes_appending_overlapping_keys_on_a_new_database_record_each_key_exactly_once(database_url):
    # The database is empty: the processes also race to create the schema.
    workers = 4
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url, str(w), json.dumps(_batches_for(w))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in range(workers)
    ]
    won = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        won += json.loads(out)

    assert sorted(won) == SHARED_KEYS
    with Ledger(database_url) as ledger:
        assert sorted(keys(ledger.events(REF.plan_id))) == SHARED_KEYS
        assert ledger.count() == len(SHARED_KEYS)


# -- reading ---------------------------------------------------------------------------------------


@pytest.fixture
def filled(ledger):
    ledger.append(
        REF,
        [
            ev("1", item="item-1", kind=EventKind.STAGE_STATUS, stage="preparation", status=StageStatus.IN_PROGRESS),
            ev("2", item="item-8", kind=EventKind.OCCURRENCE_OPENED, occurrence="2023-06-dsq-han-quoc"),
            ev("3", item="item-1", kind=EventKind.OUTCOME, stage="preparation"),
            ev("4", item="item-8", kind=EventKind.COUNTERPART_STATUS, occurrence="2023-06-dsq-han-quoc",
               stage="coordination", counterpart="dsq-han-quoc", status=CoordinationStatus.INVITED),
        ],
    )
    ledger.append(OTHER_REF, [ev("other-1", item="item-1")])
    ledger.append(
        REF,
        [
            ev("5", item="item-8", kind=EventKind.OCCURRENCE_OPENED, occurrence="2023-09-dsq-nhat-ban"),
            ev("6", item="item-1", kind=EventKind.OVERDUE, stage="coordination"),
            ev("7", item="item-8", kind=EventKind.STAGE_STATUS, occurrence="2023-06-dsq-han-quoc"),
        ],
    )
    return ledger


def test_events_come_in_id_order_which_is_the_order_they_were_appended(filled):
    events = filled.events(REF.plan_id)
    assert keys(events) == ["1", "2", "3", "4", "5", "6", "7"]
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e.plan_id == REF.plan_id for e in events)


def test_events_are_filtered_by_item_and_occurrence(filled):
    assert keys(filled.events(REF.plan_id, item="item-1")) == ["1", "3", "6"]
    assert keys(filled.events(REF.plan_id, item="item-8")) == ["2", "4", "5", "7"]
    assert keys(filled.events(REF.plan_id, item="item-8", occurrence="2023-06-dsq-han-quoc")) == ["2", "4", "7"]
    assert keys(filled.events(REF.plan_id, occurrence=MAIN)) == ["1", "3", "6"]
    assert filled.events(REF.plan_id, item="item-9") == []
    assert keys(filled.events(OTHER_REF.plan_id)) == ["other-1"]
    assert filled.events("no-such-plan") == []


def test_events_are_filtered_by_kinds(filled):
    assert keys(filled.events(REF.plan_id, kinds=[EventKind.OCCURRENCE_OPENED])) == ["2", "5"]
    assert keys(filled.events(REF.plan_id, kinds={EventKind.OUTCOME, EventKind.OVERDUE})) == ["3", "6"]
    assert keys(filled.events(REF.plan_id, item="item-8", kinds=(k for k in [EventKind.STAGE_STATUS]))) == ["7"]
    assert filled.events(REF.plan_id, kinds=[]) == []


def test_events_after_an_id_continue_where_a_reader_stopped(filled):
    events = filled.events(REF.plan_id)
    third = events[2]
    assert keys(filled.events(REF.plan_id, after_id=third.id)) == ["4", "5", "6", "7"]
    assert keys(filled.events(REF.plan_id, item="item-8", after_id=third.id)) == ["4", "5", "7"]
    assert filled.events(REF.plan_id, after_id=events[-1].id) == []


def test_count_is_per_plan_or_in_all(filled):
    assert filled.count(REF.plan_id) == 7
    assert filled.count(OTHER_REF.plan_id) == 1
    assert filled.count() == 8
    assert filled.count("no-such-plan") == 0


# -- time ------------------------------------------------------------------------------------------


def test_recorded_at_comes_from_the_injected_clock_as_aware_utc(database_url):
    moments = iter([dt.datetime(2023, 5, 4, 9, 0, tzinfo=ICT), dt.datetime(2023, 5, 5, 23, 30, 15, 5, tzinfo=ICT)])
    with Ledger(database_url, clock=lambda: next(moments)) as ledger:
        [first] = ledger.append(REF, [ev("a")])
        ledger.append(REF, [ev("b"), ev("c")])
        stored = ledger.events(REF.plan_id)

    assert first.recorded_at == dt.datetime(2023, 5, 4, 2, 0, tzinfo=UTC)
    assert [e.recorded_at for e in stored] == [
        dt.datetime(2023, 5, 4, 2, 0, tzinfo=UTC),
        dt.datetime(2023, 5, 5, 16, 30, 15, 5, tzinfo=UTC),
        dt.datetime(2023, 5, 5, 16, 30, 15, 5, tzinfo=UTC),
    ]
    assert all(e.recorded_at.tzinfo is UTC for e in stored)


def test_the_default_clock_is_now_in_utc(database_url):
    with Ledger(database_url) as ledger:
        before = dt.datetime.now(UTC)
        [inserted] = ledger.append(REF, [ev("a")])
        after = dt.datetime.now(UTC)
        [stored] = ledger.events(REF.plan_id)
    assert before <= stored.recorded_at <= after
    assert stored.recorded_at.utcoffset() == dt.timedelta(0) and stored == inserted


def test_a_clock_returning_naive_datetimes_is_refused(database_url):
    with Ledger(database_url, clock=lambda: dt.datetime(2023, 5, 4, 9, 0)) as ledger:
        with pytest.raises(ValueError, match="aware"):
            ledger.append(REF, [ev("a")])
        assert ledger.count() == 0


# -- schema versions -------------------------------------------------------------------------------


def test_a_new_database_records_the_current_schema_version(ledger, raw):
    with raw.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM kehoach_schema").all() == [(SCHEMA_VERSION,)]
        assert SCHEMA_VERSION == len(ledger_module.MIGRATIONS) >= 1
        assert {"events", "kehoach_schema"} <= set(sa.inspect(conn).get_table_names())


def test_reopening_a_database_keeps_its_events_and_version(database_url, raw):
    with Ledger(database_url, clock=lambda: NOW) as ledger:
        ledger.append(REF, [ev("a")])
    with Ledger(database_url) as ledger:
        assert keys(ledger.events(REF.plan_id)) == ["a"]
    with raw.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM kehoach_schema").all() == [(SCHEMA_VERSION,)]


def test_a_database_from_a_newer_kehoach_is_refused(ledger, raw, database_url):
    ledger.dispose()
    with raw.begin() as conn:
        conn.exec_driver_sql(f"UPDATE kehoach_schema SET version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LedgerError, match="nâng cấp Kehoach") as raised:
        Ledger(database_url)
    assert f"phiên bản {SCHEMA_VERSION + 1}" in str(raised.value)


def test_a_new_migration_is_applied_once_when_a_ledger_first_connects(ledger, raw, database_url, monkeypatch):
    ledger.append(REF, [ev("kept")])
    ledger.dispose()
    calls = []

    def v_next_probe(conn):
        calls.append(1)
        conn.exec_driver_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*ledger_module.MIGRATIONS, v_next_probe])
    with Ledger(database_url) as upgraded:
        assert keys(upgraded.events(REF.plan_id)) == ["kept"]
    with Ledger(database_url):
        pass

    assert calls == [1]
    with raw.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM kehoach_schema").all() == [(SCHEMA_VERSION + 1,)]
        assert "probe" in sa.inspect(conn).get_table_names()


def test_a_failing_migration_leaves_the_database_at_its_old_version(ledger, raw, database_url, monkeypatch):
    ledger.dispose()

    def v_next_broken(conn):
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("THIS IS NOT SQL")

    monkeypatch.setattr(ledger_module, "MIGRATIONS", [*ledger_module.MIGRATIONS, v_next_broken])
    with pytest.raises(LedgerError, match="lược đồ"):
        Ledger(database_url)
    with raw.connect() as conn:
        assert conn.exec_driver_sql("SELECT version FROM kehoach_schema").all() == [(SCHEMA_VERSION,)]
        assert "half_done" not in sa.inspect(conn).get_table_names()


# -- SQLite settings -------------------------------------------------------------------------------


@pytest.fixture
def sqlite_path(tmp_path) -> Path:
    return tmp_path / "ledger.sqlite"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_path):
    with Ledger(f"sqlite:///{sqlite_path}") as ledger:
        with ledger._engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("busy_timeout") == 30000
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("foreign_keys") == 1
    with sqlite3.connect(sqlite_path) as plain:  # WAL is a property of the file itself
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_sqlite_append_waits_for_another_writer_instead_of_failing(sqlite_path):
    with Ledger(f"sqlite:///{sqlite_path}", clock=lambda: NOW) as ledger:
        other = sqlite3.connect(sqlite_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock...
        release = threading.Timer(0.5, lambda: other.execute("COMMIT"))  # ...for half a second
        release.start()
        try:
            assert keys(ledger.append(REF, [ev("after-wait")])) == ["after-wait"]
        finally:
            release.join()
            other.close()


# -- bad URLs --------------------------------------------------------------------------------------

PASSWORD = "Mật-khẩu_S3cret!"


def _all_messages(exc: BaseException) -> str:
    """The text of the error and of everything chained to it, as a traceback would show them."""
    seen, texts = set(), []
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(texts)


def test_an_unreachable_postgresql_url_gives_a_plain_error_without_the_password():
    url = sa.URL.create(
        "postgresql+psycopg", username="kehoach", password=PASSWORD, host="127.0.0.1", port=1,
        database="kehoach", query={"connect_timeout": "5"},
    ).render_as_string(hide_password=False)
    assert PASSWORD not in url  # it is percent-encoded in the URL: check both spellings below
    with pytest.raises(LedgerError) as raised:
        Ledger(url)
    message = str(raised.value)
    assert "127.0.0.1" in message and "kehoach:***@" in message
    assert "Không kết nối được" in message
    everything = _all_messages(raised.value)
    encoded = url.split("kehoach:", 1)[1].split("@", 1)[0]
    for spelling in (PASSWORD, encoded):
        assert spelling not in everything


def test_a_malformed_url_gives_a_plain_error_without_the_password():
    with pytest.raises(LedgerError) as raised:
        Ledger("postgresql+psycopg://kehoach:S3cret-pw@127.0.0.1:not-a-port/kehoach")
    assert "không hợp lệ" in str(raised.value)
    assert "S3cret-pw" not in _all_messages(raised.value)


def test_an_unsupported_database_is_refused_plainly():
    with pytest.raises(LedgerError, match="chỉ hỗ trợ SQLite và PostgreSQL") as raised:
        Ledger("mysql://kehoach:S3cret-pw@127.0.0.1/kehoach")
    assert "S3cret-pw" not in _all_messages(raised.value)


def test_a_sqlite_file_in_a_missing_folder_gives_a_plain_error(tmp_path):
    with pytest.raises(LedgerError, match="Không kết nối được") as raised:
        Ledger(f"sqlite:///{tmp_path / 'missing' / 'ledger.sqlite'}")
    assert "ledger.sqlite" in str(raised.value)


def test_plain_postgresql_urls_use_the_shipped_psycopg_driver():
    with pytest.raises(LedgerError) as raised:
        Ledger("postgresql://kehoach@127.0.0.1:1/kehoach?connect_timeout=5")
    assert "postgresql+psycopg://kehoach@127.0.0.1:1/kehoach" in str(raised.value)


@pytest.mark.skipif(not POSTGRES_URL, reason="KEHOACH_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_postgresql_payload_column_is_jsonb(ledger, raw):
    with raw.connect() as conn:
        [column] = [c for c in sa.inspect(conn).get_columns("events") if c["name"] == "payload"]
    assert column["type"].__class__.__name__ == "JSONB"


# -- the ledger never imports Prefect --------------------------------------------------------------


def test_the_ledger_module_does_not_import_prefect():
    code = "import sys, plan.ledger; sys.exit(any(m == 'prefect' or m.startswith('prefect.') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_a_ledger_recreated_at_the_same_path_is_a_different_ledger(tmp_path):
    path = tmp_path / "ledger.sqlite"
    first = Ledger(f"sqlite:///{path}")
    same = Ledger(f"sqlite:///{path}")
    assert first.instance_id == same.instance_id and len(first.instance_id) == 32
    first.dispose()
    same.dispose()
    path.unlink()
    again = Ledger(f"sqlite:///{path}")
    assert again.instance_id != first.instance_id
    again.dispose()


def test_a_schema_version_that_is_not_a_number_is_a_ledger_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger(url) as ledger, ledger.transaction(write=True) as conn:
        conn.execute(sa.text("UPDATE kehoach_schema SET version = 'abc'"))
    with pytest.raises(LedgerError, match="«abc», không phải một số"):
        Ledger(url)
