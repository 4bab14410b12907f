"""What the forms' tests share: the date, the secret, a recorded resume, the application's client
with links signed for it (the fixtures are in conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from starlette.testclient import TestClient

from kehoach.settings import Settings
from notifications.form_links import FormGrant, TodoGrant, sign
from plan.model import Stage

SECRET = "a-test-secret-that-is-long-enough"
AS_OF = dt.date(2023, 5, 15)
PLAN_ID = "hanoi-svhtt-ttdn-2023"


@dataclass
class Resumed:
    """The calls the application made to resume waiting runs."""

    calls: list[tuple[str, str, Stage, dict[str, Any]]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, plan, item_id: str, occurrence: str, stage: Stage, outcome: dict[str, Any]):
        self.calls.append((item_id, occurrence, stage, outcome))
        if self.fail:
            raise RuntimeError("máy chủ Prefect không trả lời")
        return ["run-1"], []


@dataclass
class Forms:
    client: TestClient
    settings: Settings
    resumed: Resumed
    secret: str = SECRET

    def link(self, item: str = "ngoi-lang-chau-au", stage: str = "preparation", unit: str = "van-phong",
             occurrence: str = "main", counterpart: str | None = None, secret: str | None = None) -> str:
        token = sign(FormGrant(PLAN_ID, unit, item, occurrence, stage, counterpart), secret or self.secret)
        return f"/bieu-mau/{token}"

    def todo(self, unit: str | None = "van-phong") -> str:
        return f"/viec-can-lam/{sign(TodoGrant(PLAN_ID, unit), self.secret)}"

    def ledger(self):
        return self.client.app.state.desk.ledger()  # type: ignore[attr-defined]


def make_settings(tmp_path, **extra: str) -> Settings:
    env = {"KEHOACH_HOME": str(tmp_path / "home"), "KEHOACH_FORMS_SECRET": SECRET, "KEHOACH_FORMS_URL": "http://testserver", **extra}
    return Settings.from_mapping(env)


