"""How every `kehoach` command ends, in one place."""

EXIT_OK = 0
EXIT_FAILED = 1  # the work could not be done (mail refused, a server unreachable, problems found); the input was fine
EXIT_INVALID = 2  # bad input: a plan, a setting, an argument, nothing configured to check; nothing was recorded
