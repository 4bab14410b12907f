"""Fixtures of the forms' tests: the 2023 plan, a ledger in the test's tmp dir, the application
with a fixed date and a recorded resume (formkit.py), and links signed for it."""

from __future__ import annotations

import pytest
from formkit import AS_OF, Forms, Resumed, make_settings
from starlette.testclient import TestClient

from kehoach.forms.app import create_app
from plan.load import DEFAULT_PLAN, load_plan


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
