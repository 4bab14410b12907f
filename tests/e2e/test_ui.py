"""SLOW END-TO-END TEST: what a coordinator sees in the Prefect UI, in a real (headless) browser.

`kehoach serve` runs the Prefect server (basic auth on, its database on PostgreSQL), the deployments
and a worker on 127.0.0.1, with the ledger in a PostgreSQL database of the test's own. The test
triggers `plan-run` for the 2023 plan on 15/05/2023, the way `prefect deployment run` does; each of
the content items with work that day then runs as its own `content-item` run, and those that need a
unit's outcome are suspended waiting for it. Then, in Debian's Chromium:

1. the UI asks for the password first, and takes it;
2. the Runs page lists the item runs by their names (ND n · title · lead · date), each in the
   state the API reports, some Suspended;
3. a suspended run's page shows it waiting, and the log line says for what;
4. the plan-run's artifacts: the progress (100 %), the status table and the status report, with
   what the ledger says of each item;
5. the Resume form, drawn from the stage's outcome model, is filled in and submitted; the run goes
   on and completes, the page says so, and the ledger holds that outcome exactly once, as typed.

Screenshots of each step are kept (the directory is printed; see conftest.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import time
from typing import Any
from uuid import UUID

import pytest
from stack import PREFECT, ServedStack, run, wait_for

from plan.events import EventKind
from plan.load import DEFAULT_PLAN, load_plan
from plan.model import Stage
from plan.outcomes import PreparationOutcome, outcome_payload
from plan.progress import plan_status
from plan.status_views import status_markdown, status_rows

AS_OF = dt.date(2023, 5, 15)
# The run resumed through the form: item 7 waits for its preparation outcome on 15/05/2023.
ITEM_NUMBER = "7"
WAITING_FOR = f"main--{Stage.PREPARATION.value}--{AS_OF.isoformat()}"
UI_ACTOR = "giao diện Prefect"  # flows/content_item.py records Resume-form outcomes as this actor
NOTE = "Kế hoạch chi tiết đã duyệt ngày 12/05; địa điểm: Hoàng thành Thăng Long (nhập qua giao diện)"
PLAN_RUN_TIMEOUT = 300
RESUMED_RUN_TIMEOUT = 120

pytestmark = pytest.mark.skipif(not os.path.exists(PREFECT), reason=f"no prefect executable at {PREFECT}")


@functools.lru_cache(maxsize=1)
def _plan():
    return load_plan(DEFAULT_PLAN).plan


def _item_run_name(item) -> str:
    from flows.labels import item_run_name

    return item_run_name(_plan(), item, AS_OF)


# -- the API side: trigger, wait, read --------------------------------------------------------------


def _trigger_plan_run(stack: ServedStack) -> UUID:
    """`prefect deployment run plan-run/plan-run`, as a coordinator would start it by hand."""
    done = run([PREFECT, "deployment", "run", "plan-run/plan-run", "--param", f"as_of={AS_OF.isoformat()}"], stack.env, timeout=120)
    found = re.search(r"UUID:\s*([0-9a-f-]{36})", done.stdout)
    assert found, f"no flow run id in the output of prefect deployment run:\n{done.stdout}\n{done.stderr}"
    return UUID(found.group(1))


def _state(client, run_id: UUID):
    return client.read_flow_run(run_id).state


def _wait_for_plan_run(stack: ServedStack, client, run_id: UUID) -> None:
    def probe():
        state = _state(client, run_id)
        if state is not None and state.is_final() and not state.is_completed():
            stack.fail(f"plan-run {run_id} ended {state.name}: {state.message}")
        return bool(state and state.is_completed()), f"{state.name if state else None}"

    wait_for(f"plan-run {run_id} to complete (every item run final or suspended)", probe, PLAN_RUN_TIMEOUT, every=1, fail=stack.fail)


def _item_runs(client) -> dict[str, Any]:
    """Item run name -> its flow run, for the runs the plan-run started."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    from plan.schedule import working_calendar
    from plan.workload import work_today

    plan = _plan()
    calendar = working_calendar(plan)
    # The plan-run gives a run to the items with work on AS_OF (on an empty ledger: plan/workload.py).
    names = [_item_run_name(item) for item in plan.items if work_today(plan, item, [], AS_OF, calendar).needs_run(can_wait=True)]
    runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=names)))
    by_name: dict[str, list] = {}
    for r in runs:
        by_name.setdefault(r.name, []).append(r)
    assert sorted(by_name) == sorted(names) and all(len(v) == 1 for v in by_name.values()), (
        f"expected one run per item, named {names}; found {[(n, len(v)) for n, v in by_name.items()]}"
    )
    return {name: runs[0] for name, runs in by_name.items()}


