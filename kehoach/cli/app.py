"""The `kehoach` command group: every command, registered from the module that holds it."""

from __future__ import annotations

import sys

import click

from kehoach.cli.mail_commands import digest_command, outbox_group
from kehoach.cli.plan_commands import plan_group
from kehoach.cli.record_commands import record_command, request_command
from kehoach.cli.report_command import report_command
from kehoach.cli.run_command import run_command
from kehoach.cli.stack_commands import doctor_command, serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehoach")
def cli() -> None:
    """Kehoach — kế hoạch như mã nguồn: kiểm tra, xem và chạy một kế hoạch công tác."""


for command in (plan_group, run_command, record_command, request_command, digest_command, report_command,
                outbox_group, serve_command, doctor_command):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(prog_name="kehoach", standalone_mode=True)
    except BrokenPipeError:  # `kehoach plan show --json | head`
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()
