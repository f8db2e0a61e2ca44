"""Validate a tree clusterforge rendered, before configure writes it.

The tree is copied into a scratch repository at the place its own Flux Kustomizations or ArgoCD
Applications say it lives (their ``path``s start with gitops.path, e.g. ``./output/...``), so those
paths are checked as the engine will read them even when configure writes elsewhere (``--output``).
CRD schemas come from the bundled ones (every kind clusterforge renders), then from
CLUSTERFORGE_SCHEMA_LOCATION; kinds whose schema cannot be had are named in one warning.
"""

from __future__ import annotations

import posixpath
import shutil
from collections import Counter
from pathlib import Path

from generator.scratch import folder as scratch_folder
from generator.validate.defaults import from_settings
from generator.validate.documents import YamlError, loads
from generator.validate.locations import from_environment
from generator.validate.model import MissingSchemas, Options, Report
from generator.validate.repo import clean_path
from generator.validate.resources import ARGOCD, FLUX_KUSTOMIZE
from generator.validate.run import validate


def _repository_paths(document: object) -> list[str]:
    """The repository folders a Flux Kustomization or an ArgoCD Application (its non-chart sources) reads."""
    spec = document.get("spec") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(spec, dict):
        return []
    if document.get("kind") == "Kustomization" and str(document.get("apiVersion", "")).startswith(FLUX_KUSTOMIZE):
        return [spec["path"]] if isinstance(spec.get("path"), str) else []
    if document.get("kind") != "Application" or not str(document.get("apiVersion", "")).startswith(ARGOCD):
        return []
    many = spec.get("sources")
    sources = [spec.get("source"), *(many if isinstance(many, list) else [])]
    return [s["path"] for s in sources if isinstance(s, dict) and isinstance(s.get("path"), str) and not s.get("chart")]


def mount_point(tree: dict[str, bytes]) -> str:
    """Where in the repository the tree lives, by majority of its Flux Kustomization and ArgoCD Application paths."""
    folders: set[str] = set()
    for path in tree:
        parent = posixpath.dirname(path)
        while parent:
            folders.add(parent)
            parent = posixpath.dirname(parent)
    votes: Counter[str] = Counter()
    for path, data in tree.items():
        if not path.endswith((".yaml", ".yml")) or not (FLUX_KUSTOMIZE.encode() in data or ARGOCD.encode() in data):
            continue
        try:
            loaded = loads(data.decode("utf-8", "replace"))
        except YamlError:
            continue  # validation reports it
        documents = loaded if isinstance(loaded, list) else [loaded]
        for wanted in [clean_path(p) for document in documents for p in _repository_paths(document)]:
            matches = [f for f in folders if wanted == f or wanted.endswith("/" + f)]
            if matches:
                longest = max(matches, key=len)
                votes[wanted[: len(wanted) - len(longest)].rstrip("/")] += 1
    return votes.most_common(1)[0][0] if votes else ""


def check_tree(
    tree: dict[str, bytes], shown_output: str, kubernetes_version: str | None = None, repository: str | None = None
) -> Report:
    """Kustomize builds, schemas and cross-references of ``tree`` (paths relative to the output folder).
    ``repository``: the URL of the repository the tree lives in; sources naming another are not looked for
    in the tree (unknown: every source is taken as this repository)."""
    scratch = scratch_folder("validate")
    try:
        prefix = mount_point(tree)
        root = scratch / prefix if prefix else scratch
        for path, data in tree.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        options = Options(
            schema_locations=from_environment(),
            kubernetes_version=kubernetes_version or from_settings(Path.cwd()).kubernetes_version,
            missing_schemas=MissingSchemas.IGNORE,  # named once, by unchecked_note()
            repo_root=scratch,  # no .git there: the URL given names the repository
            repo_urls=(repository,) if repository else (),
            shown_as=(root, shown_output),
        )
        return validate([root], options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # the scratch copy only, never the output


def unchecked_note(report: Report) -> str | None:
    """One line naming the kinds no schema checked, or None when every kind was checked."""
    if not report.unchecked:
        return None
    kinds = ", ".join(sorted(report.unchecked))
    return (
        f"warning: no schema checked {kinds} (make schemas from their CRDs with `clusterforge schemas extract` "
        "and set CLUSTERFORGE_SCHEMA_LOCATION to the folder)"
    )