def _logged(client, run_id: UUID, pattern: re.Pattern) -> tuple[bool, Any]:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    messages = [log.message for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))]
    return any(pattern.search(m) for m in messages), messages[-3:]


def _expected_status_rows(stack: ServedStack) -> tuple[list[dict[str, Any]], str]:
    """What the plan-run published, recomputed from the ledger: the table rows and the markdown."""
    plan = _plan()
    with stack.ledger() as ledger:
        statuses = plan_status(plan, ledger.events(plan.id), AS_OF)
    return status_rows(plan, statuses), status_markdown(plan, statuses, AS_OF)


def _outcomes(stack: ServedStack, item_id: str, stage: Stage) -> list:
    with stack.ledger() as ledger:
        return [e for e in ledger.events(_plan().id, item=item_id, kinds=[EventKind.OUTCOME]) if e.stage == stage.value]


def _ledger_keys(stack: ServedStack) -> list[str]:
    with stack.ledger() as ledger:
        return [e.key for e in ledger.events(_plan().id)]


# -- the browser side -----------------------------------------------------------------------------


def _log_in(ui, stack: ServedStack) -> None:
    from playwright.sync_api import expect

    page = ui.page
    page.goto(stack.ui_url)
    login = page.get_by_role("button", name="Login", exact=True)
    expect(login, f"the UI did not ask for the password first {ui.where()}").to_be_visible()
    assert "/login" in page.url, f"the UI's first page is not its login page {ui.where()}"
    ui.shot("login", full_page=False)
    page.get_by_role("textbox").fill(stack.auth)
    login.click()
    expect(page.get_by_role("button", name="Logout", exact=True), f"the password was not taken {ui.where()}").to_be_visible()


def _sidebar(page, name: str):
    """A link of the UI's side bar (it comes before the page's own breadcrumb, which may repeat it)."""
    return page.get_by_role("link", name=name, exact=True).first


def _run_row(page, name: str):
    """The Runs page's entry for a flow run: the list item with its name and its flow's link."""
    return (
        page.get_by_role("listitem")
        .filter(has=page.get_by_role("link", name=name, exact=True))
        .filter(has=page.get_by_role("link", name=re.compile(r"^(content-item|plan-run)$")))
    )


def _state_badge(page, name: str):
    """The state badge of a run's page (Suspended, Resuming, Completed…): the header's only text
    that is the state's name alone (log lines say "Finished in state Completed()")."""
    return page.get_by_role("main").get_by_text(name, exact=True).first


def _newest_logs_first(page):
    """The run page's log, newest line first: the list only draws the lines in view."""
    page.get_by_role("combobox", name="log sort order").click()
    page.get_by_role("option", name="Newest to oldest", exact=True).click()
    return page.get_by_role("log")


def _open_artifact(ui, key: str, title: str) -> None:
    from playwright.sync_api import expect

    page = ui.page
    card = page.get_by_role("link").filter(has=page.get_by_role("heading", name=key, exact=True))
    expect(card, f"the plan-run has no artifact {key} {ui.where()}").to_have_count(1)
    card.click()
    expect(page.get_by_role("tabpanel", name="Artifact"), f"artifact {key} did not open {ui.where()}").to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(title)


# -- the test -------------------------------------------------------------------------------------------


