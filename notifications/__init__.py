"""Unit digests, invitations and reminders (Jinja2 + yagmail). Never imports Prefect."""
