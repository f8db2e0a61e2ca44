"""What an argument of ``clusterforge diff`` names: a folder holding a rendered tree."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UsageError
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
    """The tree an argument names: a folder, relative to ``cwd`` or absolute. UsageError otherwise."""
    if not argument:
        raise UsageError("diff: an empty argument names no folder")
    path = cwd / argument
    try:
        mode = path.stat().st_mode
    except OSError as error:
        missing = error.errno in (errno.ENOENT, errno.ENOTDIR)
        raise UsageError(f"{argument}: {'no such folder' if missing else error.strerror}") from None
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{argument}: not a folder; give the folder holding a rendered tree (e.g. output)")
    real = Path(os.path.realpath(path))
    root = find_git_root(real)
    prefix = None if root is None else real.relative_to(root).as_posix()
    label = argument.rstrip("/") or "/"
    return Tree(path=path, label=label, prefix=prefix)
