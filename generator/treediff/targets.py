"""What an argument of ``clusterforge diff`` names: a folder holding a rendered tree."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from generator.clusters.layout import find, find_upward
from generator.errors import UsageError
from generator.validate.defaults import for_cluster
from generator.validate.repo import find_git_root


@dataclass(frozen=True)
class Tree:
    """A rendered tree to compare.

    ``label`` starts the file names in the output (``--- label/path``); ``prefix`` is the folder's
    path from the root of its git repository (``clusters/staging/output``, ``.`` for the root itself),
    None outside a repository: Flux and ArgoCD paths inside the tree start with it.
    """

    path: Path
    label: str
    prefix: str | None


def resolve(argument: str, cwd: Path) -> Tree:
    """The tree an argument names: a folder, relative to ``cwd`` or absolute, or in a repository of several
    clusters the name of one of them (its gitops.path). UsageError otherwise."""
    if not argument:
        raise UsageError("diff: an empty argument names no folder")
    cluster = _cluster_tree(argument, cwd)
    if cluster is not None:
        return cluster
    path = cwd / argument
    try:
        mode = path.stat().st_mode
    except OSError as error:
        missing = error.errno in (errno.ENOENT, errno.ENOTDIR)
        root = find_upward(cwd)
        clusters = f", and no cluster of that name (clusters: {', '.join(find(root).clusters)})" if root else ""
        raise UsageError(f"{argument}: {'no such folder' + clusters if missing else error.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{argument}: not a folder; give the folder holding a rendered tree (e.g. output)")
    real = Path(os.path.realpath(path))
    root = find_git_root(real)
    prefix = None if root is None else real.relative_to(root).as_posix()
    label = argument.rstrip("/") or "/"
    return Tree(path=path, label=label, prefix=prefix)


def _cluster_tree(argument: str, cwd: Path) -> Tree | None:
    """The rendered tree of cluster ``argument`` of the repository of several clusters ``cwd`` is in; None
    when the argument is a folder here, or no such repository or cluster exists."""
    if (cwd / argument).exists():
        return None
    root = find_upward(cwd)
    if root is None or argument not in find(root).clusters:
        return None
    path = root / for_cluster(root, argument).output
    if not path.is_dir():
        raise UsageError(f"cluster {argument} has no rendered tree yet ({path}): run `clusterforge configure`")
    real = Path(os.path.realpath(path))
    git_root = find_git_root(real)
    return Tree(path=path, label=argument, prefix=None if git_root is None else real.relative_to(git_root).as_posix())
