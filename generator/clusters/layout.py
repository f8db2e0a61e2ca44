"""Where the clusters of a repository live: one folder per cluster under `clusters/`, shared settings beside them.

    clusters/common.yaml              settings every cluster shares (its presence makes the repository one
                                      of several clusters)
    clusters/<name>/cluster.yaml      one cluster's settings, written over common.yaml
    clusters/<name>/output/           its rendered tree (gitops.path, relative to the repository)

A repository with a `cluster.yaml` at its top and no `clusters/common.yaml` is a single cluster, exactly as
before. Standard library only: the repository lock and configure's no-op path use it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CLUSTERS = "clusters"
COMMON = "common.yaml"
SETTINGS = "cluster.yaml"
OUTPUT = "output"  # each cluster's default gitops.path below its folder
# a DNS label: a cluster's name becomes part of paths, labels and sops rules
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
NAME_RULE = "lowercase letters, digits and '-', at most 63"


def common_file(root: Path) -> Path:
    return root / CLUSTERS / COMMON


def is_repository(root: Path) -> bool:
    """Whether ``root`` is a repository of several clusters."""
    return common_file(root).is_file()


def root_of(config: Path) -> Path | None:
    """The repository of several clusters a settings file `<root>/clusters/<name>/cluster.yaml` belongs to;
    None for any other settings file (a single cluster's)."""
    absolute = Path(os.path.realpath(config.absolute()))
    folder = absolute.parent
    if folder.parent.name != CLUSTERS or absolute.name != SETTINGS:
        return None
    root = folder.parent.parent
    return root if is_repository(root) else None


def cluster_folder(root: Path, name: str) -> Path:
    return root / CLUSTERS / name


def settings_file(root: Path, name: str) -> Path:
    return cluster_folder(root, name) / SETTINGS


def default_output(name: str) -> str:
    """A cluster's gitops.path unless its settings say otherwise: beside its settings."""
    return f"{CLUSTERS}/{name}/{OUTPUT}"


@dataclass(frozen=True)
class Repository:
    root: Path
    clusters: tuple[str, ...]  # names of the folders under clusters/ that hold a cluster.yaml, sorted

    def config(self, name: str) -> Path:
        return settings_file(self.root, name)

    def leftovers(self) -> tuple[str, ...]:
        """Folders under clusters/ without settings that still hold a record of a configure or an output
        folder: clusters removed by deleting their cluster.yaml, whose generated files the next configure
        removes (a fresh clone has no records: the default output folder is looked at too)."""
        found = []
        base = self.root / CLUSTERS
        for entry in sorted(os.listdir(base)):
            folder = base / entry
            if entry in self.clusters or not NAME.match(entry) or not folder.is_dir():
                continue
            if (folder / ".clusterforge" / f"{SETTINGS}.state.json").is_file() or (folder / OUTPUT).is_dir():
                found.append(entry)
        return tuple(found)


def sweep_records(repo: Repository) -> None:
    """Records that runs killed before their commit point staged beside each cluster's record (every cluster's,
    before any is read: a run that stops at the first stale cluster must not leave the others' behind)."""
    from generator.owned import sweep  # noqa: PLC0415 - standard library only

    for name in (*repo.clusters, *repo.leftovers()):
        sweep(cluster_folder(repo.root, name) / ".clusterforge")


def selected(repo: Repository, names: Sequence[str]) -> list[str]:
    """The clusters named (all when none is), each of them known."""
    from generator.errors import UsageError  # noqa: PLC0415 - standard library only

    base = _shown(repo.root / CLUSTERS)
    if not repo.clusters:
        raise UsageError(f"{base}: no cluster yet; add one with `clusterforge init --cluster NAME`")
    for name in names:
        if name not in repo.clusters:
            close = difflib.get_close_matches(name, repo.clusters, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else f"; the clusters are {', '.join(repo.clusters)}"
            raise UsageError(f"no cluster '{name}' in {base}{hint}")
    return sorted(set(names)) if names else list(repo.clusters)


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def find(root: Path) -> Repository:
    """The clusters of the repository at ``root`` (which must be one of several clusters)."""
    base = root / CLUSTERS
    names = sorted(entry for entry in os.listdir(base) if NAME.match(entry) and (base / entry / SETTINGS).is_file())
    return Repository(Path(os.path.realpath(root)), tuple(names))


def find_upward(start: Path) -> Path | None:
    """The repository of several clusters that ``start`` is in or below, if any."""
    here = Path(os.path.realpath(start.absolute()))
    for folder in (here, *here.parents):
        if is_repository(folder):
            return folder
    return None
