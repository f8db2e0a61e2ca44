"""Defaults for ``clusterforge validate`` taken from a cluster.yaml in the working directory.

Read with the fast YAML parser alone: the validate path never loads the typed settings (pydantic).
A cluster.yaml that cannot be read gives no defaults; ``configure`` is where it gets checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.validate.documents import YamlError, loads
from generator.validate.model import DEFAULT_KUBERNETES_VERSION

SETTINGS_FILE = "cluster.yaml"
DEFAULT_OUTPUT = "output"


@dataclass(slots=True)
class Defaults:
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    output: str = DEFAULT_OUTPUT  # the configured output folder (gitops.path)


def from_settings(directory: Path) -> Defaults:
    try:
        data = loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlError):
        return Defaults()
    if not isinstance(data, dict):
        return Defaults()
    cluster, gitops = data.get("cluster"), data.get("gitops")
    version = cluster.get("kubernetes_version") if isinstance(cluster, dict) else None
    path = gitops.get("path") if isinstance(gitops, dict) else None
    return Defaults(
        version if isinstance(version, str) and version else DEFAULT_KUBERNETES_VERSION,
        path if isinstance(path, str) and path else DEFAULT_OUTPUT,
    )
