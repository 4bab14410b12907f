"""SLOW INTEGRATION TEST (issue 13 §4): a unit sends the form of the stage a deployed `content-item`
run is suspended for, and the run resumes and completes.

`kehoach serve` on a PostgreSQL ledger of its own (a database created on KEHOACH_TEST_POSTGRES_URL
and dropped at the end); `content-item/content-item` is run as in test_deployed.py and suspends
waiting for a stage. The forms' application (kehoach/forms/app.py) is served by uvicorn in a thread
of this process on 127.0.0.1, its date fixed to the run's, its Settings built from a mapping that
names the stack's Prefect server (with its password) and the same ledger. The test signs the link a
digest would carry for the lead unit, GETs the form with httpx, reads its hidden CSRF field and POSTs
the outcome. The app records it and resumes the waiting run (flows/resume.py), which completes
without waiting again; the ledger holds the outcome once, the form's.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from stack import ServedStack, create_database, drop_databases, free_port, on_uvicorn, served_stack
from test_deployed import (
    ITEM_ID,
    _outcome_for,
    _outcomes,
    _plan,
    _start_run,
    _suspensions,
    _wait_for_state,
    _wait_until_suspended,
)

from kehoach.settings import Settings
from notifications.form_links import FormLinks, answering_units
from plan.model import Stage

AS_OF = "2023-05-17"  # a date of its own: stage results are cached by plan, item, stage and date
SECRET = "form-resumes-a-run-secret-0123456789"
REPORTER = "Nguyễn Thị Lan"

pytestmark = pytest.mark.skipif(not os.environ.get("KEHOACH_TEST_POSTGRES_URL"),
                                reason="KEHOACH_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL cluster and sets it)")


@pytest.fixture(name="stack")
def fixture_stack(tmp_path) -> Iterator[ServedStack]:
    """`kehoach serve` on a new PostgreSQL database (Prefect's beside it); both dropped at the end."""
    admin = os.environ["KEHOACH_TEST_POSTGRES_URL"]
    name = f"kehoach_resume_{secrets.token_hex(4)}"
    url = create_database(admin, name)
    try:
        with served_stack(tmp_path / "stack", database_url=url, workers=1) as stack:
            yield stack
    finally:
        drop_databases(admin, name, f"{name}_prefect")


@pytest.fixture(name="client")
def fixture_client(stack: ServedStack):
    with stack.client() as client:
        yield client


@pytest.fixture(name="forms")
def fixture_forms(stack: ServedStack) -> Iterator[tuple[Settings, Any]]:
    """The forms' application for the stack's server and ledger, on uvicorn in a thread, its date the
    run's; stopped through the server's handle."""
    from kehoach.forms.app import create_app

    port = free_port()
    assert stack.database_url
    settings = Settings.from_mapping({
        "KEHOACH_HOME": str(stack.kehoach_home),
        "KEHOACH_DATABASE_URL": stack.database_url,
        "KEHOACH_FORMS_SECRET": SECRET,
        "KEHOACH_FORMS_URL": f"http://127.0.0.1:{port}",
        "PREFECT_API_URL": stack.api_url,
        "PREFECT_API_AUTH_STRING": stack.auth,
    })
    assert settings.has_server and settings.has_forms
    app = create_app(settings, today=lambda: dt.date.fromisoformat(AS_OF))
    with on_uvicorn(app, port, timeout=60, log_level="info"):
        yield settings, app


class _Inputs(HTMLParser):
    """The <input>s of a page: name → value."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.inputs[str(named["name"])] = named.get("value") or ""


def _form_body(payload: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """An outcome as the form's inputs send it: nested names with dots, a checked box present."""
    body: dict[str, str] = {}
    for key, value in payload.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            body.update(_form_body(value, f"{name}."))
        elif isinstance(value, bool):
            if value:
                body[name] = "on"
        elif value is not None:
            body[name] = str(value)
    return body


def test_sending_a_units_form_resumes_the_suspended_run_which_completes(stack, client, forms, caplog):
    import httpx

    settings, app = forms
    started = time.monotonic()
    plan = _plan()
    item = plan.item(ITEM_ID)

    run_id = _start_run(AS_OF)
    waiting = _wait_until_suspended(stack, client, run_id, AS_OF)
    payload, _ = _outcome_for(waiting.stage, AS_OF)
    assert not _outcomes(stack, waiting.stage), "nothing recorded for the stage the run waits for"

    # The link a digest carries for the unit that reports the item (the lead).
    [unit] = answering_units(plan, item)
    counterpart = payload.get("counterpart") if waiting.stage == Stage.COORDINATION else None
    link = FormLinks(settings.forms_url, SECRET, plan.id, issued=dt.date.fromisoformat(AS_OF)).form(
        unit, item.id, waiting.occurrence, waiting.stage.value, counterpart)

    with httpx.Client(timeout=60, follow_redirects=False) as http:
        page = http.get(link)
        assert page.status_code == 200, page.text[:2000]
        parser = _Inputs()
        parser.feed(page.text)
        assert parser.inputs.get("csrf"), "the form carries no CSRF field"
        body = {"csrf": parser.inputs["csrf"], "reporter": REPORTER,
                **_form_body({k: v for k, v in payload.items() if k != "counterpart"})}
        sent = http.post(link, data=body)
        assert sent.status_code == 303, f"{sent.status_code}: {re.sub(r'<[^>]+>', ' ', sent.text)[:2000]}"
        assert sent.headers["location"].endswith("?ket-qua=da-ghi"), sent.headers["location"]
        # The resume runs after the answer (a background task): the run leaves its pause.
        _wait_for_state(stack, client, run_id, "COMPLETED")

        done = http.get(link + "?ket-qua=da-ghi")
        assert done.status_code == 200 and REPORTER in done.text

    outcomes = _outcomes(stack, waiting.stage)
    assert len(outcomes) == 1, f"the outcome must be recorded once, by the form: {[(e.payload, e.actor) for e in outcomes]}"
    [outcome] = outcomes
    assert outcome.payload == payload
    assert outcome.occurrence == waiting.occurrence
    assert outcome.actor.startswith(f"{REPORTER} — "), outcome.actor
    assert "biểu mẫu" in outcome.actor, outcome.actor
    # Resumed for the stage it waited for, the run took that outcome and ended; it did not wait again.
    assert _suspensions(client, run_id) == [waiting.key]
    failures = [r.getMessage() for r in caplog.records if r.name == "kehoach.forms" and r.levelname in ("WARNING", "ERROR")]
    assert not failures, failures
    print(f"\nform → resumed run {run_id} completed; {time.monotonic() - started:.0f} s from the run's start")
