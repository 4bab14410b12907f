"""The rules that tell a run a crash abandoned from a live one (flows/orphans.py), from plain data."""

from __future__ import annotations

import datetime as dt

from flows.orphans import RunInfo, classify, this_host_worker_prefix, worker_name

NOW = dt.datetime(2023, 6, 20, 8, 0, tzinfo=dt.UTC)
LOCAL = "kehoach-thisbox-"


def _run(state="RUNNING", pid=4242, worker="kehoach-thisbox-1", since=NOW - dt.timedelta(minutes=1)) -> RunInfo:
    return RunInfo(id="r1", name="ND 1", flow="content-item", state=state, state_name=state.title(), since=since, pid=pid, worker=worker)


def _classify(run: RunInfo, alive=(), online=("kehoach-thisbox-1",)):
    return classify(run, now=NOW, online_workers=set(online), pid_alive=lambda pid: pid in alive, local_prefix=LOCAL)


def test_a_local_run_whose_process_is_alive_is_healthy():
    assert _classify(_run(), alive={4242}) is None


def test_a_local_run_whose_process_is_gone_is_certainly_abandoned():
    orphan = _classify(_run())
    assert orphan is not None and orphan.certain and "4242" in orphan.reason


def test_a_remote_run_is_not_judged_by_a_local_pid_but_by_its_worker():
    remote = _run(worker="kehoach-otherbox-1")
    assert _classify(remote, online=("kehoach-thisbox-1", "kehoach-otherbox-1")) is None
    orphan = _classify(remote)
    assert orphan is not None and not orphan.certain and "kehoach-otherbox-1" in orphan.reason


def test_a_run_pending_too_long_without_a_process_is_probably_abandoned():
    assert _classify(_run(state="PENDING", pid=None, worker=None, since=NOW - dt.timedelta(minutes=3))) is None
    orphan = _classify(_run(state="PENDING", pid=None, worker=None, since=NOW - dt.timedelta(minutes=25)))
    assert orphan is not None and not orphan.certain and "25 phút" in orphan.reason


def test_this_machines_workers_are_named_with_the_prefix_the_doctor_looks_for():
    assert worker_name(3, host="thisbox") == "kehoach-thisbox-3"
    assert worker_name(3).startswith(this_host_worker_prefix())
