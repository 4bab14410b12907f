"""Where Kehoach keeps its state and what it reads from the environment (kehoach/settings.py), and
that the flows' ledger follows those settings (flows/resources.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows import resources
from kehoach.settings import Settings, SettingsError
from notifications.settings import MailSettingsError
from plan.events import EventKind, NewEvent, PlanRef
from plan.load import DEFAULT_PLAN

REF = PlanRef("p", "h")


def _event(key: str) -> NewEvent:
    return NewEvent(key=key, item="item-1", kind=EventKind.STAGE_STATUS, stage="preparation", status="in_progress")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("KEHOACH_DATABASE_URL", "KEHOACH_HOME", "KEHOACH_PLAN", "KEHOACH_TASK_WORKERS", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    resources.reset()
    yield monkeypatch
    resources.reset()


def test_by_default_the_ledger_is_a_sqlite_file_in_dot_kehoach(clean_env, tmp_path):
    ledger = resources.ledger()
    ledger.append(REF, [_event("a")])
    assert ledger.display_url == f"sqlite:///{tmp_path / '.kehoach' / 'ledger.sqlite'}"
    assert (tmp_path / ".kehoach" / "ledger.sqlite").is_file()


def test_kehoach_home_moves_the_sqlite_file_and_is_created(clean_env, tmp_path):
    home = tmp_path / "dữ liệu" / "kehoach"
    clean_env.setenv("KEHOACH_HOME", str(home))
    resources.ledger().append(REF, [_event("a")])
    assert (home / "ledger.sqlite").is_file()
    assert not (tmp_path / ".kehoach").exists()


def test_kehoach_database_url_wins_over_kehoach_home(clean_env, tmp_path):
    clean_env.setenv("KEHOACH_HOME", str(tmp_path / "home"))
    clean_env.setenv("KEHOACH_DATABASE_URL", f"sqlite:///{tmp_path / 'from-env.sqlite'}")
    assert resources.ledger().display_url.endswith("from-env.sqlite")
    assert (tmp_path / "from-env.sqlite").is_file() and not (tmp_path / "home").exists()


def test_a_home_under_tilde_is_the_same_place_for_the_ledger_the_maildir_and_the_reports(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path / "user"))
    settings = Settings.from_mapping({"KEHOACH_HOME": "~/kh", "HOME": str(tmp_path / "user")})
    home = tmp_path / "user" / "kh"
    assert settings.home == home
    assert settings.ledger_url == f"sqlite:///{home / 'ledger.sqlite'}"
    assert settings.maildir == home / "maildir" and settings.reports_dir == home / "reports"
    assert not (tmp_path / "~").exists()


def test_a_relative_home_is_made_absolute_once_from_where_the_command_started(clean_env, tmp_path):
    settings = Settings.from_mapping({"KEHOACH_HOME": "state"})
    clean_env.chdir(tmp_path.parent)
    assert settings.home == tmp_path / "state" and settings.maildir == tmp_path / "state" / "maildir"


def test_blank_variables_mean_not_set():
    settings = Settings.from_mapping({"KEHOACH_HOME": " ", "KEHOACH_DATABASE_URL": "", "KEHOACH_PLAN": ""})
    assert settings.database_url is None and settings.plan_path == DEFAULT_PLAN
    assert settings.home == Path(".kehoach").resolve()


def test_the_settings_come_from_the_mapping_given_not_the_process_environment(clean_env):
    clean_env.setenv("KEHOACH_TASK_WORKERS", "7")
    clean_env.setenv("KEHOACH_SMTP_HOST", "smtp.from-process.example")
    given = Settings.from_mapping({"KEHOACH_TASK_WORKERS": "3"})
    assert given.task_workers == 3 and given.mail.smtp_host is None
    read = Settings()
    assert read.task_workers == 7 and read.mail.smtp_host == "smtp.from-process.example"


def test_task_workers_are_read_when_a_run_needs_them_not_when_the_flows_are_imported(clean_env):
    import flows.content_item  # noqa: F401 - imported before the variable is set

    clean_env.setenv("KEHOACH_TASK_WORKERS", "8")
    resources.reset()
    assert resources.settings().task_workers == 8


@pytest.mark.parametrize(
    ("env", "error", "expected"),
    [
        ({"KEHOACH_TASK_WORKERS": "many"}, SettingsError, "KEHOACH_TASK_WORKERS=«many» không hợp lệ: cần một số nguyên từ 1 trở lên"),
        ({"KEHOACH_TASK_WORKERS": "0"}, SettingsError, "KEHOACH_TASK_WORKERS"),
        ({"KEHOACH_SMTP_PORT": "abc"}, MailSettingsError, "KEHOACH_SMTP_PORT=«abc» không hợp lệ"),
        ({"KEHOACH_DATABASE_URL": "not a url"}, SettingsError, "KEHOACH_DATABASE_URL=«not a url» không hợp lệ"),
        ({"KEHOACH_DATABASE_URL": "postgres ql://u:S3cret@h/k"}, SettingsError, r"u:\*\*\*@h"),
        ({"KEHOACH_USER": "a\nBcc: b"}, SettingsError, r"KEHOACH_USER=«a\\nBcc: b»"),
    ],
)
def test_unusable_settings_are_refused_naming_the_variable(env, error, expected):
    with pytest.raises(error, match=expected):
        Settings.from_mapping(env)


def test_a_relative_sqlite_path_is_made_absolute_once(clean_env, tmp_path):
    settings = Settings.from_mapping({"KEHOACH_DATABASE_URL": "sqlite:///so/ledger.sqlite"})
    assert settings.ledger_url == f"sqlite:///{tmp_path / 'so' / 'ledger.sqlite'}"


def test_a_server_found_in_serve_env_is_used_without_touching_the_rest():
    base = Settings.from_mapping({"KEHOACH_HOME": "/srv/kh"})
    assert not base.has_server
    used = base.with_server({"PREFECT_API_URL": "http://127.0.0.1:4200/api", "PREFECT_API_AUTH_STRING": "kehoach:pw"})
    assert used.has_server and used.prefect_api_auth == "kehoach:pw" and used.home == base.home
