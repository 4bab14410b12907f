"""How a command ends: its exit codes, and bad input told in the user's terms."""

from __future__ import annotations

import click

from kehoach.exit_codes import EXIT_FAILED, EXIT_INVALID, EXIT_OK

__all__ = ["EXIT_FAILED", "EXIT_INVALID", "EXIT_OK", "UserError"]


class UserError(click.ClickException):
    """Bad input from the user: a message in their terms and exit code 2, no traceback."""

    exit_code = EXIT_INVALID

    def show(self, file=None) -> None:
        click.echo(f"kehoach: {self.format_message()}", err=True)