def test_a_coordinator_follows_the_plan_run_and_gives_an_outcome_through_the_resume_form(stack: ServedStack, browser):
    from playwright.sync_api import expect

    plan = _plan()
    page = browser.page
    started = time.monotonic()

    # The plan-run, started as a coordinator would; it returns once every item run is final or waiting.
    plan_run_id = _trigger_plan_run(stack)
    with stack.client() as client:
        _wait_for_plan_run(stack, client, plan_run_id)
        plan_run = client.read_flow_run(plan_run_id)
        item_runs = _item_runs(client)
    states = {name: r.state.name for name, r in item_runs.items()}
    suspended = {name for name, r in item_runs.items() if r.state.is_paused()}
    assert not [n for n, s in states.items() if s not in ("Completed", "Suspended")], f"item runs neither completed nor waiting: {states}"
    item = plan.item(ITEM_NUMBER)
    waiting_name = _item_run_name(item)
    waiting = item_runs[waiting_name]
    assert waiting.state.is_paused() and waiting.state.state_details.pause_key == WAITING_FOR, (
        f"{waiting_name} should wait for {WAITING_FOR}; it is {waiting.state.name} ({waiting.state.state_details.pause_key})"
    )
    expected_rows, expected_markdown = _expected_status_rows(stack)
    print(f"e2e: plan-run settled in {time.monotonic() - started:.0f} s; {len(suspended)} of {len(item_runs)} item runs wait for input")
    browser.lap("plan-run")

    # 1. The password first.
    _log_in(browser, stack)

    # 2. The Runs page: each item run by its name, in its state.
    _sidebar(page, "Runs").click()
    for name, state in states.items():
        row = _run_row(page, name)
        expect(row, f"the Runs page does not list {name!r} {browser.where()}").to_have_count(1)
        expect(row, f"{name!r} is {state} but the Runs page says otherwise {browser.where()}").to_contain_text(state)
    expect(_run_row(page, plan_run.name)).to_contain_text("Completed")
    browser.shot("runs")

    # 3. The waiting run: Suspended, and its log says which outcome it waits for.
    _run_row(page, waiting_name).get_by_role("link", name=waiting_name, exact=True).click()
    expect(page.get_by_role("main"), f"the run page of {waiting_name!r} did not open {browser.where()}").to_contain_text(waiting_name)
    expect(_state_badge(page, "Suspended"), f"the run page does not show the run suspended {browser.where()}").to_be_visible()
    expect(page.get_by_role("link", name="Deployment content-item"), f"the run does not name its deployment {browser.where()}").to_be_visible()
    expect(_newest_logs_first(page), f"the run's log does not say what it waits for {browser.where()}").to_contain_text(
        f"Chờ đơn vị nhập kết quả: {WAITING_FOR}"
    )
    browser.shot("waiting-run")

    # 4. The plan-run's artifacts: progress, status table, status report.
    _sidebar(page, "Runs").click()
    _run_row(page, plan_run.name).get_by_role("link", name=plan_run.name, exact=True).click()
    page.get_by_role("tab", name="Artifacts").click()
    keys = {kind: f"{prefix}-{plan.id}".replace("_", "-")[:64] for kind, prefix in
            (("progress", "plan-progress"), ("table", "plan-status-table"), ("markdown", "plan-status"))}
    for key in keys.values():
        expect(page.get_by_role("heading", name=key, exact=True), f"the plan-run shows no artifact {key} {browser.where()}").to_be_visible()
    browser.shot("plan-run-artifacts")

    _open_artifact(browser, keys["progress"], f"Tiến độ chạy {plan.document.number_symbol} ngày {AS_OF:%d/%m/%Y}")
    expect(page.get_by_role("tabpanel", name="Artifact"), f"the progress is not complete {browser.where()}").to_contain_text("Progress: 100%")
    browser.shot("progress-artifact", full_page=False)
    page.go_back()

    _open_artifact(browser, keys["table"], f"Trạng thái các nội dung, {plan.document.number_symbol}, ngày {AS_OF:%d/%m/%Y}")
    table = page.get_by_role("tabpanel", name="Artifact").get_by_role("table")
    columns = list(expected_rows[0])
    for column in columns:
        expect(table.get_by_role("columnheader", name=column, exact=True), f"the status table has no column {column!r} {browser.where()}").to_be_visible()
    body_rows = table.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(body_rows, f"the status table does not have one row per item {browser.where()}").to_have_count(len(plan.items))
    for row in expected_rows:
        cells = [str(row[c]) for c in columns]
        shown = body_rows.filter(has=page.get_by_role("cell", name=cells[1], exact=True))
        expect(shown, f"no status row for ND {row['ND']} {browser.where()}").to_have_count(1)
        expect(shown.get_by_role("cell"), f"the status row of ND {row['ND']} is not what the ledger says {browser.where()}").to_have_text(cells)
    browser.shot("status-table-artifact")
    page.go_back()

    _open_artifact(browser, keys["markdown"], f"Tình hình thực hiện {plan.document.number_symbol} ngày {AS_OF:%d/%m/%Y}")
    report = page.get_by_role("tabpanel", name="Artifact")
    heading = expected_markdown.splitlines()[0].removeprefix("# ")
    expect(report.get_by_role("heading", name=heading, level=1), f"the status report has no heading {heading!r} {browser.where()}").to_be_visible()
    expect(report).to_contain_text(f"Ngày xét: {AS_OF:%d/%m/%Y}")
    report_rows = report.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(report_rows, f"the status report does not list every item {browser.where()}").to_have_count(len(plan.items))
    for row in expected_rows:
        expect(report_rows.filter(has=page.get_by_role("cell", name=str(row["Nội dung"]), exact=True))).to_contain_text(str(row["Trạng thái"]))
    browser.shot("status-report-artifact")

    # 5. The Resume form of the waiting run, drawn from the preparation outcome model.
    assert not _outcomes(stack, item.id, Stage.PREPARATION), "an outcome was recorded before anyone gave one"
    keys_before = _ledger_keys(stack)
    _sidebar(page, "Runs").click()
    _run_row(page, waiting_name).get_by_role("link", name=waiting_name, exact=True).click()
    expect(_state_badge(page, "Suspended")).to_be_visible()
    browser.lap("back to the waiting run")
    page.get_by_role("main").get_by_role("button", name="Open menu", exact=True).click()
    page.get_by_role("menuitem", name="Resume", exact=True).click()
    form = page.get_by_role("dialog", name="Resume Flow Run")
    expect(form, f"no Resume form {browser.where()}").to_be_visible()
    expect(form).to_contain_text(waiting_name)
    fields = PreparationOutcome.model_fields
    for field in fields.values():
        expect(form, f"the Resume form has no field {field.title!r} {browser.where()}").to_contain_text(field.title)
    browser.lap("resume form open")

    form.get_by_role("button", name=f"Select {fields['result'].title}", exact=True).click()
    page.get_by_role("option", name="done", exact=True).click()
    for name in ("detailed_plan_approved", "budget_allocated", "venue_confirmed"):
        switch = form.get_by_role("switch", name=re.compile("^" + re.escape(fields[name].title)))
        switch.click()
        expect(switch).to_be_checked()
    form.get_by_role("tab", name="str", exact=True).click()  # the note is optional: "str", not "None"
    form.get_by_role("textbox").fill(NOTE)
    browser.shot("resume-form", locator=form)

    given = outcome_payload(PreparationOutcome(result="done", detailed_plan_approved=True, budget_allocated=True, venue_confirmed=True, note=NOTE))
    with page.expect_response(lambda r: r.url.endswith(f"/api/flow_runs/{waiting.id}/resume") and r.request.method == "POST") as sent:
        form.get_by_role("button", name="Resume", exact=True).click()
    response = sent.value
    assert response.ok, f"the UI's resume request was refused: {response.status} {response.text()} {browser.where()}"
    assert response.request.post_data_json == {"run_input": given}, f"the form sent {response.request.post_data_json}, not {given}"
    expect(page.get_by_text("Flow run resumed"), f"no confirmation after Resume {browser.where()}").to_be_visible()
    browser.shot("resumed", full_page=False)

    # The run goes on: it completes (or waits for its next outcome), and the page says so.
    with stack.client() as client:
        def probe():
            state = _state(client, waiting.id)
            if state is not None and state.is_final() and not state.is_completed():
                stack.fail(f"{waiting_name} ended {state.name} after the resume: {state.message}")
            done = state is not None and (state.is_completed() or (state.is_paused() and state.state_details.pause_key != WAITING_FOR))
            return done, (state if done else f"{state.name if state else None} ({state.state_details.pause_key if state else ''})")

        final = wait_for(f"{waiting_name} to go on after the resume", probe, RESUMED_RUN_TIMEOUT, every=1, fail=stack.fail)
        suspensions = [s.state_details.pause_key for s in client.read_flow_run_states(waiting.id) if s.name == "Suspended"]
        # The line the run logs last: the item's status when it ends, or what it waits for next.
        last_line = (
            re.compile(rf"ND {item.number}: \w+, \d+ bước quá hạn")
            if final.is_completed()
            else re.compile(re.escape(f"Chờ đơn vị nhập kết quả: {final.state_details.pause_key}"))
        )
        wait_for(f"the last log line of {waiting_name} to reach the API", lambda: _logged(client, waiting.id, last_line), 60, every=1, fail=stack.fail)
        browser.lap("resumed run")
    assert suspensions.count(WAITING_FOR) == 1, f"{waiting_name} waited for {WAITING_FOR} more than once: {suspensions}"
    page.reload()
    expect(_state_badge(page, final.name), f"the run page does not show the run {final.name} {browser.where()}").to_be_visible()
    expect(_newest_logs_first(page), f"the run's log does not show how it went on {browser.where()}").to_contain_text(last_line)
    browser.shot("after-resume")
    _sidebar(page, "Runs").click()
    expect(_run_row(page, waiting_name), f"the Runs page does not show {waiting_name!r} {final.name} {browser.where()}").to_contain_text(final.name)
    browser.shot("runs-after-resume")

    # The ledger: that outcome, exactly once, as typed, by the UI.
    outcomes = _outcomes(stack, item.id, Stage.PREPARATION)
    assert [(e.payload, e.actor, e.occurrence) for e in outcomes] == [(given, UI_ACTOR, "main")], (
        f"the ledger should hold the outcome once, as given in the form; it holds {[(e.payload, e.actor, e.occurrence) for e in outcomes]}"
    )
    keys_after = _ledger_keys(stack)
    assert keys_after[: len(keys_before)] == keys_before, "events recorded before the resume changed"
    assert len(keys_after) == len(set(keys_after)), "the ledger holds an event twice"
    print(f"e2e: {len(browser.taken)} screenshots in {browser.screenshots}; {time.monotonic() - started:.0f} s after the trigger")
    print(f"e2e: steps: {browser.timing_summary()}")
