"""The ledger's tables: the events, the outbox beside them, the schema version and instance rows,
and the states the events add up to (migration 4). Definitions only; `plan.ledger` creates and
migrates them, `plan.ledger_states` keeps the states.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from plan.model import Stage

UTC = dt.UTC


class _UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in and out; SQLite stores them naive (in UTC) and we put the zone back."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger only stores aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

schema_table = sa.Table(
    "kehoach_schema",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

# One row naming this database: a ledger recreated at the same path is a different ledger, so
# anything cached against the old one (Prefect task results) must not be taken for it.
instance_table = sa.Table(
    "kehoach_instance",
    metadata,
    sa.Column("id", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)

# What a queued mail attaches, frozen when it was queued (a report rewritten later, or a home copied
# elsewhere, must not change what goes out): each file's bytes once, by their SHA-256; an outbox
# row's `attachments` lists {"name", "sha256", "size"} (before migration 5: file paths).
outbox_files_table = sa.Table(
    "outbox_files",
    metadata,
    sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
)

# The outbox lives beside the events: a mail is queued in the same database before anything is sent.
# Its status is operational state (queued → sending → sent | failed) and is updated in place;
# what happened in the plan stays in `events`.
outbox_table = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("plan_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    # {"to": [[email, name]...], "cc": [...]}, and for a mail with its own: "reply_to" [...], "sender_name"
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("attachments", sa.JSON, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("permanent", sa.Boolean, nullable=False, default=False),
    sa.Column("next_attempt_at", _UTCDateTime(), nullable=True),
    sa.Column("queued_at", _UTCDateTime(), nullable=False),
    sa.Column("claimed_at", _UTCDateTime(), nullable=True),
    sa.Column("sent_at", _UTCDateTime(), nullable=True),
    sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
    sqlite_autoincrement=True,
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Text, nullable=False),
    sa.Column("plan_hash", sa.Text, nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("occurrence", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=True),
    sa.Column("counterpart", sa.Text, nullable=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=True),
    sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("recorded_at", _UTCDateTime(), nullable=False),
    sa.Column("effective_date", sa.Date, nullable=True),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.UniqueConstraint("idempotency_key", name="uq_events_idempotency_key"),
    sa.Index("ix_events_plan_item_occurrence_id", "plan_id", "item", "occurrence", "id"),
    sa.Index("ix_events_plan_id", "plan_id", "id"),
    # AUTOINCREMENT: SQLite never hands out an id twice, so `after_id` cursors stay meaningful.
    sqlite_autoincrement=True,
)


# -- states: what the events add up to, kept beside them ------------------------------------------
# A "latest" group of columns holds, for one occurrence (or invitation), its latest event of one sort
# (id, effective date, what it says), the one before it, and how many there were. The latest as of
# an earlier day (or within a window of days) is then the latest if it is dated so, else the one
# before if that one is, else none when there were at most two; only with three or more, the newer
# two dated otherwise, must a reader go back to the events.

STAGE_NAMES = tuple(s.value for s in Stage)
OPENED = "opened"  # the first `occurrence_opened` event of an occurrence, with the days it gives
EXECUTION_OUTCOME = "execution_outcome"  # the `outcome` events of the execution stage
ANSWER = "answer"  # an invitation's `counterpart_status` events

_Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _latest_columns(name: str, *fields: str) -> list[sa.Column]:
    columns: list[sa.Column] = []
    for which in (name, f"{name}_previous"):
        columns += [sa.Column(f"{which}_event", _Id, nullable=True), sa.Column(f"{which}_on", sa.Date, nullable=True)]
        columns += [sa.Column(f"{which}_{field}", sa.Text, nullable=True) for field in fields]
    return [*columns, sa.Column(f"{name}_count", sa.Integer, nullable=False, default=0)]


# One row per occurrence that has a stage status, an execution outcome or was opened.
occurrence_states_table = sa.Table(
    "occurrence_states",
    metadata,
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("item", sa.Text, primary_key=True),
    sa.Column("occurrence", sa.Text, primary_key=True),
    sa.Column(f"{OPENED}_event", _Id, nullable=True),
    sa.Column(f"{OPENED}_on", sa.Date, nullable=True),
    # The payload's "start" and "end" (ISO dates). A start that is not one, or an end that is neither
    # one nor missing, leaves both NULL: readers then go back to the event.
    sa.Column(f"{OPENED}_start", sa.Date, nullable=True),
    sa.Column(f"{OPENED}_end", sa.Date, nullable=True),
    sa.Column(f"{OPENED}_count", sa.Integer, nullable=False, default=0),
    *(column for stage in STAGE_NAMES for column in _latest_columns(stage, "status")),  # `stage_status` events
    *_latest_columns(EXECUTION_OUTCOME, "indicators"),  # the payload's "indicators" as JSON text
)

# One row per invitation: (occurrence, counterpart), from `counterpart_status` events naming both a
# counterpart and a stage.
invitation_states_table = sa.Table(
    "invitation_states",
    metadata,
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("item", sa.Text, primary_key=True),
    sa.Column("occurrence", sa.Text, primary_key=True),
    sa.Column("counterpart", sa.Text, primary_key=True),
    *_latest_columns(ANSWER, "status"),
)

# Every `outcome` event whose payload has a "note" (non-empty text), with what a report shows of it.
outcome_notes_table = sa.Table(
    "outcome_notes",
    metadata,
    sa.Column("event", _Id, primary_key=True, autoincrement=False),
    sa.Column("plan_id", sa.Text, nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("occurrence", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=True),
    sa.Column("effective_date", sa.Date, nullable=True),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Index("ix_outcome_notes_plan_date", "plan_id", "effective_date"),
)

# How many events of a plan are dated on each day (events without a date are not counted).
event_days_table = sa.Table(
    "event_days",
    metadata,
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("effective_date", sa.Date, primary_key=True),
    sa.Column("events", sa.Integer, nullable=False),
)

STATE_TABLES = (occurrence_states_table, invitation_states_table, outcome_notes_table, event_days_table)


def insert_for(dialect_name: str):
    """The dialect's INSERT, which has ON CONFLICT."""
    return {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect_name]


