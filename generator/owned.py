"""Files and folders that belong to one running clusterforge process, and sweeping up after dead ones.

The owner holds an flock(2) on each of them for as long as it runs. The kernel drops the lock when the
process ends, however it ends (kill -9 included), and a reused pid cannot fake it. So "is this leftover
abandoned?" is one non-blocking flock away: the next run removes what it can lock. Standard library
only: the no-op fast path of configure uses it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generator.errors import Busy

# temporary files carry this suffix: `.<target name>.<pid>-<random>.clusterforge-tmp`, beside their target
TMP_SUFFIX = ".clusterforge-tmp"
TIMEOUT_ENV = "CLUSTERFORGE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 60.0


def remove_tree(path: Path) -> None:
    """Remove a folder and everything in it (shutil only now: the no-op fast path never needs it).

    Tried again while it is still there: a thread of this run (kustomize builds) may add an entry while it
    is being removed, as when SIGTERM's handler removes the scratch folder. Once the folder is gone nothing
    comes back: those threads make their folders one level at a time."""
    import shutil  # noqa: PLC0415

    for _ in range(_REMOVE_ATTEMPTS):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return


_REMOVE_ATTEMPTS = 20


def try_lock(fd: int) -> bool:
    """Take the exclusive flock of ``fd`` if nobody holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def wait_timeout() -> float:
    """How long a run waits for another one: CLUSTERFORGE_LOCK_TIMEOUT seconds, else 60."""
    text = os.environ.get(TIMEOUT_ENV, "")
    try:
        value = float(text) if text.strip() else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT
    return max(value, 0.0)


def wait_for_lock(fd: int, holder: Callable[[], str]) -> None:
    """Take the flock of ``fd``, waiting at most wait_timeout() seconds for the holder to finish.

    ``holder()`` says who holds it, e.g. `another clusterforge (pid N) is writing X` (read when the wait
    starts and again when it ends: the holder may change). The wait is announced once on stderr; Busy
    (exit 1) is raised when it runs out.
    """
    if try_lock(fd):
        return
    timeout = wait_timeout()
    started = time.monotonic()
    print(f"{holder()}; waiting up to {timeout:g} s ({TIMEOUT_ENV} sets how long)", file=sys.stderr, flush=True)
    pause = 0.01
    while not try_lock(fd):
        waited = time.monotonic() - started
        if waited >= timeout:
            raise Busy(f"{holder()}; gave up after waiting {timeout:g} s: run again once it has finished")
        time.sleep(min(pause, timeout - waited))
        pause = min(pause * 2, 0.1)


def _same(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file ``fd`` is open on (a sweeper may have removed it)."""
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


@dataclass
class OwnedFolder:
    """A folder this process created and holds the flock of."""

    path: Path
    fd: int

    def remove(self) -> None:
        """Remove the folder and everything in it, then let go of it."""
        remove_tree(self.path)
        self.release()

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def owner_tag() -> str:
    """`<pid>-<random>`: names say which process made them; the random part keeps names unique."""
    return f"{os.getpid()}-{os.urandom(4).hex()}"


def pid_in(name: str) -> str:
    """The pid an owned name carries (see owner_tag), or '?'."""
    digits = name.rsplit("-", 2)[-2] if name.count("-") >= 2 else ""
    return digits if digits.isdigit() else "?"


def claim_folder(parent: Path, prefix: str, mode: int = 0o700) -> OwnedFolder:
    """A new folder ``parent/<prefix><pid>-<random>`` that this process owns."""
    while True:
        path = parent / f"{prefix}{owner_tag()}"
        try:
            os.mkdir(path, mode)
        except FileExistsError:
            continue
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        # between mkdir and flock a sweeper may have taken the new folder for abandoned and removed it
        if try_lock(fd) and _same(path, fd):
            return OwnedFolder(path, fd)
        os.close(fd)


def take_abandoned(path: Path) -> int | None:
    """Lock ``path`` when its owner is gone: the open, locked fd, else None (alive, or vanished)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    if try_lock(fd) and _same(path, fd):
        return fd
    os.close(fd)
    return None


@dataclass
class TempFile:
    """A temporary file beside its target, locked by this process until it is renamed or removed."""

    path: Path
    fd: int

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def sync(self) -> None:
        os.fsync(self.fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.close()


def temp_file_for(target: Path, mode: int) -> TempFile:
    """A new, empty, locked temporary file in ``target``'s folder (same filesystem: renames are atomic)."""
    while True:
        path = target.with_name(f".{target.name}.{owner_tag()}{TMP_SUFFIX}")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            continue
        if try_lock(fd) and _same(path, fd):
            os.fchmod(fd, mode)  # exactly this mode, whatever the umask
            return TempFile(path, fd)
        os.close(fd)


def sweep(folder: Path, *, prefix: str = "", suffix: str = TMP_SUFFIX) -> list[Path]:
    """Remove the entries of ``folder`` named ``prefix...suffix`` whose owner has died; what was removed."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    removed = []
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(suffix)):
            continue
        path = Path(entry.path)
        fd = take_abandoned(path)
        if fd is None:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                remove_tree(path)
            else:
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
        removed.append(path)
    return removed


def fsync_dir(folder: Path) -> None:
    """Make the entries of ``folder`` (new names, renames, removals) durable."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot sync a directory; the data itself is synced
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)
