"""`python -m kehoach.cli`: the `kehoach` command without the installed script."""

from kehoach.cli.app import main

main()
