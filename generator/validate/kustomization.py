"""What a kustomization file names, read without running kustomize: the files and folders it
includes as resources, and the files it only reads (patches, generator sources, Helm values).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass
class Kustomization:
    """What a kustomization file names: the resources it includes and the files that are inputs only."""

    directory: Path
    file: Path
    kind: str  # Kustomization or Component
    namespace: str | None
    resource_dirs: list[Path] = field(default_factory=list)
    resource_files: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)  # patches, generator sources, plugin configs
    input_dirs: list[Path] = field(default_factory=list)  # helm chart homes
    # generators, transformers, validators: each plugin config's file or folder, or its text as written
    plugins: dict[str, list[Path | str]] = field(default_factory=dict)


def is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(("github.com/", "git@", "gitlab.com/")) or "?ref=" in entry


def describe(file: Path, data: Any) -> Kustomization:
    """The local files and folders a kustomization refers to, read without running kustomize."""
    directory = file.parent
    spec = data if isinstance(data, dict) else {}
    found = Kustomization(directory, file, str(spec.get("kind") or "Kustomization"), _str(spec.get("namespace")))

    def local(entry: object) -> Path | None:
        if not isinstance(entry, str) or not entry.strip() or "\n" in entry or is_remote(entry):
            return None
        return Path(posixpath.normpath(str(directory / entry.strip())))

    for key in ("resources", "bases", "components", "crds"):
        for entry in _list(spec.get(key)):
            path = local(entry)
            if path is None:
                continue
            (found.resource_dirs if path.is_dir() else found.resource_files).append(path)
    inputs: list[object] = []
    inputs += _list(spec.get("patchesStrategicMerge"))
    for key in ("patches", "patchesJson6902", "replacements"):
        inputs += [item.get("path") for item in _list(spec.get(key)) if isinstance(item, dict)]
    for key in ("configMapGenerator", "secretGenerator"):
        for item in _list(spec.get(key)):
            if isinstance(item, dict):
                inputs += [str(f).rpartition("=")[2] for f in _list(item.get("files"))]
                inputs += [*_list(item.get("envs")), item.get("env")]
    for key in ("configurations", "generators", "transformers", "validators"):
        inputs += _list(spec.get(key))
    for key in ("generators", "transformers", "validators"):
        for entry in _list(spec.get(key)):
            # a local config file or folder; anything else (inline YAML, a URL) is kept as written
            found.plugins.setdefault(key, []).append(local(entry) or str(entry))
    if isinstance(spec.get("openapi"), dict):
        inputs.append(spec["openapi"].get("path"))
    charts = _list(spec.get("helmCharts"))
    inputs += [item.get("valuesFile") for item in charts if isinstance(item, dict)]
    for item in charts:
        if isinstance(item, dict):
            inputs += _list(item.get("additionalValuesFiles"))
    if charts:
        settings = spec.get("helmGlobals")
        home = local((settings.get("chartHome") if isinstance(settings, dict) else None) or "charts")
        if home is not None:
            found.input_dirs.append(home)
    found.inputs = [p for p in (local(entry) for entry in inputs) if p is not None]
    return found


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
