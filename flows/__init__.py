"""Kehoach's runners: Prefect flows, deployments and the `kehoach` command line.

Importing this package must stay cheap: modules that need Prefect import it themselves.
"""
