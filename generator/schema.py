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
    schema["properties"]["model_changes"] = {
        "description": "This cluster's changes to the models it shares (README: Several clusters).",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "remove": {"type": "array", "items": {"type": "string"}, "description": "Names of models to drop."},
            "override": {
                "type": "object",
                "additionalProperties": {"type": "object"},
                "description": "Fields set on every model of a name, e.g. {claude-sonnet: {rpm: 100}}.",
            },
            "add": {"type": "array", "items": {"$ref": "#/$defs/Model"}, "description": "Models of this cluster only."},
        },
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


def layer_schema_text() -> str:
    """The schema of clusters/common.yaml and each clusters/<name>/cluster.yaml: any key may be in either."""
    schema = settings_schema()
    schema["title"] = "clusterforge settings of a cluster of several (clusters/common.yaml, clusters/*/cluster.yaml)"
    schema.pop("required", None)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def schema_text(models_file: bool = False) -> str:
    schema = models_schema() if models_file else settings_schema()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
