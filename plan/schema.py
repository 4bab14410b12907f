"""The plan file's JSON Schema, generated from the pydantic model (never written by hand)."""

from __future__ import annotations

import json
from pathlib import Path

from plan.model import Plan

SCHEMA_FILE = Path(__file__).parent / "plan.schema.json"


def schema_json() -> str:
    return json.dumps(Plan.model_json_schema(), ensure_ascii=False, indent=2) + "\n"
