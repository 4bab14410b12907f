"""Mail settings from the environment (KEHOACH_SMTP_*, KEHOACH_MAIL_FROM*) through pydantic-settings.

No SMTP host means no SMTP: mail then goes to a maildir under KEHOACH_HOME (see transport.py).
The password is a SecretStr: it never shows in repr, str, logs or error messages. In deployments
it may come from a Prefect Secret block instead; the flow passes it in with `with_password`
(this package never imports Prefect).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from notifications.mail import Address

ENV_PREFIX = "KEHOACH_"
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}

# What each variable expects, in the words of the error message.
_EXPECTED = {
    "smtp_host": "tên hoặc địa chỉ IP của máy chủ SMTP",
    "smtp_port": "một số cổng từ 1 đến 65535",
    "smtp_user": "tên đăng nhập SMTP",
    "smtp_password": "mật khẩu SMTP",
    "smtp_security": "một trong: none, starttls, tls",
    "smtp_ca_file": "đường dẫn tới một tệp chứng chỉ CA (PEM) có thật",
    "smtp_timeout": "số giây lớn hơn 0",
    "mail_from": "một địa chỉ thư, ví dụ kehoach@sovhtt.hanoi.gov.vn",
    "mail_from_name": "tên người gửi hiển thị",
}


_SECRET = {"smtp_password"}


class MailSettingsError(ValueError):
    """Mail settings that cannot be used, in plain words naming the variable; never the password."""


_environment: ContextVar[Mapping[str, str] | None] = ContextVar("kehoach_environment", default=None)


class _EnvironmentSource(EnvSettingsSource):
    """The process environment, or the mapping `EnvironmentSettings.from_mapping` was given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        given = _environment.get()
        if given is None:
            return super()._load_env_vars()
        return parse_env_vars(given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


class EnvironmentSettings(BaseSettings):
    """Settings read from KEHOACH_* environment variables only (no .env file, no secrets directory),
    or from a given mapping of them: the environment a child process will get, or a test's."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # KEHOACH_SMTP_PORT= (set but blank) means "not set"
        extra="ignore",
        hide_input_in_errors=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _EnvironmentSource(settings_cls)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Self:
        """The settings these variables give, whatever the process environment holds."""
        with _reading(env):
            return cls()


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _environment.set(env)
    try:
        yield
    finally:
        _environment.reset(token)


class MailSettings(EnvironmentSettings):
    model_config = SettingsConfigDict(validate_default=False)

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_timeout: float = Field(default=30, gt=0)
    mail_from: str = "kehoach@localhost"
    mail_from_name: str = "Kehoach — Sở Văn hóa và Thể thao Hà Nội"

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise MailSettingsError(_explain(exc)) from None  # pydantic's text may repeat the values

    @field_validator("smtp_host", "smtp_user", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("smtp_ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        if not value.is_file():
            raise ValueError(f"không có tệp {value}")
        return value

    @field_validator("smtp_host", "smtp_user", "mail_from", "mail_from_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        """A line break or control character in a header would let a setting add headers (Bcc:…)."""
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("có ký tự xuống dòng hoặc ký tự điều khiển; chỉ được một dòng chữ")
        return value

    @field_validator("mail_from")
    @classmethod
    def _bare_address(cls, value: str) -> str:
        value = value.strip()
        name, address = parseaddr(value)
        if name or address != value or "@" not in address or address.startswith("@") or address.endswith("@"):
            raise ValueError("chỉ ghi địa chỉ; tên hiển thị đặt ở KEHOACH_MAIL_FROM_NAME")
        return value

    # -- derived -----------------------------------------------------------------------------------

    @property
    def smtp_configured(self) -> bool:
        """True when mail goes to an SMTP server; otherwise it goes to the maildir."""
        return bool(self.smtp_host)

    @property
    def port(self) -> int:
        """The port to connect to: KEHOACH_SMTP_PORT, else the usual one for the security mode."""
        return self.smtp_port or DEFAULT_PORTS[self.smtp_security]

    @property
    def sender(self) -> Address:
        return Address(self.mail_from, self.mail_from_name)

    def with_password(self, password: str | SecretStr | None) -> MailSettings:
        """A copy with the password from elsewhere (a Prefect Secret block in deployments)."""
        if password is not None and not isinstance(password, SecretStr):
            password = SecretStr(password)
        return self.model_copy(update={"smtp_password": password})

    def describe(self) -> str:
        """Where mail goes, for messages and logs (no user, no password)."""
        if not self.smtp_configured:
            return "maildir"
        return f"smtp://{self.smtp_host}:{self.port} ({self.smtp_security})"


def visible_text(text: str) -> str:
    """Control characters shown as escapes (\\r, \\n, \\x07), so a message stays one line."""
    return "".join(repr(c)[1:-1] if ord(c) < 32 or ord(c) == 127 else c for c in text)


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        variable = f"{ENV_PREFIX}{field.upper()}" if field else "cấu hình thư"
        expected = _EXPECTED.get(field, "")
        given = ""
        if field not in _SECRET and isinstance(error.get("input"), (str, int, float, Path)):
            given = f"=«{visible_text(str(error['input'])[:80])}»"
        detail = ""
        if error["type"] == "value_error":
            # Our own validators' messages (they name no secret).
            detail = str(error.get("ctx", {}).get("error", "")) or error["msg"]
        problems.append(
            f"{variable}{given} không hợp lệ" + (f" ({detail})" if detail else "") + (f": cần {expected}" if expected else "")
        )
    return "Cấu hình thư không dùng được — " + "; ".join(problems)
