"""Finding the repository's age key and checking it opens what configure encrypts."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from generator.errors import UsageError
from generator.secrets.agekey import AgeKey, read_age_key
from generator.settings.load import LoadedSettings, shown_path


def find_age_key(loaded: LoadedSettings) -> AgeKey:
    """The key named in the settings; SOPS_AGE_KEY_FILE when that file does not exist (CI)."""
    path = loaded.resolve(loaded.settings.secrets.sops.age_key_file)
    env = os.environ.get("SOPS_AGE_KEY_FILE")
    if not path.exists() and env:
        path = Path(env)
    key = read_age_key(path, shown_path(path))
    config = loaded.resolve(loaded.settings.secrets.sops.config)
    if config.is_file():
        recipients = sops_recipients(config)
        if recipients and key.recipient not in recipients:
            raise UsageError(
                f"{shown_path(config)}: the age key {shown_path(path)} ({key.recipient}) is not one of its recipients; "
                "what configure encrypts could not be decrypted with it"
            )
    return key


def sops_recipients(config: Path) -> set[str]:
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{shown_path(config)}: cannot be read as YAML: {exc}") from None
    found: set[str] = set()
    for rule in data.get("creation_rules") or []:
        if isinstance(rule, dict):
            age = rule.get("age")
            for key in age if isinstance(age, list) else str(age or "").split(","):
                if key.strip():
                    found.add(key.strip())
    return found
