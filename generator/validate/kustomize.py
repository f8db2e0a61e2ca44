"""Build kustomize directories with ``kubectl kustomize``: what Flux and ArgoCD will build."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from generator.command import Command, optional_program
from generator.errors import Problem, ToolError

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class Build:
    directory: str  # relative to the tree root
    output: bytes | None  # the built YAML stream, or None when the build failed
    problem: Problem | None


def kustomize_dirs(paths: Iterable[str]) -> list[str]:
    """The folders, among the parents of ``paths``, that hold a kustomization file."""
    found = set()
    for path in paths:
        parent, _, name = path.rpartition("/")
        if name in KUSTOMIZATION_FILES:
            found.add(parent)
    return sorted(found)


def kubectl() -> Command | None:
    program = optional_program("kubectl")
    return Command((program, "kustomize"), timeout=120) if program else None


def build_dirs(root: Path, directories: list[str], shown_root: str) -> list[Build]:
    """``kubectl kustomize`` for each directory, in parallel; a failure becomes a problem."""
    command = kubectl()
    if command is None:
        raise ToolError(["kubectl", "kustomize"], None, "", "could not be started: kubectl is not on PATH")

    def one(directory: str) -> Build:
        try:
            result = command.run(str(root / directory) if directory else str(root))
        except ToolError as exc:
            message = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else str(exc)
            message = message.replace(str(root) + "/", "").removeprefix("error: ")
            where = f"{shown_root}/{directory}/kustomization.yaml" if directory else f"{shown_root}/kustomization.yaml"
            return Build(directory, None, Problem(where, None, None, "", f"kustomize build failed: {message}"))
        return Build(directory, result.stdout, None)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, directories))
