"""Write one file so that it is always either the old file or the new one, never a part of either.

The new content goes to a locked temporary file beside the target (generator.owned), is synced,
and replaces the target with one rename; a kill at any moment leaves the old file and at most a
temporary file that the next run sweeps. For settings, models.yaml, the secrets file, the age key.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.owned import TempFile, fsync_dir, sweep, temp_file_for


def _mode(target: Path, default: int) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return default


def _install(temp: TempFile, target: Path, create: bool) -> bool:
    """Put the synced temporary file in place; with ``create``, only if the target does not exist."""
    temp.sync()
    try:
        if not create:
            os.replace(temp.path, target)
            return True
        try:
            os.link(temp.path, target)  # fails if the target exists: never overwrites
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if target.exists():  # no hard links here; the repository lock keeps other writers out
                return False
            os.replace(temp.path, target)
            return True
        return True
    finally:
        temp.discard()  # after link: the temporary name; after replace: nothing left to remove
        fsync_dir(target.parent)


def write_file(target: Path, data: bytes, mode: int = 0o644, *, create: bool = False) -> bool:
    """Replace ``target`` with ``data`` in one step, keeping its mode (``mode`` for a new file).

    With ``create``, a file that exists is left alone and False is returned.
    """
    sweep(target.parent, prefix=f".{target.name}.")
    if create and target.exists():
        return False
    temp = temp_file_for(target, _mode(target, mode))
    try:
        temp.write(data)
    except BaseException:
        temp.discard()
        raise
    return _install(temp, target, create)


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A copy of ``target`` to change in place (by a program, e.g. `sops set`); it replaces the target
    when the block ends without an error, and is removed otherwise."""
    sweep(target.parent, prefix=f".{target.name}.")
    temp = temp_file_for(target, _mode(target, 0o644))
    try:
        temp.write(target.read_bytes())
        yield temp.path
    except BaseException:
        temp.discard()
        raise
    _sync_path(temp.path)  # the program may have written a new file under the name
    _install(temp, target, create=False)


def _sync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
