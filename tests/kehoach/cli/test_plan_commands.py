"""`kehoach plan …`: check, show, schema and calendar, as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import icalendar
import pytest

from plan.load import DEFAULT_PLAN, load_plan
from plan.model import Plan
from plan.schedule import plan_deadlines


def kehoach(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    # A wide terminal, so table cells are not cut (pytest exports COLUMNS=80 to children).
    env = {**(env or os.environ), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "kehoach.cli", *args], capture_output=True, text=True, encoding="utf-8", env=env, timeout=60
    )


def test_check_accepts_the_2023_plan_and_prints_its_warning():
    run = kehoach("plan", "check")
    assert run.returncode == 0, run.stderr
    assert "326/KH-SVHTT" in run.stdout and "9 nội dung" in run.stdout
    assert "cảnh báo: items[5].window.end" in run.stderr


def test_check_uses_kehoach_plan_from_the_environment(tmp_path):
    broken = tmp_path / "other.yaml"
    broken.write_text("id: x\n", encoding="utf-8")
    env = {**os.environ, "KEHOACH_PLAN": str(broken)}
    run = kehoach("plan", "check", env=env)
    assert run.returncode == 2
    assert "other.yaml:1:1" in run.stderr and "thiếu trường bắt buộc «year»" in run.stderr


def test_show_lists_every_item_with_lead_and_partners():
    run = kehoach("plan", "show")
    assert run.returncode == 0, run.stderr
    for text in ("Ngôi làng Châu Âu", "Phái đoàn EU", "UBND TP. Hà Nội", "dự kiến vào cuối tháng 10/2023", "13/04–15/04/2023"):
        assert text in run.stdout


def test_show_json_is_the_normalized_plan():
    run = kehoach("plan", "show", "--json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # warnings must not pollute a script's JSON (they go nowhere with --json)
    shown = Plan.model_validate_json(run.stdout)
    assert shown == load_plan(DEFAULT_PLAN).plan
    assert json.loads(run.stdout)["document"]["number_symbol"] == "326/KH-SVHTT"


def test_schema_prints_the_json_schema():
    run = kehoach("plan", "schema")
    assert run.returncode == 0
    schema = json.loads(run.stdout)
    assert "items" in schema["properties"] and schema["additionalProperties"] is False


def test_calendar_for_one_unit_and_its_ics_file(tmp_path):
    ics = tmp_path / "qlnt.ics"
    run = kehoach("plan", "calendar", "--unit", "qlnt", "--ics", str(ics))
    assert run.returncode == 0, run.stderr
    assert "Phòng Quản lý nghệ thuật" in run.stdout and "theo yêu cầu" in run.stdout
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = list(calendar.walk("VEVENT"))
    plan = load_plan(DEFAULT_PLAN).plan
    expected = plan_deadlines(plan, unit="qlnt")
    assert len(events) == len(expected) == 12  # items 5, 7, 9 × four stages; item 8 has no date yet
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert sorted(e.decoded("DTSTART") for e in events) == [d.due for d in expected]
    ev = next(e for e in events if "Ngôi làng Châu Âu" in str(e["SUMMARY"]) and "triển khai" in str(e["SUMMARY"]))
    assert ev.decoded("DTSTART") == dt.date(2023, 5, 15)
    assert str(ev["LOCATION"]) == "Phố đi bộ hồ Hoàn Kiếm, Hà Nội"


def test_calendar_refuses_an_unknown_unit_with_the_known_ones():
    run = kehoach("plan", "calendar", "--unit", "phong-khong-co")
    assert run.returncode == 2
    assert "phong-khong-co" in run.stderr and "van-phong" in run.stderr
    assert "Traceback" not in run.stderr


def test_calendar_refuses_an_unwritable_ics_path(tmp_path):
    run = kehoach("plan", "calendar", "--ics", str(tmp_path / "no-such-dir" / "x.ics"))
    assert run.returncode == 2 and "không ghi được" in run.stderr and "Traceback" not in run.stderr


def test_unknown_command_is_a_usage_error():
    run = kehoach("plan", "chek")
    assert run.returncode == 2 and "Traceback" not in run.stderr


@pytest.mark.parametrize("args", [("plan", "check"), ("plan", "show"), ("plan", "schema"), ("plan", "calendar")])
def test_plan_commands_never_import_prefect(args):
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "kehoach.cli", *args], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert run.returncode == 0
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "click" in imported  # the probe sees imports at all
    assert not {m for m in imported if m.split(".")[0] == "prefect"}
