"""The settings of one cluster of several: its defaults, then clusters/common.yaml, then its cluster.yaml.

Mappings merge key by key, anything else (a list, a string) is taken whole from the file written last.
Every file's relative paths are its own: a models or values file common.yaml names is read relative to
`clusters/`, and the paths of the secrets keys it writes are made relative to the cluster's folder. An error
in a value that came from common.yaml points at common.yaml (positions are mounted where values came from).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from generator.clusters.layout import NAME, NAME_RULE, default_output
from generator.errors import KeyPath, Problem, SettingsError
from generator.yamlsource import SourceMap, Sources

# string settings that name a file, relative to the settings file that writes them (models and apps'
# values files are read before merging, relative to their own file)
PATH_KEYS: tuple[KeyPath, ...] = (
    ("secrets", "sops", "file"),
    ("secrets", "sops", "age_key_file"),
    ("secrets", "sops", "config"),
    ("secrets", "sealed", "cert"),
)
SOPS_CONFIG = "../../.sops.yaml"  # one .sops.yaml for the repository, with a creation rule per cluster

# reads a settings file and inlines the files it names, relative to its own folder
Reader = Callable[[Path], tuple[dict[str, Any], Sources]]


def defaults(name: str) -> dict[str, Any]:
    """What a cluster of several takes when neither common.yaml nor its cluster.yaml says otherwise."""
    return {
        "cluster": {"name": name},
        "gitops": {"path": default_output(name)},
        "secrets": {"sops": {"config": SOPS_CONFIG}},
    }


def merged_settings(config: Path, common: Path, read: Reader) -> tuple[dict[str, Any], Sources]:
    """The data and positions of the cluster whose settings are ``config``, layered over ``common``."""
    data, sources = read(config)
    shared, shared_sources = read(common)
    shared = _rebased_paths(shared, common.parent, config.parent)
    layered: dict[str, Any] = _merge(defaults(config.parent.name), shared)
    merged = _merge(layered, data)
    mounts: dict[KeyPath, SourceMap] = {}
    _mount_shared(shared, data, (), shared_sources, mounts)
    return merged, Sources(sources.root, {**mounts, **sources.mounts})


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        below = out.get(key)
        out[key] = _merge(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return out


def _rebased_paths(shared: dict[str, Any], shared_dir: Path, cluster_dir: Path) -> dict[str, Any]:
    """common.yaml's file paths, made relative to the cluster's folder."""
    out = shared
    for key in PATH_KEYS:
        value = _get(out, key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            rebased = os.path.relpath(os.path.normpath(shared_dir / value), cluster_dir)
            out = _set(out, key, rebased)
    return out


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _set(data: dict[str, Any], path: KeyPath, value: Any) -> dict[str, Any]:
    head, *rest = (str(part) for part in path)
    if not rest:
        return {**data, head: value}
    inner = data.get(head)
    return {**data, head: _set(inner if isinstance(inner, dict) else {}, tuple(rest), value)}


def _mount_shared(
    shared: Any, own: Any, path: KeyPath, shared_sources: Sources, mounts: dict[KeyPath, SourceMap]
) -> None:
    """Mount common.yaml's positions at every path whose value the cluster takes from it."""
    if not isinstance(shared, dict):
        return
    for key, value in shared.items():
        here = (*path, key)
        mine = own.get(key) if isinstance(own, dict) else None
        if isinstance(own, dict) and key in own:
            if isinstance(value, dict) and isinstance(mine, dict):
                _mount_shared(value, mine, here, shared_sources, mounts)
            continue  # the cluster's own value wins, with its own position
        mounts[here] = Sources(shared_sources.root).view(here)
        for prefix, source in shared_sources.mounts.items():
            if prefix[: len(here)] == here:
                mounts[prefix] = source  # a file common.yaml names (models.yaml, a values file)


def check_name(config: Path, name: str, shown: str) -> None:
    """A cluster's folder name is a DNS label: it names its sops rule, its output folder and its labels."""
    if not NAME.match(name):
        raise SettingsError(
            [
                Problem(
                    shown,
                    None,
                    None,
                    "",
                    f"'{name}' (the folder of {config.name}) is not a cluster name: {NAME_RULE}",
                )
            ]
        )
