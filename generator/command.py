"""One wrapper for every external binary: timeout, memory bound, accepted exit codes, readable failures.

Secret values only ever reach a child process through stdin, never argv or env.

The memory bound is RLIMIT_DATA, set by ``/bin/sh``'s ``ulimit -d`` just before the program starts
(no Python code runs between fork and exec, which threads would make unsafe). Since Linux 4.7 it
counts every private writable mapping, which is where a Go program's heap lives, so it tracks what
the program really uses; RLIMIT_AS would also count the address space Go reserves without using it
(kubectl fails at start under 512 MiB and stops at a third of a 1 GiB limit), and GOMEMLIMIT is only
a target for Go's collector, which a growing live heap passes freely.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ToolError, UsageError


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: bytes


@dataclass(frozen=True)
class Command:
    """A program and the fixed leading arguments every call of it shares."""

    argv: tuple[str, ...]
    timeout: float = 60.0
    ok_codes: frozenset[int] = field(default_factory=lambda: frozenset({0}))
    env: Mapping[str, str] = field(default_factory=dict)
    inherit_env: bool = True  # False: the program sees ``env`` only
    memory_limit: int | None = None  # bytes of data memory (RLIMIT_DATA) the program may map

    def run(
        self,
        *args: str,
        stdin: bytes | None = None,
        cwd: Path | None = None,
        ok_codes: frozenset[int] | None = None,
    ) -> Result:
        argv = [*self.argv, *args]
        env = ({**os.environ, **self.env} if self.env else None) if self.inherit_env else dict(self.env)
        launched = argv
        if self.memory_limit is not None:
            if shutil.which(argv[0]) is None:
                raise ToolError(argv, None, "", "could not be started: program not found")
            # a hard limit already lower than ours makes ``ulimit`` fail: that lower limit then holds
            script = 'ulimit -d "$0" 2>/dev/null; exec "$@"'
            launched = ["/bin/sh", "-c", script, str(self.memory_limit // 1024), *argv]
        try:
            proc = subprocess.run(
                launched,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                cwd=cwd,
                env=env,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ToolError(argv, None, _text(exc.stderr), f"timed out after {self.timeout:g}s") from None
        except FileNotFoundError:
            raise ToolError(argv, None, "", "could not be started: program not found") from None
        accepted = self.ok_codes if ok_codes is None else ok_codes
        if proc.returncode not in accepted:
            raise ToolError(argv, proc.returncode, _text(proc.stderr))
        return Result(proc.returncode, proc.stdout, proc.stderr)


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = text.strip().splitlines()
    return "\n".join(lines[-15:])


def find_program(name: str, hint: str) -> str:
    """The path of ``name`` on PATH, or a UsageError telling how to get it."""
    found = shutil.which(name)
    if found is None:
        raise UsageError(f"`{name}` is not on PATH: {hint}")
    return found


def optional_program(name: str) -> str | None:
    return shutil.which(name)
