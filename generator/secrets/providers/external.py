"""External Secrets: git holds where each value lives in the store; the operator makes the Secret.

No value is needed on this machine. A value composed of several secrets (a DATABASE_URL around a
password) becomes a template the operator fills in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.outputs import SecretFile
from generator.render import render
from generator.secrets.providers import ReadExisting
from generator.settings.models import ExternalSecretsSettings
from generator.stack import SecretSpec


@dataclass
class ExternalProvider:
    settings: ExternalSecretsSettings
    name: str = "external-secrets"
    _files: list[str] = field(default_factory=list)

    def filename(self, spec: SecretSpec) -> str:
        return f"{spec.basename}.externalsecret.yaml"

    def remote_key(self, secret: str) -> str:
        return self.settings.remote_key.replace("{name}", secret)

    def materialize(self, files: list[SecretFile], header: str, existing: ReadExisting) -> dict[str, bytes]:
        out = {}
        for file in files:
            spec = file.spec
            remote: dict[str, Any] = {name: self.remote_key(name) for name in spec.secret_names}
            templates = {key: value.template() for key, value in spec.string_data.items()}
            text = header + render(
                "secrets/externalsecret.yaml.j2",
                secret=spec,
                external=self.settings,
                remote=remote,
                templates=templates,
            )
            out[file.path] = text.encode()
        return out

    def rotated(self, file: SecretFile, key: str, old: bytes | None) -> bool | None:
        return None  # the values live in the store

    def notes(self) -> list[str]:
        return []

    def records(self) -> dict[Path, bytes]:
        return {}
