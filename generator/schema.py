"""The JSON schema of cluster.yaml, for editors (yaml-language-server) and documentation."""

from __future__ import annotations

import json
from typing import Any

from generator.settings.models import Settings


def settings_schema() -> dict[str, Any]:
    schema = Settings.model_json_schema(by_alias=True)
    schema["title"] = "clusterforge settings (cluster.yaml)"
    models = schema["properties"]["models"]
    # `models:` may also name a models.yaml file beside cluster.yaml
    schema["properties"]["models"] = {
        "description": models.get("description", ""),
        "anyOf": [
            {k: v for k, v in models.items() if k != "description"},
            {"type": "string", "pattern": r"\.ya?ml$"},
        ],
    }
    return schema


def models_schema() -> dict[str, Any]:
    """The schema of a models.yaml: the `models` and `credentials` lists of the settings."""
    full = Settings.model_json_schema(by_alias=True)
    return {
        "$defs": full["$defs"],
        "title": "clusterforge models file (models.yaml)",
        "type": "object",
        "additionalProperties": False,
        "required": ["models"],
        "properties": {"models": full["properties"]["models"], "credentials": full["properties"]["credentials"]},
    }


def schema_text(models_file: bool = False) -> str:
    schema = models_schema() if models_file else settings_schema()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
