"""The journal of a commit, and rolling it forward: every step can be done again after a crash."""

from __future__ import annotations

import json
import os
import posixpath
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import UsageError
from generator.owned import TMP_SUFFIX, fsync_dir, remove_tree

AREA = ".clusterforge"  # inside the output folder: transactions in progress (gitignored like the repository's)
TXN_PREFIX = "txn-"
STAGED = "new"
JOURNAL = "journal"
VERSION = 1


@dataclass(frozen=True)
class Journal:
    writes: tuple[str, ...]  # output-relative paths, staged at <transaction>/new/<path>
    removes: tuple[str, ...]  # output-relative paths
    records: tuple[tuple[str, str], ...] = field(default=())  # (staged, target), relative to the transaction

    def to_bytes(self) -> bytes:
        data = {"version": VERSION, "writes": self.writes, "removes": self.removes, "records": self.records}
        return json.dumps(data, indent=0).encode()

    @classmethod
    def read(cls, folder: Path) -> Journal | None:
        """The journal of a transaction folder; None when the commit point was not reached."""
        path = folder / JOURNAL
        try:
            data = json.loads(path.read_bytes())
            journal = cls(
                tuple(data["writes"]),
                tuple(data["removes"]),
                tuple((str(s), str(t)) for s, t in data["records"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path}: the journal of an interrupted commit cannot be read ({exc}); "
                f"remove {folder} to drop that commit"
            ) from None
        journal.check(path)
        return journal

    def check(self, path: Path) -> None:
        """Refuse a journal that would rename or remove anything outside its output and records."""
        for name in (*self.writes, *self.removes):
            parts = name.split("/")
            if posixpath.isabs(name) or ".." in parts or not name or parts[0] == AREA:
                raise UsageError(f"{path}: names '{name}', which is not inside the output folder")
        for staged, target in self.records:
            same_folder = posixpath.dirname(staged) == posixpath.dirname(target)
            name = posixpath.basename(target)
            own_temp = posixpath.basename(staged).startswith(f".{name}.") and staged.endswith(TMP_SUFFIX)
            if not (same_folder and own_temp):
                raise UsageError(f"{path}: names '{staged}' -> '{target}', which is not a record update")


def deepest_first(path: Path) -> tuple[int, str]:
    """A sort key: children before their parents, and always the same order (runs repeat exactly)."""
    return (-len(path.parts), str(path))


def output_of(folder: Path) -> Path:
    """The output folder a transaction folder belongs to."""
    return folder.parent.parent


def _rename(source: Path, target: Path) -> bool:
    """Rename if the source is still there: False when an earlier run already did it."""
    try:
        os.rename(source, target)
    except FileNotFoundError:
        if os.path.lexists(source):
            raise  # the source exists, so the target's folder is missing
        return False
    return True


def roll_forward(folder: Path, journal: Journal) -> None:
    """Make the output what the journal says: removals first (a removed file may be where a new
    folder goes), then the staged files, then the records; then sync every folder touched."""
    output = output_of(folder)
    touched: set[Path] = set()
    for name in journal.removes:
        target = output / name
        with suppress(FileNotFoundError):
            target.unlink()
        touched.add(target.parent)
    emptied = {(output / name).parent for name in journal.removes}
    while emptied:
        candidate = min(emptied, key=deepest_first)  # a parent may empty in turn
        emptied.discard(candidate)
        if output not in candidate.parents:
            continue
        try:
            candidate.rmdir()  # only when emptied: anything else in it stays
        except FileNotFoundError:
            pass  # an earlier, interrupted run removed it
        except OSError:
            continue
        touched.add(candidate.parent)
        emptied.add(candidate.parent)
    for name in journal.writes:
        target = output / name
        for parent in reversed(target.relative_to(output).parents):
            directory = output / parent
            if not directory.is_dir():
                directory.mkdir()
                touched.add(directory.parent)
        _rename(folder / STAGED / name, target)
        touched.add(target.parent)
    for staged, record in journal.records:
        target = Path(os.path.normpath(folder / record))
        _rename(Path(os.path.normpath(folder / staged)), target)
        touched.add(target.parent)
    for directory in sorted(touched, key=deepest_first):
        fsync_dir(directory)


def finish(folder: Path) -> None:
    """Remove a transaction folder whose changes are all in place (or that never committed)."""
    (folder / JOURNAL).unlink(missing_ok=True)  # from here on, nothing is left to roll forward
    remove_tree(folder)
    with suppress(OSError):
        folder.parent.rmdir()  # the output's .clusterforge, when no other transaction is in it
