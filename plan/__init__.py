"""The plan as code: model, loading and checking, calendar and schedule. Never imports Prefect."""
