"""The repository being validated: where Flux and ArgoCD paths start, and the URLs that name it.

Read from ``.git`` directly (no git command): the root is the nearest folder holding ``.git``,
the URLs are its remotes' ``url`` lines.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

_URL_LINE = re.compile(r"^\s*url\s*=\s*(\S+)\s*$", re.MULTILINE)


def find_git_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def _git_dir(root: Path) -> Path:
    marker = root / ".git"
    if marker.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = marker.read_text(errors="replace").strip()
        target = Path(text.removeprefix("gitdir:").strip())
        target = target if target.is_absolute() else (root / target)
        common = target / "commondir"
        if common.is_file():
            return (target / common.read_text().strip()).resolve()
        return target
    return marker


def remote_urls(root: Path) -> list[str]:
    try:
        text = (_git_dir(root) / "config").read_text(errors="replace")
    except OSError:
        return []
    return _URL_LINE.findall(text)


def normalize_url(url: str) -> str:
    """``https://github.com/a/b.git``, ``git@github.com:a/b`` and ``ssh://git@github.com/a/b`` alike."""
    text = url.strip().lower()
    text = re.sub(r"^[a-z+]+://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    first = text.split("/", 1)[0]
    if ":" in first:
        host, _, after = first.partition(":")
        rest = text[len(first) :] if after.isdigit() else "/" + text[len(host) + 1 :]  # a port, or scp-style
        text = host + rest
    return text.removesuffix("/").removesuffix(".git")


@dataclass(slots=True)
class Repo:
    root: Path  # absolute
    urls: frozenset[str]  # normalized; empty when unknown

    def is_this(self, url: object) -> bool:
        """Whether a source URL names this repository; with no URL known, every one is taken as this one."""
        if not isinstance(url, str):
            return False
        return not self.urls or normalize_url(url) in self.urls

    def relative(self, path: str) -> str | None:
        """An absolute path relative to the repository root, posix style; None when it is outside."""
        root = str(self.root)
        if path == root:
            return ""
        if path.startswith(root.rstrip(os.sep) + os.sep):
            return path[len(root.rstrip(os.sep)) + 1 :].replace(os.sep, "/")
        return None

    def has_dir(self, path: str) -> bool:
        return (self.root / clean_path(path)).is_dir()

    def has_file(self, path: str) -> bool:
        return (self.root / clean_path(path)).is_file()


def clean_path(path: str) -> str:
    """A repository path as Flux and ArgoCD read it: ``./apps/`` and ``apps`` are the same."""
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


def contains(folder: str, path: str) -> bool:
    return folder in ("", path) or path.startswith(folder + "/")


def make_repo(root: Path | None, urls: tuple[str, ...], start: Path) -> Repo:
    found = (
        Path(os.path.abspath(root)) if root is not None else (find_git_root(Path(os.path.abspath(start))) or Path.cwd())
    )
    given = urls or tuple(remote_urls(found))
    return Repo(found, frozenset(normalize_url(u) for u in given))
