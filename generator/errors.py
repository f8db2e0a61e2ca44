"""Error types and the one table of exit codes.

Every failure a user can cause is a ``ClusterforgeError``; the CLI turns it into
its lines on stderr and its exit code. Anything else is a bug in clusterforge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # the command worked and found something: --check drift, validation errors
    USAGE = 2  # the user's input is wrong: settings, files, flags
    TOOL = 3  # an external program (sops, kubectl, ...) failed
    INTERNAL = 4  # a bug in clusterforge


KeyPath = tuple[str | int, ...]


def dotted(path: KeyPath) -> str:
    """A key path as people write it: ``spec.containers[0].env`` (a Problem's ``path``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with an input file, at a place in it."""

    file: str
    line: int | None
    col: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ClusterforgeError(Exception):
    exit_code: ExitCode = ExitCode.INTERNAL

    def lines(self) -> list[str]:
        return [str(self)]


class UsageError(ClusterforgeError):
    """A file is missing, a flag is wrong, a precondition does not hold."""

    exit_code = ExitCode.USAGE


class Refused(UsageError):
    """A request that would break something: the reasons first, one per line, then the verdict."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        self.details = list(details)
        super().__init__(message)

    def lines(self) -> list[str]:
        return [*self.details, str(self)]


class SettingsError(UsageError):
    """Everything wrong with the settings, all at once, one line each."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(set(problems), key=_problem_order)
        super().__init__(f"{len(self.problems)} problem(s) in the settings")

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class InputError(SettingsError):
    """Everything wrong with input files that are not the settings (CRDs to extract), one line each."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(problems)
        self.args = (f"{len(self.problems)} problem(s) in the input",)


def _problem_order(p: Problem) -> tuple[str, int, int, str, str]:
    return (p.file, p.line or 0, p.col or 0, p.path, p.message)


class ToolError(ClusterforgeError):
    """An external program failed: the message names the command, its exit code and stderr."""

    exit_code = ExitCode.TOOL

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr: str, reason: str = "") -> None:
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        shown = " ".join(self.argv)
        head = f"`{shown}` {reason}" if returncode is None else f"`{shown}` failed with exit code {returncode}"
        tail = stderr.strip()
        super().__init__(f"{head}: {tail}" if tail else head)


class Busy(ClusterforgeError):
    """Another clusterforge kept the repository (or output folder) locked for longer than the wait."""

    exit_code = ExitCode.FINDINGS


class CheckFailed(ClusterforgeError):
    """The command ran and the answer is "no": output drift, validation findings, missing secrets."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        self.details = list(details)
        super().__init__(message)

    def lines(self) -> list[str]:
        return [*self.details, str(self)]
