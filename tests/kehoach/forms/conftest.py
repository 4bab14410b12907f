"""Fixtures of the forms' tests: the 2023 plan, a ledger in the test's tmp dir, the application
with a fixed date and a recorded resume, and links signed for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.testclient import TestClient

from kehoach.forms.app import create_app
from kehoach.settings import Settings
from notifications.form_links import FormGrant, TodoGrant, sign
from plan.load import DEFAULT_PLAN, load_plan
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


@pytest.fixture(name="forms")
def fixture_forms(tmp_path):
    settings = make_settings(tmp_path)
    resumed = Resumed()
    app = create_app(settings, today=lambda: AS_OF, resume=resumed)
    with TestClient(app, base_url="http://testserver", follow_redirects=True) as client:
        yield Forms(client, settings, resumed)


@pytest.fixture(name="plan2023", scope="session")
def fixture_plan2023():
    return load_plan(DEFAULT_PLAN).plan
