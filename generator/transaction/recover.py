"""Finish or undo the commits of runs that died, before anything reads or writes the output."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from generator.owned import pid_in, take_abandoned, wait_for_lock
from generator.transaction.journal import AREA, TXN_PREFIX, Journal, finish, roll_forward


def recover(output: Path) -> list[str]:
    """Roll every interrupted commit in ``output`` forward (journal written) or back (not written).

    A transaction whose owner still runs (another repository writing the same output) is waited for.
    Returns what was done, one line per transaction, for --debug and tests.
    """
    area = output / AREA
    try:
        names = sorted(n for n in os.listdir(area) if n.startswith(TXN_PREFIX))
    except (FileNotFoundError, NotADirectoryError):
        return []
    if not names:
        with suppress(OSError):
            area.rmdir()  # a run died as it removed it
        return []
    done = []
    for name in names:
        folder = area / name
        fd = take_abandoned(folder)
        if fd is None:
            fd = _wait_for_owner(folder)
            if fd is None:
                continue  # it finished and removed its folder
        try:
            journal = Journal.read(folder)
            if journal is not None:
                roll_forward(folder, journal)
            finish(folder)
            done.append(f"{'rolled forward' if journal else 'rolled back'} {name}")
        finally:
            os.close(fd)
    return done


def _wait_for_owner(folder: Path) -> int | None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    output = folder.parent.parent
    try:
        wait_for_lock(fd, lambda: f"another clusterforge (pid {pid_in(folder.name)}) is writing {output}")
    except BaseException:
        os.close(fd)
        raise
    if not folder.exists():
        os.close(fd)
        return None
    return fd
