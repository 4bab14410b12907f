"""Kehoach's Prefect flows (content-item, plan-run, unit-digest, upward-report) and what they share.

Importing this package must stay cheap: modules that need Prefect import it themselves, and the
steps one-off commands run without Prefect (report_job, digest_job, delivery) never do.
"""
