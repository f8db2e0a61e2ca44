"""This run's scratch space: one folder per process in $TMPDIR, removed on exit, swept when abandoned.

Validation copies the rendered tree and writes kustomize wrappers here. The folder
(`clusterforge-run-<pid>-<random>`) is locked by its process (generator.owned); the next run removes
every such folder whose process has died, kill -9 included. Standard library only.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from pathlib import Path

from generator.owned import OwnedFolder, claim_folder
from generator.owned import sweep as sweep_owned

PREFIX = "clusterforge-run-"
_CLEANING_SIGNALS = {signal.SIGTERM, signal.SIGHUP}  # the ones the command line's handler cleans up after

_lock = threading.RLock()  # re-entrant: the SIGTERM handler may interrupt its holder
_run: dict[int, OwnedFolder] = {}  # by pid: a forked child makes its own


def _root() -> Path:
    """Where tempfile.gettempdir() puts things, without importing tempfile: the no-op path is short."""
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(name)
        if value and os.path.isdir(value):
            return Path(value).absolute()
    return Path("/tmp")  # noqa: S108 - a new folder with a random name, mode 0700, made with mkdir


def sweep() -> list[Path]:
    """Remove the scratch folders of clusterforge runs that are no longer running."""
    return sweep_owned(_root(), prefix=PREFIX, suffix="")


def folder(purpose: str) -> Path:
    """A new, empty folder inside this run's scratch folder; ``purpose`` starts its name."""
    with _lock:
        run = _run.get(os.getpid())
        if run is None:
            sweep()
            # SIGTERM and SIGHUP wait until the folder is known to remove(): their handler removes it
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _CLEANING_SIGNALS)
            try:
                run = claim_folder(_root(), PREFIX)
                _run[os.getpid()] = run
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            atexit.register(remove)
    while True:
        path = run.path / f"{purpose}-{os.urandom(4).hex()}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def remove() -> None:
    """Remove this run's scratch folder (at exit; also before a process ends without exit handlers)."""
    # a SIGTERM arriving meanwhile waits: its handler would find the folder gone from _run and end the
    # process halfway through removing it
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _CLEANING_SIGNALS)
    try:
        with _lock:
            run = _run.pop(os.getpid(), None)
        if run is not None:
            run.remove()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
