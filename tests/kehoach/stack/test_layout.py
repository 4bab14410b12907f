"""What `kehoach serve` would start, decided from settings alone (kehoach/stack/layout.py), and where
the doctor finds the server (kehoach/stack/doctor.py) — no server, no process."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from kehoach.settings import Settings
from kehoach.stack.doctor import server_settings
from kehoach.stack.layout import AUTH_FILE, StackError, auth_from, find_project, layout, prefect_database

REPO = Path(__file__).resolve().parents[3]


def S(env: dict[str, str]) -> Settings:
    return Settings.from_mapping(env)


def _layout(env: dict[str, str], **kwargs):
    options = dict(host="127.0.0.1", port=4200, workers=1, worker_limit=4, project=REPO, stored_auth=None)
    options.update(kwargs)
    return layout(S(env), env, **options)


# -- Prefect's database -------------------------------------------------------------------------------


def test_without_any_database_url_prefect_keeps_its_own_sqlite():
    database = prefect_database(S({}))
    assert database.url is None and not database.is_postgres and database.create is None


def test_a_postgres_ledger_gives_prefect_its_own_database_on_the_same_server_with_asyncpg():
    database = prefect_database(S({"KEHOACH_DATABASE_URL": "postgresql+psycopg://kh:s3cret@db.local:5433/kehoach"}))
    assert database.url == "postgresql+asyncpg://kh:s3cret@db.local:5433/kehoach_prefect"
    assert database.create == "postgresql+psycopg://kh:s3cret@db.local:5433/kehoach"
    assert "s3cret" not in database.shown and "kehoach_prefect" in database.shown
    assert database.is_postgres


def test_a_sqlite_ledger_leaves_prefect_on_sqlite():
    assert prefect_database(S({"KEHOACH_DATABASE_URL": "sqlite:////srv/kehoach/ledger.sqlite"})).url is None


def test_prefects_own_database_url_wins_and_is_never_created():
    url = "postgresql+asyncpg://p@127.0.0.1/prefect"
    database = prefect_database(S({"PREFECT_API_DATABASE_CONNECTION_URL": url, "KEHOACH_DATABASE_URL": "postgresql://x@h/k"}))
    assert database.url == url and database.create is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KEHOACH_DATABASE_URL": "postgresql://u@h:5432/"}, "thiếu tên cơ sở dữ liệu"),
        ({"KEHOACH_DATABASE_URL": "postgresql://u@h/k?sslmode=require"}, "PREFECT_API_DATABASE_CONNECTION_URL"),
        ({"PREFECT_API_DATABASE_CONNECTION_URL": "::"}, "PREFECT_API_DATABASE_CONNECTION_URL không phải"),
    ],
)
def test_unusable_database_urls_are_refused_in_the_users_terms(env, expected):
    with pytest.raises(StackError, match=expected):
        prefect_database(S(env))


# -- access -------------------------------------------------------------------------------------------


def test_credentials_come_from_kehoach_then_prefect_settings_then_the_stored_file_then_a_new_one():
    assert auth_from(S({"KEHOACH_SERVER_AUTH": "a:b", "PREFECT_SERVER_API_AUTH_STRING": "c:d"}), "e:f") == ("a:b", "KEHOACH_SERVER_AUTH")
    assert auth_from(S({"PREFECT_SERVER_API_AUTH_STRING": "c:d"}), "e:f") == ("c:d", "PREFECT_SERVER_API_AUTH_STRING")
    assert auth_from(S({}), "e:f\n") == ("e:f", AUTH_FILE)
    new, source = auth_from(S({}), None)
    user, _, password = new.partition(":")
    assert source == "new" and user == "kehoach" and len(password) >= 24
    assert auth_from(S({}), None)[0] != new, "every new password is different"


@pytest.mark.parametrize("bad", ["nopassword", "user:", "two words:x", ":x"])
def test_a_malformed_credential_is_refused(bad):
    with pytest.raises(StackError, match="người_dùng:mật_khẩu"):
        auth_from(S({"KEHOACH_SERVER_AUTH": bad}), None)


# -- environments -------------------------------------------------------------------------------------


def test_the_server_gets_auth_and_its_database_and_the_worker_gets_neither_secret_of_the_server(tmp_path):
    env = {"KEHOACH_HOME": str(tmp_path / "home"), "KEHOACH_SERVER_AUTH": "kehoach:pw",
           "KEHOACH_DATABASE_URL": "postgresql+psycopg://u:dbpw@127.0.0.1:5432/kehoach", "PATH": "/usr/bin"}
    stack = _layout(env, port=4321, workers=2)
    server = stack.server_env()
    assert server["PREFECT_SERVER_API_AUTH_STRING"] == "kehoach:pw"
    assert server["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://u:dbpw@")
    assert server["PREFECT_SERVER_API_HOST"] == "127.0.0.1" and server["PREFECT_SERVER_API_PORT"] == "4321"
    assert server["PREFECT_HOME"] == str(tmp_path / "home" / "prefect")
    assert int(server["PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE"]) >= 10, "connections kept, not opened per request"
    worker = stack.worker_env()
    assert worker["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"
    assert worker["PREFECT_API_AUTH_STRING"] == "kehoach:pw"
    assert "PREFECT_SERVER_API_AUTH_STRING" not in worker and "PREFECT_API_DATABASE_CONNECTION_URL" not in worker
    assert worker["KEHOACH_DATABASE_URL"] == env["KEHOACH_DATABASE_URL"], "flow runs write the same ledger"
    assert worker["PWD"] == str(REPO), "prefect.yaml's pull step sets the working directory from $PWD"
    assert int(worker["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"]) >= 30
    assert stack.worker_command(["prefect"], 2)[-4:] == ["--name", stack.worker_command(["prefect"], 2)[-3], "--limit", "4"]


def test_workers_ask_for_runs_often_and_skip_csrf_tokens_only_where_the_server_wants_none(tmp_path):
    home = {"KEHOACH_HOME": str(tmp_path)}
    worker = _layout(home).worker_env()
    assert float(worker["PREFECT_WORKER_QUERY_SECONDS"]) <= 2, "a morning's plan-run waits for the next poll"
    assert worker["PREFECT_CLIENT_CSRF_SUPPORT_ENABLED"] == "false"
    guarded = _layout({**home, "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true"}).worker_env()
    assert "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED" not in guarded, "a server that wants CSRF tokens gets them"
    own = _layout({**home, "PREFECT_WORKER_QUERY_SECONDS": "15", "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED": "true"}).worker_env()
    assert (own["PREFECT_WORKER_QUERY_SECONDS"], own["PREFECT_CLIENT_CSRF_SUPPORT_ENABLED"]) == ("15", "true"), "the user's values win"


def test_the_server_listens_on_loopback_unless_told_otherwise(tmp_path):
    stack = _layout({"KEHOACH_HOME": str(tmp_path)})
    assert "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE" not in stack.server_env(), "SQLite keeps Prefect's own pool"
    assert stack.server_command(["prefect"])[-4:] == ["--host", "127.0.0.1", "--port", "4200"]
    assert stack.ui_url == "http://127.0.0.1:4200"
    everywhere = _layout({"KEHOACH_HOME": str(tmp_path)}, host="0.0.0.0")
    assert everywhere.server_env()["PREFECT_SERVER_API_HOST"] == "0.0.0.0"


def test_serve_env_sourced_by_a_shell_gives_the_client_settings(tmp_path):
    stack = _layout({"KEHOACH_HOME": str(tmp_path / "h o m e"), "KEHOACH_SERVER_AUTH": "kehoach:p'w$x"})
    env_file = tmp_path / "serve.env"
    env_file.write_text(stack.env_file_text(), encoding="utf-8")
    shown = subprocess.run(["bash", "-c", f". {shlex.quote(str(env_file))}; printf '%s\\n' \"$PREFECT_API_URL\" \"$PREFECT_API_AUTH_STRING\" \"$KEHOACH_HOME\""],
                           capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout.splitlines()
    assert shown == [stack.api_url, "kehoach:p'w$x", str(tmp_path / "h o m e")]
    # The doctor reads the same file when no server is configured in its environment.
    home = S({"KEHOACH_HOME": str(tmp_path / "h o m e")}).home
    assert server_settings(home) == {}  # no file there yet
    home.mkdir()
    (home / "serve.env").write_text(stack.env_file_text(), encoding="utf-8")
    found = server_settings(home)
    assert found == {"PREFECT_API_URL": stack.api_url, "PREFECT_API_AUTH_STRING": "kehoach:p'w$x"}
    used = S({"KEHOACH_HOME": str(home)}).with_server(found)
    assert used.has_server and used.prefect_api_url == stack.api_url and used.prefect_api_auth == "kehoach:p'w$x"


def test_bad_worker_counts_are_refused(tmp_path):
    with pytest.raises(StackError, match="--workers"):
        _layout({"KEHOACH_HOME": str(tmp_path)}, workers=0)
    with pytest.raises(StackError, match="--worker-limit"):
        _layout({"KEHOACH_HOME": str(tmp_path)}, worker_limit=0)


def test_the_project_is_found_from_a_subfolder():
    assert find_project(REPO / "plan" / "plans") == REPO


# -- the forms beside the server -------------------------------------------------------------------------


def test_the_forms_secret_comes_from_the_setting_then_the_stored_file_then_a_new_one(tmp_path):
    from kehoach.stack.layout import FORMS_SECRET_FILE, forms_secret_from

    given = "a-forms-secret-of-the-team-0123"
    assert forms_secret_from(S({"KEHOACH_FORMS_SECRET": given}), "stored-secret-long-enough") == (given, "KEHOACH_FORMS_SECRET")
    assert forms_secret_from(S({}), "stored-secret-long-enough\n") == ("stored-secret-long-enough", FORMS_SECRET_FILE)
    new, source = forms_secret_from(S({}), "short")
    assert source == "new" and len(new) >= 32


def test_serve_env_and_the_workers_carry_the_forms_secret_and_the_forms_listen_on_loopback(tmp_path):
    stack = _layout({"KEHOACH_HOME": str(tmp_path)}, forms_port=8800)
    assert len(stack.forms_secret) >= 16
    assert stack.worker_env()["KEHOACH_FORMS_SECRET"] == stack.forms_secret, "the workers sign the links the forms accept"
    assert f"export KEHOACH_FORMS_SECRET={stack.forms_secret}" in stack.env_file_text()
    assert stack.forms_command("python")[-4:] == ["--host", "127.0.0.1", "--port", "8800"]
    assert stack.forms_env()["PREFECT_API_URL"] == stack.api_url, "the forms resume the runs waiting for an outcome"
    assert stack.forms_local_url == "http://127.0.0.1:8800"
    assert stack.worker_env()["KEHOACH_FORMS_URL"] == "http://127.0.0.1:8800", "without KEHOACH_FORMS_URL the links open the forms here"
    proxied = _layout({"KEHOACH_HOME": str(tmp_path), "KEHOACH_FORMS_URL": "https://kehoach.svhtt.hanoi.example/"}, forms_port=8800)
    assert proxied.worker_env()["KEHOACH_FORMS_URL"] == "https://kehoach.svhtt.hanoi.example", "the links carry the proxy's address"
    with pytest.raises(StackError, match="--forms-port"):
        _layout({"KEHOACH_HOME": str(tmp_path)}, port=8800, forms_port=8800)
