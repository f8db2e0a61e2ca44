"""The master key from the secrets file, for talking to a running proxy."""

from __future__ import annotations

from pathlib import Path

from generator.errors import UsageError
from generator.secrets.agekey import find_age_key
from generator.secrets.store import SecretsFile
from generator.settings.load import load_settings


def master_key(config: Path) -> str:
    loaded = load_settings(config)
    secrets_file = SecretsFile.for_settings(loaded, find_age_key(loaded).path)
    value = secrets_file.read().get("litellm_master_key")
    if not value:
        raise UsageError(f"{secrets_file.shown}: has no litellm_master_key; run `clusterforge init`")
    return value
