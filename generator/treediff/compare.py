"""Pairs the files of two trees by their relative path and diffs what differs, secrets redacted."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from generator.treediff import prefix as tree_prefix
from generator.treediff.redact import redact
from generator.treediff.targets import Tree
from generator.treediff.walk import Entry, Kind, read_tree

NO_NEWLINE = "\\ No newline at end of file\n"


class Status(StrEnum):
    CHANGED = "changed"
    ONLY_LEFT = "only in left"
    ONLY_RIGHT = "only in right"
    IDENTICAL = "identical"


@dataclass(frozen=True)
class FileDiff:
    path: str
    status: Status
    diff: tuple[str, ...] = ()  # CHANGED text: the unified diff, each line ending in "\n"
    reason: str = ""  # CHANGED but not shown as a diff: binary or too large, unreadable
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class Comparison:
    left: Tree
    right: Tree
    files: tuple[FileDiff, ...]  # sorted by path
    notes: tuple[str, ...]  # files read as plain text or left out, and why
    placeholders: tuple[str, str] | None  # the prefixes shown as <tree>, left and right

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status is status)

    @property
    def differ(self) -> bool:
        return any(f.status is not Status.IDENTICAL for f in self.files)

    def summary(self) -> str:
        return (
            f"{self.count(Status.CHANGED)} changed, {self.count(Status.ONLY_LEFT)} only in {self.left.label}, "
            f"{self.count(Status.ONLY_RIGHT)} only in {self.right.label}, {self.count(Status.IDENTICAL)} identical"
        )


def compare(left: Tree, right: Tree, *, exact: bool = False, context: int = 3) -> Comparison:
    left_files = read_tree(left.path, left.label)
    right_files = read_tree(right.path, right.label)
    placeholders = tree_prefix.placeholders(left, right, exact)
    sides = (_Side(left, placeholders and placeholders[0]), _Side(right, placeholders and placeholders[1]))
    files: list[FileDiff] = []
    for path in sorted(left_files.entries.keys() | right_files.entries.keys()):
        old, new = left_files.entries.get(path), right_files.entries.get(path)
        unreadable = _unreadable(path, sides, old, new)
        if unreadable is not None:  # what it holds is unknown: it cannot be shown the same, nor only on one side
            files.append(unreadable)
        elif new is None:
            files.append(FileDiff(path, Status.ONLY_LEFT))
        elif old is None:
            files.append(FileDiff(path, Status.ONLY_RIGHT))
        else:
            files.append(_pair(path, old, new, sides, context))
    notes = [*left_files.notes, *right_files.notes, *sides[0].notes, *sides[1].notes]
    return Comparison(left, right, tuple(files), tuple(notes), placeholders)


class _Side:
    """One tree's way of turning a file into what is compared: redacted, its prefix replaced."""

    def __init__(self, tree: Tree, prefix: str | None) -> None:
        self.tree = tree
        self.prefix = prefix
        self.notes: list[str] = []

    def shown(self, path: str, entry: Entry) -> str:
        if entry.kind is not Kind.TEXT:
            return entry.text
        redacted = redact(entry.text)
        if redacted.problem is not None:
            self.notes.append(
                f"{self.tree.label}/{path}: YAML does not parse ({redacted.problem}); "
                "compared as text with ENC[...] values and Secret data lines redacted"
            )
        return redacted.text if self.prefix is None else tree_prefix.substitute(redacted.text, self.prefix)


def _unreadable(path: str, sides: tuple[_Side, _Side], old: Entry | None, new: Entry | None) -> FileDiff | None:
    for side, entry in zip(sides, (old, new), strict=True):
        if entry is not None and entry.kind is Kind.UNREADABLE:
            return FileDiff(path, Status.CHANGED, reason=f"unreadable: {side.tree.label}/{path}: {entry.text}")
    return None


def _pair(path: str, old: Entry, new: Entry, sides: tuple[_Side, _Side], context: int) -> FileDiff:
    if old == new:
        return FileDiff(path, Status.IDENTICAL)  # the same bytes: nothing to redact or replace
    if Kind.OPAQUE in (old.kind, new.kind):
        return FileDiff(path, Status.CHANGED, reason="binary or too large")
    before, after = sides[0].shown(path, old), sides[1].shown(path, new)
    if before == after:
        return FileDiff(path, Status.IDENTICAL)
    left, right = sides[0].tree.label, sides[1].tree.label
    diff = tuple(
        _terminated(difflib.unified_diff(_lines(before), _lines(after), f"{left}/{path}", f"{right}/{path}", n=context))
    )
    added = sum(1 for line in diff[2:] if line.startswith("+"))
    removed = sum(1 for line in diff[2:] if line.startswith("-"))
    return FileDiff(path, Status.CHANGED, diff, added=added, removed=removed)


def _lines(text: str) -> list[str]:
    """Lines split at "\\n" only (str.splitlines also splits at form feeds and Unicode breaks)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _terminated(lines: Iterable[str]) -> list[str]:
    """difflib leaves a last line without its newline so: git's marker after it."""
    out: list[str] = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return out
