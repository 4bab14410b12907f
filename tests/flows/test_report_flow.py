"""The upward-report flow on the sample year: files, artifacts' numbers, and the mail to recipients."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

from flows import resources
from plan.events import EventKind, plan_ref
from plan.scenario import load_scenario, scenario_events

SAMPLE = Path(__file__).resolve().parents[2] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"
YEAR_END = dt.date(2023, 12, 31)




def _participants_in_window(events, window) -> int:
    """Independently of reports/: the latest execution outcome per occurrence dated in the window."""
    latest = {}
    for event in events:
        if event.kind == EventKind.OUTCOME and event.stage == "execution" and window[0] <= event.effective_date <= window[1]:
            latest[(event.item, event.occurrence)] = event
    return sum(e.payload.get("indicators", {}).get("participants", 0) for e in latest.values())


def test_the_annual_report_is_written_and_sent_to_each_recipient_once(prefect_api, kehoach_home, plan, smtp):
    from flows.report import upward_report

    scenario, _ = load_scenario(SAMPLE)
    ledger = resources.ledger()
    ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], YEAR_END, actor="kịch bản"))
    result = upward_report(period="2023", as_of=YEAR_END)
    files = {"pdf": result.files.pdf, "docx": result.files.docx, "xlsx": result.files.xlsx}
    assert all(f.exists() and f.stat().st_size > 0 for f in files.values())
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
        # The year's months (not Decree 09's 15/12–14/12 window): item 2's 1,200, recorded on 15/12, count.
        participants = _participants_in_window(ledger.events(plan.id), (dt.date(2023, 1, 1), dt.date(2023, 12, 31)))
        assert participants == 44100
        assert "44.100" in text  # Vietnamese thousands separator
        assert "/BC-SVHTT" in text and "Đỗ Đình Hồng" in text
    bodies = {b.id: b for b in plan.bodies}
    expected_to = {str(e) for r in plan.reporting.recipients for e in bodies[r.body].emails}
    received = smtp.handler.received
    assert {r.message["To"].addresses[0].addr_spec for r in received} == expected_to
    attachments = sorted(p.get_filename() for p in received[0].message.iter_attachments())
    assert attachments == sorted(f.name for f in files.values())
    upward_report(period="2023", as_of=YEAR_END)
    assert len(smtp.handler.received) == len(received), "the report goes to each recipient once"


def test_a_period_without_events_still_gives_a_report_that_says_so(prefect_api, kehoach_home, plan, tmp_path):
    from flows.report import upward_report

    result = upward_report(period="2023-Q1", as_of=dt.date(2023, 3, 31), send=False)
    assert result.events_in_period == 0 and result.sent == ()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", result.files.pdf, "-"], capture_output=True, text=True, check=True).stdout
        assert "chưa ghi nhận" in text
