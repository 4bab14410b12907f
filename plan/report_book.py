"""The upward report's life in the ledger: each draft of a period, each return with comments, each
approval (the records office's number, the signing, the PDF that goes out). Written once, never
updated; a correction is a new approval that names the one it replaces.

No Prefect here: `kehoach report`, `kehoach report approve` and the `upward-report` flow share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from plan.ledger import Ledger
from plan.ledger_tables import UTC, events_table, report_drafts_table, report_reviews_table
from plan.nfc import nfc

RETURNED = "returned"
APPROVED = "approved"


@dataclass(frozen=True)
class StoredFile:
    """A file as it was when recorded: where it was and the SHA-256 of its bytes."""

    path: str
    sha256: str
    kind: str = ""

    @classmethod
    def of(cls, path: Path | str, kind: str = "") -> StoredFile:
        return cls(path=str(Path(path).resolve()), sha256=file_sha256(Path(path)), kind=kind)

    def unchanged(self) -> bool:
        """Whether the file is still there with the same bytes."""
        path = Path(self.path)
        return path.is_file() and file_sha256(path) == self.sha256

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "sha256": self.sha256}


@dataclass(frozen=True)
class Draft:
    id: int
    plan_id: str
    period: str
    version: int
    made_at: dt.datetime
    made_by: str
    as_of: dt.date
    files: tuple[StoredFile, ...]
    placeholders: tuple[str, ...]
    last_event: int

    def file(self, kind: str) -> StoredFile | None:
        return next((f for f in self.files if f.kind == kind), None)


@dataclass(frozen=True)
class Review:
    """A draft returned with comments, or approved (then the number, the signing and the PDF sent)."""

    id: int
    plan_id: str
    period: str
    draft_version: int
    decision: str
    decided_by: str
    decided_at: dt.datetime
    comments: str | None = None
    number: str | None = None
    number_symbol: str | None = None
    signed_on: dt.date | None = None
    signer: str | None = None
    signed_pdf: StoredFile | None = None
    sent_pdf: StoredFile | None = None
    replaces: int | None = None

    @property
    def approved(self) -> bool:
        return self.decision == APPROVED


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ReportBook:
    """The report tables of one ledger."""

    def __init__(self, ledger: Ledger, *, clock: Callable[[], dt.datetime] | None = None):
        self.ledger = ledger
        self._clock = clock or (lambda: dt.datetime.now(UTC))

    # -- writing -----------------------------------------------------------------------------------

    def record_draft(
        self, plan_id: str, period: str, as_of: dt.date, files: tuple[StoredFile, ...], placeholders: tuple[str, ...], made_by: str
    ) -> Draft:
        """A new draft of the period: the next version, the plan's newest event id noted with it."""
        t = report_drafts_table
        with self.ledger.transaction(write=True) as conn:
            version = conn.execute(sa.select(sa.func.max(t.c.version)).where(t.c.plan_id == nfc(plan_id), t.c.period == period)).scalar()
            last_event = conn.execute(sa.select(sa.func.max(events_table.c.id)).where(events_table.c.plan_id == nfc(plan_id))).scalar()
            row = {
                "plan_id": nfc(plan_id),
                "period": period,
                "version": (version or 0) + 1,
                "made_at": self._now(),
                "made_by": nfc(made_by),
                "as_of": as_of,
                "files": [f.as_json() for f in files],
                "placeholders": [nfc(p) for p in placeholders],
                "last_event": last_event or 0,
            }
            new_id = conn.execute(t.insert().values(**row).returning(t.c.id)).scalar_one()
        return _draft({**row, "id": new_id})

    def record_return(self, draft: Draft, by: str, comments: str) -> Review:
        """The draft sent back to the compiling unit with the reviewer's comments."""
        return self._review(draft, decision=RETURNED, decided_by=by, comments=comments)

    def record_approval(
        self,
        draft: Draft,
        *,
        number: str,
        number_symbol: str,
        signed_on: dt.date,
        signer: str,
        by: str,
        sent_pdf: StoredFile,
        signed_pdf: StoredFile | None = None,
        replaces: int | None = None,
        comments: str | None = None,
    ) -> Review:
        """The draft approved: the number, the signing, and the PDF the recipients will get."""
        return self._review(
            draft, decision=APPROVED, decided_by=by, comments=comments, number=number, number_symbol=number_symbol,
            signed_on=signed_on, signer=signer, signed_pdf=signed_pdf, sent_pdf=sent_pdf, replaces=replaces,
        )

    def _review(self, draft: Draft, **values: Any) -> Review:
        t = report_reviews_table
        row = {"plan_id": draft.plan_id, "period": draft.period, "draft_version": draft.version, "decided_at": self._now(), **values}
        row = {k: (nfc(v) if isinstance(v, str) else v) for k, v in row.items()}
        stored = {k: (v.as_json() if isinstance(v, StoredFile) else v) for k, v in row.items()}
        with self.ledger.transaction(write=True) as conn:
            new_id = conn.execute(t.insert().values(**stored).returning(t.c.id)).scalar_one()
        return _review({**stored, "id": new_id})

    # -- reading -----------------------------------------------------------------------------------

    def drafts(self, plan_id: str, period: str) -> list[Draft]:
        t = report_drafts_table
        query = sa.select(t).where(t.c.plan_id == nfc(plan_id), t.c.period == period).order_by(t.c.version)
        with self.ledger.transaction(write=False) as conn:
            return [_draft(row) for row in conn.execute(query).mappings()]

    def latest_draft(self, plan_id: str, period: str) -> Draft | None:
        found = self.drafts(plan_id, period)
        return found[-1] if found else None

    def reviews(self, plan_id: str, period: str) -> list[Review]:
        """Every return and approval of the period, oldest first."""
        t = report_reviews_table
        query = sa.select(t).where(t.c.plan_id == nfc(plan_id), t.c.period == period).order_by(t.c.id)
        with self.ledger.transaction(write=False) as conn:
            return [_review(row) for row in conn.execute(query).mappings()]

    def approval(self, plan_id: str, period: str) -> Review | None:
        """The approval in force: the latest one of the period."""
        approvals = [r for r in self.reviews(plan_id, period) if r.approved]
        return approvals[-1] if approvals else None

    def events_since(self, draft: Draft) -> int:
        """Events of the plan recorded after the draft was made, dated on or before its as_of (or
        undated): what would make the same draft come out different if rendered again."""
        t = events_table
        query = sa.select(sa.func.count()).where(
            t.c.plan_id == draft.plan_id, t.c.id > draft.last_event, sa.or_(t.c.effective_date.is_(None), t.c.effective_date <= draft.as_of)
        )
        with self.ledger.transaction(write=False) as conn:
            return int(conn.execute(query).scalar_one())

    def _now(self) -> dt.datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the report book's clock must return aware datetimes")
        return now.astimezone(UTC)


def _stored(value: Any) -> StoredFile | None:
    if not value:
        return None
    return StoredFile(path=value["path"], sha256=value["sha256"], kind=value.get("kind", ""))


def _draft(row: Any) -> Draft:
    return Draft(
        id=row["id"],
        plan_id=row["plan_id"],
        period=row["period"],
        version=row["version"],
        made_at=row["made_at"],
        made_by=row["made_by"],
        as_of=row["as_of"],
        files=tuple(f for f in (_stored(v) for v in row["files"] or ()) if f is not None),
        placeholders=tuple(row["placeholders"] or ()),
        last_event=row["last_event"],
    )


def _review(row: Any) -> Review:
    return Review(
        id=row["id"],
        plan_id=row["plan_id"],
        period=row["period"],
        draft_version=row["draft_version"],
        decision=row["decision"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        comments=row.get("comments"),
        number=row.get("number"),
        number_symbol=row.get("number_symbol"),
        signed_on=row.get("signed_on"),
        signer=row.get("signer"),
        signed_pdf=_stored(row.get("signed_pdf")),
        sent_pdf=_stored(row.get("sent_pdf")),
        replaces=row.get("replaces"),
    )
