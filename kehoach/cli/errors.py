"""How a command ends: its exit codes, and bad input told in the user's terms."""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_FAILED = 1  # the work could not be done (mail refused, a server unreachable); nothing was wrong with the input
EXIT_INVALID = 2  # bad input: a plan, a setting, an argument; nothing was recorded


class UserError(click.ClickException):
    """Bad input from the user: a message in their terms and exit code 2, no traceback."""

    exit_code = EXIT_INVALID

    def show(self, file=None) -> None:
        click.echo(f"kehoach: {self.format_message()}", err=True)
