"""The `kehoach` command group: every command, registered from the module that holds it."""

from __future__ import annotations

from pathlib import Path

import click

from kehoach.cli.boundary import guarded
from kehoach.cli.mail_commands import digest_command, outbox_group
from kehoach.cli.plan_commands import plan_group
from kehoach.cli.record_commands import record_command, request_command
from kehoach.cli.report_command import report_command
from kehoach.cli.run_command import run_command
from kehoach.cli.stack_commands import doctor_command, serve_command
from kehoach.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehoach")
def cli() -> None:
    """Kehoach — kế hoạch như mã nguồn: kiểm tra, xem và chạy một kế hoạch công tác."""


for command in (plan_group, run_command, record_command, request_command, digest_command, report_command,
                outbox_group, serve_command, doctor_command):
    cli.add_command(command)


def main() -> None:
    guarded(lambda: cli.main(prog_name="kehoach", standalone_mode=False), _home)


def _home() -> Path | None:
    """Where an unexpected failure's log goes: the settings' home, if they can be read."""
    try:
        return Settings().home
    except ValueError:
        return None


if __name__ == "__main__":
    main()
