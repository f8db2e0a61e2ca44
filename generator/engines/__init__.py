"""GitOps engines: each lays the same stack out as its own tree of files."""

from __future__ import annotations

from typing import Protocol

from generator.outputs import OutputFile
from generator.secrets.providers import SecretProvider
from generator.settings.models import Settings
from generator.stack import Stack


class Engine(Protocol):
    @property
    def name(self) -> str: ...

    def layout(self, stack: Stack, settings: Settings, provider: SecretProvider) -> list[OutputFile]: ...


def engine_for(name: str) -> Engine:
    from generator.engines.argocd import ArgoCDEngine  # noqa: PLC0415 - registry stays import-light
    from generator.engines.flux import FluxEngine  # noqa: PLC0415

    engines: dict[str, Engine] = {"flux": FluxEngine(), "argocd": ArgoCDEngine()}
    return engines[name]
