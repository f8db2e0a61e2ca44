"""Build kustomize directories with ``kubectl kustomize``: what Flux and ArgoCD will build.

Each directory is built through a throwaway kustomization that includes it with
``buildMetadata: [originAnnotations]``, so every built object says which file it came from and
findings in the built output point at the source line. A failed build is run again directly, for
kustomize's own error message without the wrapper around it.
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml_rs

from generator.command import Command, optional_program
from generator.errors import ToolError
from generator.scratch import folder as scratch_folder
from generator.validate.kustomization import is_remote

ORIGIN = "config.kubernetes.io/origin"


@dataclass
class Built:
    """One object a build produced and the file it came from: its kustomization when a generator made it."""

    data: dict[str, Any]
    origin: Path | None


@dataclass
class Build:
    directory: Path
    objects: list[Built] = field(default_factory=list)
    error: str | None = None  # kustomize's message when the build failed


def kubectl(plugin_home: Path | None = None) -> Command | None:
    """``kubectl kustomize``; with a plugin home, plugins on and looked up there only (see validate.ksops)."""
    program = optional_program("kubectl")
    if not program:
        return None
    if plugin_home is None:
        return Command((program, "kustomize"), timeout=120)
    return Command(
        (program, "kustomize", "--enable-alpha-plugins"), timeout=120, env={"KUSTOMIZE_PLUGIN_HOME": str(plugin_home)}
    )


def build_dirs(
    directories: list[Path], shown: dict[Path, str], plugin_builds: frozenset[Path] = frozenset()
) -> list[Build]:
    """``kubectl kustomize`` each directory, in parallel; a failed build carries kustomize's message.
    The ``plugin_builds`` are built with plugins on: their only plugins are KSOPS generators, which
    kubectl's kustomize leaves out (it runs no exec functions)."""
    scratch = scratch_folder("kustomize")
    empty = scratch / "plugins"
    empty.mkdir()
    plain, with_plugins = kubectl(), kubectl(empty)  # an empty plugin home: no installed plugin runs either
    if plain is None or with_plugins is None:
        shutil.rmtree(scratch, ignore_errors=True)
        raise ToolError(["kubectl", "kustomize"], None, "", "could not be started: kubectl is not on PATH")
    try:

        def one(index: int, directory: Path) -> Build:
            command = with_plugins if directory in plugin_builds else plain
            wrapper = scratch / str(index)
            wrapper.mkdir()
            target = os.path.relpath(directory, wrapper)
            (wrapper / "kustomization.yaml").write_text(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                f"buildMetadata: [originAnnotations]\nresources:\n  - {target}\n"
            )
            try:
                result = command.run(str(wrapper))
            except ToolError:
                return _direct(command, directory, shown.get(directory, str(directory)))
            return Build(directory, _objects(result.stdout.decode("utf-8", "replace"), wrapper))

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(one, range(len(directories)), directories))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # our own scratch folder only


def _direct(command: Command, directory: Path, shown: str) -> Build:
    """The directory built on its own: kustomize's error without our wrapper, or objects without origins."""
    try:
        result = command.run(str(directory))
    except ToolError as exc:
        return Build(directory, error=kustomize_message(exc.stderr or str(exc), directory, shown))
    return Build(directory, _objects(result.stdout.decode("utf-8", "replace"), directory))


_KLOG_ERROR = re.compile(r'"command failed" err="(.*)"\s*$')


def kustomize_message(stderr: str, directory: Path, shown: str) -> str:
    """kustomize's own words from kubectl's stderr: the klog frame and the scratch paths taken off."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    message = lines[-1] if lines else "failed"
    framed = _KLOG_ERROR.search(message)
    if framed:
        message = framed.group(1).replace('\\"', '"')
    message = message.removeprefix("error: ")
    return message.replace(str(directory) + "/", "").replace(str(directory), shown)


def _objects(stream: str, wrapper: Path) -> list[Built]:
    loaded = yaml_rs.loads(stream, parse_datetime=False) if stream.strip() else []
    documents = loaded if isinstance(loaded, list) else [loaded]
    objects = []
    for data in documents:
        if not isinstance(data, dict):
            continue
        objects.append(Built(data, _take_origin(data, wrapper)))
    return objects


def _take_origin(data: dict[str, Any], wrapper: Path) -> Path | None:
    """Remove the origin annotation kustomize added for us and return the file it names."""
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return None
    text = annotations.pop(ORIGIN)
    if not annotations:
        del metadata["annotations"]  # type: ignore[union-attr]
    try:
        origin = yaml_rs.loads(str(text), parse_datetime=False)
    except yaml_rs.YAMLDecodeError:
        return None
    if not isinstance(origin, dict) or origin.get("repo"):
        return None
    path = origin.get("path") or origin.get("configuredIn")  # a generator's object: its kustomization
    if not isinstance(path, str) or is_remote(path):
        return None
    return Path(os.path.normpath(wrapper / path))
