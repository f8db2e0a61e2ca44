"""What ``clusterforge diff`` prints: the diffs, ``--stat`` or ``--name-only``; a summary line."""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.treediff.compare import Comparison, FileDiff, Status
from generator.treediff.prefix import PLACEHOLDER

# a tree is anyone's input: its bytes never drive the terminal (escape sequences), never break lines
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":  # a file name byte that is not UTF-8 (surrogateescape)
        return f"\\x{ord(char) - 0xDC00:02x}" if char >= "\udc80" else "\\ufffd"
    return f"\\x{ord(char):02x}"


def shown(line: str) -> str:
    """A line safe to print: control characters and undecodable bytes as \\xNN, a newline only at its end."""
    body, end = (line[:-1], "\n") if line.endswith("\n") else (line, "")
    return _CONTROL.sub(_escaped, body.replace("\n", "\\n")) + end


def full(comparison: Comparison) -> Iterator[str]:
    if comparison.placeholders is not None:
        left, right = comparison.placeholders
        yield shown(
            f"{PLACEHOLDER} is {left} on the left, {right} on the right (--exact shows these paths as written)\n"
        )
    for file in comparison.files:
        if file.status is Status.CHANGED and file.diff:
            yield from (shown(line) for line in file.diff)
        elif file.status is not Status.IDENTICAL:
            yield shown(_one_line(comparison, file) + "\n")
    yield shown(comparison.summary() + "\n")


def stat(comparison: Comparison) -> Iterator[str]:
    for file in comparison.files:
        if file.status is not Status.IDENTICAL:
            yield shown(_one_line(comparison, file) + "\n")
    yield shown(comparison.summary() + "\n")


def names(comparison: Comparison) -> Iterator[str]:
    for file in comparison.files:
        if file.status is not Status.IDENTICAL:
            yield shown(file.path + "\n")


def _one_line(comparison: Comparison, file: FileDiff) -> str:
    if file.status is Status.ONLY_LEFT:
        return f"only in {comparison.left.label}: {file.path}"
    if file.status is Status.ONLY_RIGHT:
        return f"only in {comparison.right.label}: {file.path}"
    detail = file.reason or f"+{file.added} -{file.removed}"
    return f"changed: {file.path} ({detail})"
