"""One clusterforge at a time per repository: an flock on `.clusterforge/lock` beside the settings file.

Every command that writes (configure, secrets set|generate, models add|remove, init) and every one
that reads the output (configure --check, --dry-run) holds it for its whole run, so runs never
interleave and a run plans against what the previous one left. The kernel drops an flock when its
process dies, so kill -9 never leaves a stale lock. A second run waits for the first up to
CLUSTERFORGE_LOCK_TIMEOUT seconds (60), then exits 1 naming it. Standard library only.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.errors import UsageError
from generator.owned import sweep, wait_for_lock

STATE_DIR = ".clusterforge"
LOCK_FILE = "lock"


@dataclass
class _Held:
    fd: int
    depth: int


_held: dict[str, _Held] = {}  # by real path of the repository folder: nested holds are free


def repository_folder(config: Path) -> Path:
    """The repository of a settings file, as the kernel names it (symlinks resolved): its folder, or for a
    cluster of several (`clusters/<name>/cluster.yaml`) the folder above `clusters/`, so that every cluster
    of one repository shares one lock."""
    from generator.clusters.layout import root_of  # noqa: PLC0415 - standard library only

    root = root_of(config)
    return root if root is not None else Path(os.path.realpath(config.absolute().parent))


def lock_path(folder: Path) -> Path:
    return folder / STATE_DIR / LOCK_FILE


def _shown(folder: Path) -> str:
    """The folder relative to the working directory when below it, else in full."""
    try:
        relative = os.path.relpath(folder)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(folder)
    return str(folder) if relative == "." or relative.startswith("..") else relative


def _holder(fd: int, folder: Path) -> str:
    """Who holds the lock, from what the holder wrote into the lock file."""
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        text = ""
    pid, _, command = text.partition("\n")
    command = command.strip()
    who = f"another clusterforge (pid {pid.strip() or '?'})"
    return f"{who} is writing {_shown(folder)}" + (f" (`clusterforge {command}`)" if command else "")


def _open(folder: Path, read_only: bool) -> int | None:
    try:
        (folder / STATE_DIR).mkdir(exist_ok=True)
        return os.open(lock_path(folder), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if read_only and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return None  # a read-only checkout: nobody can write here, so nothing to wait for
        raise UsageError(f"{lock_path(folder)}: cannot create the repository lock: {exc.strerror}") from None


@contextmanager
def repository_lock(folder: Path, command: str, *, read_only: bool = False) -> Iterator[None]:
    """Hold the lock of the repository whose settings live in ``folder`` while the block runs.

    ``command`` is what other runs are told this one is doing. ``read_only``: a folder where the lock
    cannot be created (a read-only checkout) is read without it.
    """
    key = os.path.realpath(folder)
    held = _held.get(key)
    if held is not None:
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
        return
    fd = _open(Path(key), read_only)
    if fd is None:
        yield
        return
    try:
        wait_for_lock(fd, lambda: _holder(fd, folder))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{command}\n".encode(), 0)
        _held[key] = _Held(fd, 1)
        sweep(Path(key))  # temporary files that runs killed before us left in the repository folder
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)  # releases the flock


def holds(folder: Path) -> bool:
    """Whether this process holds the lock of ``folder`` (for assertions in the writers)."""
    return os.path.realpath(folder) in _held
