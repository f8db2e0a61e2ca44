"""Defaults for ``clusterforge validate`` taken from a cluster.yaml in the working directory.

Read with the fast YAML parser alone: the validate path never loads the typed settings (pydantic).
A cluster.yaml that cannot be read gives no defaults; ``configure`` is where it gets checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.clusters.layout import common_file, default_output, settings_file
from generator.validate.documents import YamlError, loads
from generator.validate.model import DEFAULT_KUBERNETES_VERSION

SETTINGS_FILE = "cluster.yaml"
DEFAULT_OUTPUT = "output"


@dataclass(slots=True)
class Defaults:
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    output: str = DEFAULT_OUTPUT  # the configured output folder (gitops.path)


def _read(path: Path) -> dict[str, object]:
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlError):
        return {}
    return data if isinstance(data, dict) else {}


def _lookup(layers: list[dict[str, object]], section: str, key: str) -> str | None:
    """The value the last layer that writes it gives (a cluster's file over common.yaml)."""
    found = None
    for layer in layers:
        part = layer.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        if isinstance(value, str) and value:
            found = value
    return found


def from_settings(directory: Path) -> Defaults:
    return _defaults([_read(directory / SETTINGS_FILE)], DEFAULT_OUTPUT)


def for_cluster(root: Path, name: str) -> Defaults:
    """The defaults of cluster ``name`` of the repository of several clusters at ``root``."""
    layers = [_read(common_file(root)), _read(settings_file(root, name))]
    return _defaults(layers, default_output(name))


def _defaults(layers: list[dict[str, object]], output: str) -> Defaults:
    return Defaults(
        _lookup(layers, "cluster", "kubernetes_version") or DEFAULT_KUBERNETES_VERSION,
        _lookup(layers, "gitops", "path") or output,
    )
