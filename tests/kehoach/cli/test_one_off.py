"""One-off commands with no server configured run the flows' own steps in their own process:
`kehoach report` and `kehoach digest` never import Prefect (nor start its API); with a server
configured they are flow runs on it (tests/flows/test_deployed.py, the team stack)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plan.events import plan_ref
from plan.ledger import Ledger
from plan.load import DEFAULT_PLAN, load_plan
from plan.scenario import load_scenario, scenario_events

SAMPLE = Path(__file__).resolve().parents[3] / "plan" / "scenarios" / "hanoi-svhtt-ttdn-2023.sample.yaml"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    plan = load_plan(DEFAULT_PLAN).plan
    scenario, _ = load_scenario(SAMPLE)
    with Ledger(f"sqlite:///{home / 'ledger.sqlite'}") as ledger:
        ledger.append(plan_ref(plan), scenario_events(plan, scenario, [], dt.date(2023, 12, 31), actor="kịch bản"))
    return home


def _imported(args: list[str], home: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEHOACH_", "PREFECT_"))}
    env.update(KEHOACH_HOME=str(home), PREFECT_HOME=str(home / "prefect"))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "kehoach.cli", *args], env=env, capture_output=True, text=True, timeout=300)
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, modules


@pytest.mark.parametrize(
    "args",
    [["report", "--period", "2023", "--as-of", "2023-12-31", "--no-send"], ["digest", "--as-of", "2023-12-31"]],
    ids=["report", "digest"],
)
def test_a_one_off_command_without_a_server_does_its_work_without_prefect(args, home):
    done, modules = _imported(args, home)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert not {m for m in modules if m == "prefect" or m.startswith("prefect.")}, "Prefect imported"
    assert not (home / "prefect").exists(), "no Prefect home: no API was started"
    if args[0] == "report":
        assert (home / "reports" / "2023").is_dir() and any((home / "reports" / "2023").rglob("*.pdf"))
    else:
        assert "8 thư mới, 8 thư đã gửi" in done.stdout and len(list((home / "maildir" / "new").iterdir())) == 8
