"""The Kehoach application: its settings, the `kehoach` command line (`kehoach.cli`) and the team
stack on one machine (`kehoach.stack`). Importing it costs nothing: no Prefect, no plan.
"""
