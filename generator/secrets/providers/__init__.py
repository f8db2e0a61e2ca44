"""Secret providers: how a Secret's content reaches git and from there the cluster.

One module per provider behind the ``SecretProvider`` protocol: sops (encrypted in git,
Flux decrypts), sealed (SealedSecrets: sealed with the controller's public key) and
external (ExternalSecrets: git holds only where each value lives in the store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import yaml

from generator.outputs import SecretFile
from generator.render import render
from generator.stack import SecretSpec

ReadExisting = Callable[[str], bytes | None]


def previous_document(old: bytes) -> Any:
    """The document of a file a previous configure wrote, or None when it no longer reads as YAML
    (edited by hand: a tag, an integer Python cannot hold): then it is simply written anew."""
    try:
        return yaml.safe_load(old)
    except (yaml.YAMLError, ValueError):
        return None


class SecretProvider(Protocol):
    @property
    def name(self) -> str: ...

    def filename(self, spec: SecretSpec) -> str: ...

    def materialize(self, files: list[SecretFile], header: str, existing: ReadExisting) -> dict[str, bytes]:
        """The bytes to write for each secret file, by path; unchanged secrets keep their old bytes."""
        ...

    def rotated(self, file: SecretFile, key: str, old: bytes | None) -> bool | None:
        """Whether the value of ``key`` differs from what is rendered now; None when it cannot be known."""
        ...

    def notes(self) -> list[str]:
        """What the user should know about this run (e.g. secrets sealed again)."""
        ...

    def records(self) -> dict[Path, bytes]:
        """Local records (path -> content) that describe the rendered output: written in the same commit
        as the output (generator.transaction), so a record never describes a tree that is not on disk."""
        ...


def resolved(spec: SecretSpec, values: Mapping[str, str]) -> dict[str, str]:
    return {key: value.resolve(values) for key, value in spec.string_data.items()}


def secret_plaintext(spec: SecretSpec, header: str, values: Mapping[str, str]) -> str:
    """The Kubernetes Secret itself, values filled in: only ever held in memory or piped to a tool."""
    return header + render("secrets/secret.yaml.j2", secret=spec, data=resolved(spec, values))
