"""Mail from the flows to a real SMTP server on 127.0.0.1: digests, invitations, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows import resources
from notifications.outbox import Outbox
from plan.events import plan_ref
from plan.scenario import load_scenario, scenario_events

SAMPLE = Path(__file__).resolve().parents[2] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
WEEK_42 = dt.date(2023, 10, 16)




def _sample(plan, as_of):
    scenario, _ = load_scenario(SAMPLE)
    ledger = resources.ledger()
    ledger.append(plan_ref(plan), scenario_events(plan, scenario, ledger.events(plan.id), as_of, actor="kịch bản"))


def test_digests_reach_every_unit_and_the_directors_once(prefect_api, kehoach_home, plan, smtp):
    from flows.digest import unit_digest

    _sample(plan, WEEK_42)
    unit_digest(as_of=WEEK_42)
    messages = [r.message for r in smtp.handler.received]
    recipients = {address for r in smtp.handler.received for address in r.rcpt_tos}
    expected = {str(e) for u in plan.units for e in u.emails} | {str(e) for e in plan.directors.emails}
    assert recipients == expected and len(messages) == len(plan.units) + 1
    one = next(m for m in messages if "Văn phòng Sở" in str(m["Subject"]))
    assert str(one["Subject"]) == "[Kehoach] Tổng hợp tuần 42/2023 — Văn phòng Sở — Kế hoạch 326/KH-SVHTT"
    assert one["From"].addresses[0].display_name == "Kehoach — Sở Văn hóa và Thể thao Hà Nội"
    text = one.get_body(("plain",)).get_content()
    html = one.get_body(("html",)).get_content()
    assert "Giao lưu văn hoá quốc tế" in text and "<" not in text
    assert "Giao lưu văn hoá quốc tế" in html and "<br>" not in html.split("<body", 1)[0]
    unit_digest(as_of=WEEK_42)
    assert len(smtp.handler.received) == len(messages), "a second run sends nothing"


def test_a_refused_digest_fails_the_run_with_the_reason_and_stays_in_the_outbox(prefect_api, kehoach_home, plan, smtp):
    from flows.digest import unit_digest

    smtp.handler.fail_data("550 5.7.1 Hộp thư không nhận thư tự động", times=None)
    state = unit_digest(as_of=WEEK_42, unit="van-phong", return_state=True)
    assert state.is_failed()
    assert "550" in str(state.message) or "550" in repr(state.result(raise_on_failure=False))
    entries = Outbox(resources.ledger()).entries()
    assert [(e.status, e.permanent) for e in entries] == [("failed", True)]
    assert "550" in entries[0].last_error


def test_the_coordination_stage_invites_each_embassy_once(prefect_api, kehoach_home, plan, smtp):
    from flows.content_item import content_item

    as_of = dt.date(2023, 10, 10)
    content_item("9", as_of=as_of)
    invited = [r for r in smtp.handler.received if any("embassy.example" in a for a in r.rcpt_tos)]
    contacts = {str(c.email) for cp in plan.item(9).counterparts for c in plan.counterpart(cp).contacts}
    assert {a for r in invited for a in r.rcpt_tos if "embassy.example" in a} == contacts
    letter = invited[0].message
    body = letter.get_body(("plain",)).get_content()
    assert body.index("THƯ MỜI PHỐI HỢP") < body.index("INVITATION TO COOPERATE")  # Vietnamese, then English
    assert "Giao lưu văn hoá quốc tế" in body or "Giao lưu văn hoá quốc tế" in letter.get_body(("html",)).get_content()
    content_item("9", as_of=dt.date(2023, 10, 11))
    again = [r for r in smtp.handler.received if any("embassy.example" in a for a in r.rcpt_tos)]
    assert len(again) == len(invited), "an invitation goes out once, whatever the date"


def test_under_a_plan_run_the_items_mail_goes_out_once_at_its_end(prefect_api, kehoach_home, plan, smtp, monkeypatch):
    """The plan-run delivers what its items queued in one delivery, after they have settled; an item
    run on its own delivers its own (the test above)."""
    from flows import mail_task
    from flows.plan_run import plan_run

    deliveries: list[int] = []  # what was queued when each delivery began
    real = mail_task.deliver_and_check

    def counted(logger):
        deliveries.append(len(Outbox(resources.ledger()).entries("queued")))
        return real(logger)

    monkeypatch.setattr(mail_task, "deliver_and_check", counted)
    monkeypatch.setattr("flows.plan_run.deliver_and_check", counted)
    plan_run(as_of=dt.date(2023, 10, 10))
    assert len(deliveries) == 1 and deliveries[0] > 0, f"one delivery at the end, with the items' mail in it: {deliveries}"
    assert not Outbox(resources.ledger()).entries("queued"), "everything the items queued went out"
    invited = {a for r in smtp.handler.received for a in r.rcpt_tos if "embassy.example" in a}
    assert invited, "item 9's invitations went out with the plan-run's delivery"
    assert not mail_task._PLAN_RUN_DELIVERS.is_set(), "an item run after the plan-run delivers its own again"
