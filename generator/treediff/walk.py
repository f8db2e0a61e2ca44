"""The files of a tree that diff compares: what clusterforge generates, YAML and JSON.

Nothing under a dot-folder (``.git``, ``.clusterforge``, ...) nor ``.git*`` files. Symlinks are read
as their target, never followed: a link out of the tree shows where it points, not what is there.
Fifos, sockets and devices are never opened. A file over MAX_TEXT bytes, or not UTF-8, is compared
by its SHA-256 alone.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from generator.errors import UsageError
from generator.state import GENERATED_MARKERS, is_generated

MAX_TEXT = 4 * 1024 * 1024
COMPARED_SUFFIXES = (".yaml", ".yml", ".json")
_LONGEST_MARKER = max(len(m) for m in GENERATED_MARKERS)
_CHUNK = 1 << 20
# never block on a fifo swapped in after lstat, never follow a symlink swapped in
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class Kind(StrEnum):
    TEXT = "text"  # UTF-8 text up to MAX_TEXT bytes
    SYMLINK = "symlink"  # its target, as text
    OPAQUE = "opaque"  # binary or too large: its SHA-256
    UNREADABLE = "unreadable"  # why it could not be read


@dataclass(frozen=True)
class Entry:
    kind: Kind
    text: str = ""  # TEXT: the file; SYMLINK: "symlink -> target"; UNREADABLE: the reason
    digest: str = ""  # OPAQUE: SHA-256 of the bytes


@dataclass
class Listing:
    entries: dict[str, Entry] = field(default_factory=dict)  # by path relative to the tree, "/"-separated
    notes: list[str] = field(default_factory=list)  # files left out, and why


def read_tree(root: Path, label: str) -> Listing:
    """Every compared file under ``root``; UsageError when ``root`` itself cannot be listed."""
    listing = Listing()
    base = os.fspath(root)

    def relative(path: str) -> str:
        return Path(os.path.relpath(path, base)).as_posix()

    def unlistable(error: OSError) -> None:
        where = relative(os.fsdecode(error.filename)) if error.filename is not None else "."
        if where == ".":
            raise UsageError(f"{label}: cannot be read: {error.strerror}")
        listing.entries[where] = Entry(Kind.UNREADABLE, f"folder cannot be listed: {error.strerror}")

    for folder, dirs, names in os.walk(base, onerror=unlistable):
        kept = []
        for name in dirs:
            if name.startswith("."):
                continue
            path = os.path.join(folder, name)
            if os.path.islink(path):  # os.walk does not descend into it; say where it points
                listing.entries[relative(path)] = _symlink(path)
            else:
                kept.append(name)
        dirs[:] = kept
        for name in names:
            if name.startswith(".git"):
                continue
            path = os.path.join(folder, name)
            entry = _entry(path, name.lower().endswith(COMPARED_SUFFIXES))
            if isinstance(entry, Entry):
                listing.entries[relative(path)] = entry
            elif entry:
                listing.notes.append(f"{label}/{relative(path)}: not compared: {entry}")
    return listing


def _symlink(path: str) -> Entry:
    try:
        return Entry(Kind.SYMLINK, f"symlink -> {os.readlink(path)}\n")
    except OSError as error:
        return Entry(Kind.UNREADABLE, error.strerror or str(error))


def _entry(path: str, named_yaml: bool) -> Entry | str | None:
    """The file's entry; None when it is not one diff compares; why, when it could not be told."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return _symlink(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        with os.fdopen(os.open(path, _OPEN_FLAGS), "rb") as handle:
            if not named_yaml and not is_generated(handle.read(_LONGEST_MARKER)):
                return None
            handle.seek(0)
            return _content(handle)
    except OSError as error:
        reason = error.strerror or str(error)
        return Entry(Kind.UNREADABLE, reason) if named_yaml else f"cannot be read ({reason})"


def _content(handle: BinaryIO) -> Entry:
    data = handle.read(MAX_TEXT + 1)
    if len(data) > MAX_TEXT:
        digest = hashlib.sha256(data)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
        return Entry(Kind.OPAQUE, digest=digest.hexdigest())
    try:
        return Entry(Kind.TEXT, data.decode("utf-8"))
    except UnicodeDecodeError:
        return Entry(Kind.OPAQUE, digest=hashlib.sha256(data).hexdigest())
