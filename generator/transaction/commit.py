"""Stage a change of the output tree and its records, then commit it (see generator.transaction)."""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from generator.atomicfile import write_file
from generator.errors import UsageError
from generator.owned import OwnedFolder, TempFile, claim_folder, fsync_dir, temp_file_for
from generator.transaction.journal import (
    AREA,
    JOURNAL,
    STAGED,
    TXN_PREFIX,
    Journal,
    deepest_first,
    finish,
    roll_forward,
)

NEW_FILE_MODE = 0o644  # under the umask, as any new file
RECORD_MODE = 0o600


@dataclass(frozen=True)
class NewFile:
    data: bytes
    mode: int | None = None  # the mode of the file it replaces; None for a new file


def _check_folders(output: Path, writes: Collection[str], removes: Collection[str]) -> None:
    """Refuse, before anything changes, a write whose folder cannot be made with a plain mkdir and
    rename: a file, a symlink or another filesystem in the way (after the commit point it is too late)."""
    device = output.stat().st_dev
    going = set(removes)
    checked: set[str] = set()
    for name in writes:
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder in checked:
                continue
            checked.add(folder)
            try:
                info = os.lstat(output / folder)
            except FileNotFoundError:
                break  # made by the commit, and everything below it too
            if stat.S_ISDIR(info.st_mode) and info.st_dev == device:
                continue
            if stat.S_ISREG(info.st_mode) and folder in going:
                break
            what = "a symlink" if stat.S_ISLNK(info.st_mode) else "a file" if not stat.S_ISDIR(info.st_mode) else None
            reason = f"is {what}" if what else "is on another filesystem"
            raise UsageError(f"{output / folder}: {reason} where a folder of generated files goes; move it away")


def _stage_file(path: Path, new: NewFile) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, new.mode if new.mode is not None else NEW_FILE_MODE)
    try:
        if new.mode is not None:
            os.fchmod(fd, new.mode)  # exactly the old file's mode, whatever the umask
        view = memoryview(new.data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(
    folder: OwnedFolder,
    writes: Mapping[str, NewFile],
    removes: Collection[str],
    records: Mapping[Path, bytes],
    temps: list[TempFile],
) -> Journal:
    """Write every new file and record complete and synced; the journal of the commit that follows."""
    staged_root = folder.path / STAGED
    staged_root.mkdir()
    folders = {staged_root, folder.path, folder.path.parent}
    for name in sorted(writes):
        path = staged_root / name
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        _stage_file(path, writes[name])
    pairs = []
    for target, data in sorted(records.items()):
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = temp_file_for(target, RECORD_MODE)
        temps.append(temp)
        temp.write(data)
        temp.sync()
        folders.add(target.parent)
        pairs.append((os.path.relpath(temp.path, folder.path), os.path.relpath(target, folder.path)))
    for directory in sorted(folders, key=deepest_first):
        fsync_dir(directory)  # the staged names survive a power cut once the journal does
    return Journal(tuple(sorted(writes)), tuple(sorted(removes)), tuple(pairs))


def _write_journal(folder: Path, journal: Journal) -> None:
    partial = folder / f"{JOURNAL}.partial"
    _stage_file(partial, NewFile(journal.to_bytes(), 0o600))
    os.rename(partial, folder / JOURNAL)  # the commit point
    fsync_dir(folder)


def commit(
    output: Path, writes: Mapping[str, NewFile], removes: Collection[str], records: Mapping[Path, bytes]
) -> None:
    """Make ``output`` hold ``writes`` (output-relative path -> content) and not ``removes``, and each
    record file (absolute path -> content) its content, all in one commit."""
    if not writes and not removes:
        # the tree stays as it is: each record on its own is replaced in one step (sealed before state,
        # as the caller orders them; the state record is only trusted after checking the tree)
        for target, data in records.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_file(target, data, RECORD_MODE)
        return
    output.mkdir(parents=True, exist_ok=True)
    _check_folders(output, writes, removes)
    area = output / AREA
    area.mkdir(exist_ok=True)
    folder = claim_folder(area, TXN_PREFIX)
    temps: list[TempFile] = []
    try:
        journal = _stage(folder, writes, removes, records, temps)
        _write_journal(folder.path, journal)
    except BaseException as exc:
        for temp in temps:
            temp.discard()
        folder.remove()
        with suppress(OSError):
            area.rmdir()  # when no other transaction is in it
        if isinstance(exc, OSError):
            raise UsageError(f"{output}: could not write the new tree ({exc}); nothing was changed") from exc
        raise
    try:
        roll_forward(folder.path, journal)
    except BaseException as first:
        # past the commit point there is only forward: once more (an interrupt lands here only once)
        try:
            roll_forward(folder.path, journal)
        except OSError as again:
            _release(folder, temps)
            raise UsageError(
                f"{output}: the new tree is committed but could not be put in place ({again}); "
                "the next clusterforge command finishes it"
            ) from again
        _done(folder, temps)
        if not isinstance(first, OSError):
            raise
        return
    _done(folder, temps)


def _release(folder: OwnedFolder, temps: list[TempFile]) -> None:
    for temp in temps:
        temp.close()
    folder.release()


def _done(folder: OwnedFolder, temps: list[TempFile]) -> None:
    finish(folder.path)
    _release(folder, temps)
