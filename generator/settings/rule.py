"""A problem found by a rule that looks at several settings at once."""

from __future__ import annotations

from dataclasses import dataclass

from generator.errors import KeyPath


@dataclass(frozen=True)
class RuleProblem:
    path: KeyPath
    message: str
    at_key: bool = False  # point at the key rather than its value
    warning: bool = False  # reported, but does not stop configure
