"""The pinned versions of every chart and image, read from versions.yaml."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict


class Versions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    litellm_image_tag: str
    cloudnative_pg_chart: str
    postgresql_image_tag: str
    dragonfly_operator_chart: str
    dragonfly_image_tag: str
    valkey_image_tag: str
    sealed_secrets_chart: str
    external_secrets_chart: str
    barman_cloud_chart: str


@cache
def versions() -> Versions:
    text = resources.files("generator").joinpath("versions.yaml").read_text(encoding="utf-8")
    return Versions.model_validate(yaml.safe_load(text))