# -- the upward report's life (migration 6): its drafts, each returned with comments or approved ----
# Nothing is sent to the recipients without an approval row; an approval names the draft it signs
# off, the records office's number and the PDF that goes out (the signed scan, or the draft again
# with the number and the signing date).

report_drafts_table = sa.Table(
    "report_drafts",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),  # 1, 2… per plan and period
    sa.Column("made_at", _UTCDateTime(), nullable=False),
    sa.Column("made_by", sa.Text, nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("files", sa.JSON, nullable=False),  # [{"kind": "pdf", "path", "sha256"}…]
    sa.Column("placeholders", sa.JSON, nullable=False),  # what the drafter must still write
    sa.Column("last_event", _Id, nullable=False),  # the plan's newest event id when it was drafted
    sa.UniqueConstraint("plan_id", "period", "version", name="uq_report_drafts_version"),
    sqlite_autoincrement=True,
)

report_reviews_table = sa.Table(
    "report_reviews",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("plan_id", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("draft_version", sa.Integer, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),  # "returned" | "approved"
    sa.Column("decided_by", sa.Text, nullable=False),
    sa.Column("decided_at", _UTCDateTime(), nullable=False),
    sa.Column("comments", sa.Text, nullable=True),
    # An approval's: the number from the records office, its full form (125/BC-SVHTT), the signing.
    sa.Column("number", sa.Text, nullable=True),
    sa.Column("number_symbol", sa.Text, nullable=True),
    sa.Column("signed_on", sa.Date, nullable=True),
    sa.Column("signer", sa.Text, nullable=True),
    sa.Column("signed_pdf", sa.JSON, nullable=True),  # {"path", "sha256"} of the signed scan, if given
    sa.Column("sent_pdf", sa.JSON, nullable=True),  # {"path", "sha256"} of the PDF the recipients get
    sa.Column("replaces", _Id, nullable=True),  # the approval this one corrects (--replace)
    sa.Index("ix_report_reviews_plan_period", "plan_id", "period", "id"),
    sqlite_autoincrement=True,
)

REPORT_TABLES = (report_drafts_table, report_reviews_table)
