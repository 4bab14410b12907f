"""`kehoach serve` as a team uses it: access with the password only, what it sets up, what it refuses.

The running stack is the session's `team_stack` (tests/conftest.py): started by `kehoach serve`
on 127.0.0.1 and stopped at the end with SIGINT, which must leave no process behind (tests/stack.py).
"""

from __future__ import annotations

import base64
import json
import shlex
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from stack import KEHOACH, PREFECT, REPO, ServedStack, clean_env, run

pytestmark = pytest.mark.skipif(not Path(PREFECT).exists(), reason=f"no prefect executable at {PREFECT}")

DEPLOYMENTS = {"content-item/content-item", "plan-run/plan-run", "unit-digest/unit-digest", "upward-report/upward-report"}


def _request(url: str, auth: str | None, method: str = "POST", body: bytes | None = b"{}") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=body if method == "POST" else None)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize("path", ["/flow_runs/filter", "/deployments/filter", "/work_pools/filter", "/admin/settings"])
def test_the_api_refuses_requests_without_the_password(team_stack: ServedStack, path):
    method = "GET" if path == "/admin/settings" else "POST"
    assert _request(team_stack.api_url + path, None, method)[0] == 401
    assert _request(team_stack.api_url + path, "kehoach:wrong-password", method)[0] == 401
    user, _, password = team_stack.auth.partition(":")
    assert _request(team_stack.api_url + path, f"{user}x:{password}", method)[0] == 401
    assert _request(team_stack.api_url + path, team_stack.auth, method)[0] == 200


def test_serve_sets_up_the_pool_every_deployment_and_the_crash_automation(team_stack: ServedStack):
    status, body = _request(f"{team_stack.api_url}/deployments/filter", team_stack.auth)
    assert status == 200
    names = {f"{d['name']}/{d['name']}" for d in json.loads(body) if d["work_pool_name"] == "kehoach"}
    assert names == DEPLOYMENTS
    status, body = _request(f"{team_stack.api_url}/automations/filter", team_stack.auth)
    assert status == 200
    automations = json.loads(body)
    assert any("mất tín hiệu" in a["name"] and a["actions"][0]["type"] == "change-flow-run-state" for a in automations), automations


def test_prefect_and_kehoach_commands_work_after_sourcing_serve_env_and_fail_without_the_password(team_stack: ServedStack):
    env_file = team_stack.kehoach_home / "serve.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600", "serve.env holds the password: owner only"
    listed = subprocess.run(
        ["bash", "-c", f". {shlex.quote(str(env_file))} && {shlex.quote(PREFECT)} deployment ls"],
        cwd=REPO, env=clean_env(COLUMNS="200"), capture_output=True, text=True, timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert "plan-run/plan-run" in listed.stdout
    refused = run([PREFECT, "deployment", "ls"], clean_env(PREFECT_API_URL=team_stack.api_url, COLUMNS="200"), check=False)
    assert refused.returncode != 0 and "401" in refused.stdout + refused.stderr
    doctor = run([KEHOACH, "doctor"], clean_env(KEHOACH_HOME=str(team_stack.kehoach_home), COLUMNS="200"), check=False)
    assert "đăng nhập được" in doctor.stdout and "trực tuyến" in doctor.stdout, doctor.stdout + doctor.stderr
    wrong = run([KEHOACH, "doctor"], clean_env(PREFECT_API_URL=team_stack.api_url, PREFECT_API_AUTH_STRING="kehoach:nope",
                                               KEHOACH_HOME=str(team_stack.kehoach_home)), check=False)
    assert wrong.returncode == 1 and "mật khẩu" in wrong.stdout and "Traceback" not in wrong.stdout + wrong.stderr


def test_the_ui_is_served_and_points_at_this_api(team_stack: ServedStack):
    with urllib.request.urlopen(team_stack.ui_url + "/", timeout=10) as response:
        assert response.status == 200 and b"<html" in response.read().lower()
    with urllib.request.urlopen(team_stack.ui_url + "/ui-settings", timeout=10) as response:
        assert json.loads(response.read())["api_url"] == team_stack.api_url


def test_serve_runs_the_forms_beside_the_server_with_a_secret_kept_in_the_home(team_stack: ServedStack):
    assert team_stack.forms_url
    secret_file = team_stack.kehoach_home / "forms-secret"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600", "the forms' secret: owner only"
    assert f"KEHOACH_FORMS_SECRET={secret_file.read_text().strip()}" in (team_stack.kehoach_home / "serve.env").read_text()
    try:
        urllib.request.urlopen(team_stack.forms_url + "/bieu-mau/not-a-token", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 403 and exc.headers["X-Frame-Options"] == "DENY"
        assert "Đường dẫn không dùng được" in exc.read().decode()
    else:
        raise AssertionError("a forged link must be refused")


# -- refused settings: exit 2 in the user's terms, nothing started ------------------------------------


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run([KEHOACH, "serve", "--port", str(port)], clean_env(KEHOACH_HOME=str(tmp_path / "h")), check=False, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "h" / "logs" / "server.log").exists()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KEHOACH_SERVER_AUTH": "no-colon"}, "KEHOACH_SERVER_AUTH phải có dạng người_dùng:mật_khẩu"),
        ({"KEHOACH_DATABASE_URL": "postgresql://u@127.0.0.1/k?sslmode=require"}, "PREFECT_API_DATABASE_CONNECTION_URL"),
    ],
)
def test_unusable_settings_exit_2_with_the_setting_named(tmp_path, env, expected):
    done = run([KEHOACH, "serve", "--port", "1"], clean_env(KEHOACH_HOME=str(tmp_path / "h"), **env), check=False, timeout=60)
    assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_doctor_without_a_server_says_how_to_get_one(tmp_path):
    done = run([KEHOACH, "doctor"], clean_env(KEHOACH_HOME=str(tmp_path / "none")), check=False, timeout=60)
    assert done.returncode == 2 and "kehoach serve" in done.stdout and "Traceback" not in done.stderr
