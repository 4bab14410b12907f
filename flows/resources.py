"""What every flow run needs from the outside world: the settings, the plan, the ledger, today's date.

Read once per process: on a worker from the worker's environment, in `kehoach` from the settings the
command line read (`use`). Kept free of Prefect so the command line can share it.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
from pathlib import Path
from zoneinfo import ZoneInfo

from kehoach.settings import Settings
from notifications.form_links import FormLinks
from plan.events import PlanRef, plan_ref
from plan.ledger import Ledger, LedgerError
from plan.load import load_plan
from plan.model import Plan

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


class PlanInvalid(RuntimeError):
    """The plan a flow was given does not pass `kehoach plan check`."""


_FOLDER_ERRORS = {
    errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
    errno.EACCES: "không có quyền ghi",
    errno.EROFS: "ổ đĩa chỉ đọc",
    errno.ENOSPC: "hết dung lượng đĩa",
    errno.ENOENT: "đường dẫn không tồn tại",
}

_settings: list[Settings] = []
_ledgers: dict[str, Ledger] = {}
_interactive: list[bool] = []


def use(settings: Settings, *, interactive: bool = False) -> None:
    """The settings this process's flows use (the command line passes the ones it read).

    `interactive`: a person waits for this process (a `kehoach` command): mail is delivered once,
    and what failed is reported and left to the outbox's schedule, never retried for minutes here."""
    reset()
    _settings.append(settings)
    _interactive.append(interactive)


def interactive() -> bool:
    return bool(_interactive and _interactive[0])


def settings() -> Settings:
    """The process's settings: those given to `use`, else read from the environment, once."""
    if not _settings:
        _settings.append(Settings())
    return _settings[0]


def today() -> dt.date:
    """Today in Hanoi: a run at 06:30 Hanoi time belongs to that day, whatever the server's zone."""
    return dt.datetime.now(TIMEZONE).date()


def form_links(plan: Plan) -> FormLinks | None:
    """The links to the units' forms for the mail about `plan`, signed today; None without forms
    configured (KEHOACH_FORMS_URL and KEHOACH_FORMS_SECRET): the mail then says whom to send to."""
    current = settings()
    if not current.has_forms or not current.forms_url or not current.forms_secret:
        return None
    return FormLinks(current.forms_url, current.forms_secret, plan.id, current.forms_link_days, today())


def plan_path(path: str | None) -> Path:
    return Path(path).resolve() if path else settings().plan_path.resolve()


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> tuple[Plan, PlanRef]:
    result = load_plan(path)
    if not result.ok or result.plan is None:
        raise PlanInvalid("; ".join(p.render() for p in result.errors[:5]))
    return result.plan, plan_ref(result.plan)  # the hash of a 1,000-item plan is ~30 ms: once per version


def load(path: str | None) -> tuple[Plan, PlanRef]:
    """The plan at `path` (default: the settings' plan) and its reference, loaded once per process
    and version."""
    resolved = plan_path(path)
    return _load(str(resolved), resolved.stat().st_mtime_ns)


def ledger() -> Ledger:
    """One ledger (and connection pool) per process and database; the home is made if missing."""
    url = settings().ledger_url
    if url not in _ledgers:
        if not settings().database_url:
            try:
                settings().home.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = _FOLDER_ERRORS.get(exc.errno or 0, exc.strerror or str(exc))
                raise LedgerError(f"Không tạo được thư mục dữ liệu {settings().home} (KEHOACH_HOME): {why}") from exc
        _ledgers[url] = Ledger(url)
    return _ledgers[url]


def reset() -> None:
    """Forget the settings, cached plans and open ledgers (tests switch KEHOACH_HOME between cases)."""
    for opened in _ledgers.values():
        opened.dispose()
    _ledgers.clear()
    _settings.clear()
    _interactive.clear()
    _load.cache_clear()
