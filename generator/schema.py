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


def schema_text() -> str:
    return json.dumps(settings_schema(), indent=2, sort_keys=True) + "\n"
