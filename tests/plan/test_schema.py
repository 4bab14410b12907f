"""The committed JSON Schema is the model's, and the shipped plan passes it."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import yaml

from plan.load import DEFAULT_PLAN
from plan.schema import SCHEMA_FILE, schema_json


def test_committed_schema_is_in_sync_with_the_model():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_json(), (
        "plan/plan.schema.json is stale: run `kehoach plan schema > plan/plan.schema.json`"
    )


def test_plan_file_points_editors_at_the_schema():
    first_line = DEFAULT_PLAN.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../plan.schema.json"
    assert (DEFAULT_PLAN.parent / "../plan.schema.json").resolve() == SCHEMA_FILE.resolve()


def test_shipped_plan_validates_against_the_json_schema():
    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    as_json = json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))
    validator = jsonschema.Draft202012Validator(json.loads(schema_json()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(as_json)] == []


def test_schema_rejects_an_unknown_field_as_editors_will():
    data = yaml.safe_load(DEFAULT_PLAN.read_text(encoding="utf-8"))
    data["items"][0]["leed"] = "qlnt"
    as_json = json.loads(json.dumps(data, default=str))
    errors = list(jsonschema.Draft202012Validator(json.loads(schema_json())).iter_errors(as_json))
    assert any("leed" in e.message for e in errors)
