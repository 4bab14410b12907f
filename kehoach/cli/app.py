"""The `kehoach` command group: every command, registered from the module that holds it."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from kehoach.cli.boundary import guarded


class LazyGroup(click.Group):
    """Commands imported when used: `kehoach plan check` loads only the plan commands."""

    COMMANDS = {
        "plan": ("kehoach.cli.plan_commands", "plan_group"),
        "run": ("kehoach.cli.run_command", "run_command"),
        "record": ("kehoach.cli.record_commands", "record_command"),
        "request": ("kehoach.cli.record_commands", "request_command"),
        "digest": ("kehoach.cli.mail_commands", "digest_command"),
        "report": ("kehoach.cli.report_command", "report_command"),
        "outbox": ("kehoach.cli.mail_commands", "outbox_group"),
        "serve": ("kehoach.cli.stack_commands", "serve_command"),
        "doctor": ("kehoach.cli.stack_commands", "doctor_command"),
        "forms": ("kehoach.cli.forms_command", "forms_command"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.COMMANDS:
            return None
        module, attribute = self.COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehoach")
def cli() -> None:
    """Kehoach — kế hoạch như mã nguồn: kiểm tra, xem và chạy một kế hoạch công tác."""


def main() -> None:
    guarded(lambda: cli.main(prog_name="kehoach", standalone_mode=False), _home)


def _home() -> Path | None:
    """Where an unexpected failure's log goes: the settings' home, if they can be read."""
    from kehoach.settings import Settings

    try:
        return Settings().home
    except ValueError:
        return None


if __name__ == "__main__":
    main()
