"""`kehoach run`: the main job — the items, then the week's digests and the annual report, or the
items alone with --items-only."""

from __future__ import annotations

import datetime as dt
import mailbox
from email.header import decode_header, make_header
from pathlib import Path

from click.testing import CliRunner

from flows import resources
from kehoach.cli.app import cli
from notifications.digest import digest_subject

SAMPLE = Path(__file__).resolve().parents[3] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"


def _subjects(home: Path) -> list[str]:
    box = home / "maildir"
    if not box.exists():
        return []
    return [str(make_header(decode_header(m["Subject"]))) for m in mailbox.Maildir(str(box), create=False)]


def _digests(home: Path, plan) -> list[str]:
    wanted = {digest_subject(plan, dt.date(2023, 12, 31), unit.name) for unit in plan.units}
    return [s for s in _subjects(home) if s in wanted]


def _run(*args: str):
    return CliRunner().invoke(cli, ["run", "--as-of", "2023-12-31", "--scenario", str(SAMPLE), *args], catch_exceptions=False)


def test_items_only_runs_every_item_and_neither_mails_nor_reports(prefect_api, kehoach_home, plan):
    result = _run("--items-only")
    assert result.exit_code == 0, result.output
    for item in plan.items:
        assert f"ND {item.number} {item.short_title}" in result.output
    assert not _digests(kehoach_home, plan), "no digest is sent with --items-only"
    assert not (kehoach_home / "reports").exists(), "no report is written with --items-only"
    assert resources.ledger().events(plan.id), "the items recorded their stages"


def test_the_main_job_ends_with_the_digests_and_the_annual_report(prefect_api, kehoach_home, plan):
    result = _run()
    assert result.exit_code == 0, result.output
    digests = _digests(kehoach_home, plan)
    assert len(digests) == len(plan.units), f"one digest per unit, found {len(digests)}"
    mails = _subjects(kehoach_home)
    reports = {p.suffix for p in (kehoach_home / "reports" / "2023").rglob("*") if p.is_file()}
    assert {".pdf", ".docx", ".xlsx"} <= reports, reports
    again = _run()
    assert again.exit_code == 0, again.output
    assert sorted(_subjects(kehoach_home)) == sorted(mails), "a second run sends nothing twice"
