"""The files an engine asks for: plain text, or a Secret the secrets provider turns into bytes."""

from __future__ import annotations

from dataclasses import dataclass

from generator.stack import SecretSpec


@dataclass(frozen=True)
class PlainFile:
    path: str  # relative to the output directory, with '/' separators
    text: str
    header: bool = True  # False for formats without comments, which carry their own marker


@dataclass(frozen=True)
class SecretFile:
    path: str
    spec: SecretSpec


OutputFile = PlainFile | SecretFile
