"""The links in the mail that open a unit's form: a token signed with the server's secret
(itsdangerous), bound to the plan, the unit and what it may answer, valid for a number of days.

A `FormGrant` names one stage of one occurrence of one item (and, for coordination, one
counterpart): the form behind the link reads and records that stage only, for that unit. A
`TodoGrant` opens the unit's page of what it must report ("Việc cần làm"); the directors' one
(`unit=None`) lists every unit. Rotating the secret revokes every link already sent. Pure: no
Prefect, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from plan.model import Item, Plan

LINK_DAYS = 45  # how long a link in a mail stays valid, by default
_FORM, _TODO = "kehoach-form-v1", "kehoach-todo-v1"  # salts: a page token never opens a form


class LinkRefused(ValueError):
    """A link that cannot be used: tampered with, signed with another secret, or too old."""

    def __init__(self, reason: str, expired: bool = False):
        self.expired = expired
        super().__init__(reason)


@dataclass(frozen=True)
class FormGrant:
    plan_id: str
    unit: str  # the unit answering (the lead, or a coordinating unit for its own part)
    item: str  # item id
    occurrence: str  # "main", "2023-05", "2023-08-01-dsq-singapore"
    stage: str  # preparation | coordination | execution | reporting
    counterpart: str | None = None  # coordination: the counterpart whose answer is recorded


@dataclass(frozen=True)
class TodoGrant:
    plan_id: str
    unit: str | None  # None: the directors' view of every unit


def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    if not secret or len(secret) < 16:
        raise ValueError("the forms' secret must be at least 16 characters")
    return URLSafeTimedSerializer(secret, salt=salt)


def sign(grant: FormGrant | TodoGrant, secret: str) -> str:
    """The token for a link: the grant, signed and timestamped now."""
    salt = _FORM if isinstance(grant, FormGrant) else _TODO
    return str(_serializer(secret, salt).dumps(asdict(grant)))


def _read(token: str, secret: str, salt: str, max_age_days: int) -> dict:
    try:
        data = _serializer(secret, salt).loads(token, max_age=max_age_days * 86_400)
    except SignatureExpired:
        raise LinkRefused(f"đường dẫn đã hết hạn (quá {max_age_days} ngày)", expired=True) from None
    except BadSignature:
        raise LinkRefused("đường dẫn không hợp lệ hoặc đã bị thu hồi") from None
    if not isinstance(data, dict):
        raise LinkRefused("đường dẫn không hợp lệ hoặc đã bị thu hồi")
    return data


def read_form(token: str, secret: str, max_age_days: int = LINK_DAYS) -> FormGrant:
    data = _read(token, secret, _FORM, max_age_days)
    try:
        return FormGrant(**data)
    except TypeError:
        raise LinkRefused("đường dẫn không hợp lệ hoặc đã bị thu hồi") from None


def read_todo(token: str, secret: str, max_age_days: int = LINK_DAYS) -> TodoGrant:
    data = _read(token, secret, _TODO, max_age_days)
    try:
        return TodoGrant(**data)
    except TypeError:
        raise LinkRefused("đường dẫn không hợp lệ hoặc đã bị thu hồi") from None


def form_url(base_url: str, token: str) -> str:
    """`https://kehoach.svhtt.hanoi.example/bieu-mau/<token>`."""
    return f"{base_url.rstrip('/')}/bieu-mau/{quote(token, safe='')}"


def todo_url(base_url: str, token: str) -> str:
    """`https://kehoach.svhtt.hanoi.example/viec-can-lam/<token>`."""
    return f"{base_url.rstrip('/')}/viec-can-lam/{quote(token, safe='')}"


def expires_on(issued: dt.date, days: int = LINK_DAYS) -> dt.date:
    """The last day a link issued on `issued` opens (said in the mail)."""
    return issued + dt.timedelta(days=days)


@dataclass(frozen=True)
class FormLinks:
    """What the mail templates are given to write links: the forms' address, the secret that signs
    them and the plan they belong to. Built by the job that queues the mail, from the settings; the
    mail is written without links (and says whom to send results to) when there is none."""

    base_url: str
    secret: str
    plan_id: str
    days: int = LINK_DAYS
    issued: dt.date | None = None  # the day the links are signed (said in the mail as "valid until")

    def form(self, unit: str, item: str, occurrence: str, stage: str, counterpart: str | None = None) -> str:
        """The link to the form for one stage of one occurrence (and one counterpart), for `unit`."""
        grant = FormGrant(self.plan_id, unit, item, occurrence, stage, counterpart)
        return form_url(self.base_url, sign(grant, self.secret))

    def todo(self, unit: str | None) -> str:
        """The link to the unit's page "Việc cần làm" (`None`: every unit's, for the directors)."""
        return todo_url(self.base_url, sign(TodoGrant(self.plan_id, unit), self.secret))

    @property
    def valid_until(self) -> dt.date | None:
        return expires_on(self.issued, self.days) if self.issued is not None else None


def answering_units(plan: Plan, item: Item) -> tuple[str, ...]:
    """The units that report an item's stages, and so may hold a link to its forms: the lead when
    it is a unit of the Department; when the lead is outside it (item 6 is led by the city), each
    coordinating unit, for its own part (the same units the reminders go to). Supporting units
    report nothing."""
    units = {u.id for u in plan.units}
    if item.lead in units:
        return (item.lead,)
    return tuple(c for c in item.coordinating if c in units)


def may_answer(plan: Plan, item: Item, unit: str) -> bool:
    """Whether a unit's link may read and record the stages of this item."""
    return unit in answering_units(plan, item)
