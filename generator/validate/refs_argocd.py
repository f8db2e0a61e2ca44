"""ArgoCD Applications: what they read from this repository must exist, and their project must allow them.

- every source ``path`` in this repository exists (an ApplicationSet template's too, unless templated);
- Helm value files exist: relative ones in their source's path, ``$ref/...`` ones in the source whose
  ``ref`` is that name (which must exist, in the same Application);
- when the repository defines AppProjects, an Application's project is one of them (or ``default``),
  and its sources and destination are among the project's ``sourceRepos`` and ``destinations``.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator
from typing import Any

from generator.errors import KeyPath
from generator.validate.model import Finding
from generator.validate.repo import Repo, clean_path, normalize_url
from generator.validate.resources import ARGOCD, Inventory, Resource, argo_sources


def check(inventory: Inventory, repo: Repo) -> Iterator[Finding]:
    projects = {project.name: project for project in inventory.of_kind(ARGOCD, "AppProject")}
    for application in inventory.to_check(ARGOCD, "Application"):
        sources = argo_sources(application)
        yield from _sources(application, sources, repo)
        if projects:
            yield from _permitted(application, sources, projects)
    for application_set in inventory.to_check(ARGOCD, "ApplicationSet"):
        template = [(("spec", "template", *path), source) for path, source in _template_sources(application_set)]
        yield from _sources(application_set, template, repo)


def _template_sources(application_set: Resource) -> list[tuple[KeyPath, dict[str, Any]]]:
    spec = application_set.get("spec", "template", "spec")
    if not isinstance(spec, dict):
        return []
    found: list[tuple[KeyPath, dict[str, Any]]] = []
    if isinstance(spec.get("source"), dict):
        found.append((("spec", "source"), spec["source"]))
    many = spec.get("sources")
    for index, item in enumerate(many if isinstance(many, list) else []):
        if isinstance(item, dict):
            found.append((("spec", "sources", index), item))
    return found


def _templated(value: object) -> bool:
    return isinstance(value, str) and "{{" in value


def _sources(owner: Resource, sources: list[tuple[KeyPath, dict[str, Any]]], repo: Repo) -> Iterator[Finding]:
    refs = {s.get("ref"): s for _, s in sources if isinstance(s.get("ref"), str)}
    for path, source in sources:
        folder = source.get("path")
        ours = repo.is_this(source.get("repoURL")) and not _templated(source.get("repoURL"))
        local = isinstance(folder, str) and ours and not _templated(folder)
        if local and not source.get("chart") and not repo.has_dir(str(folder)):
            yield owner.finding((*path, "path"), f"{folder} does not exist in the repository")
            continue
        helm = source.get("helm")
        files = helm.get("valueFiles") if isinstance(helm, dict) else None
        for index, name in enumerate(files if isinstance(files, list) else []):
            at = (*path, "helm", "valueFiles", index)
            if not isinstance(name, str) or "://" in name or _templated(name):
                continue  # a URL, or filled in by an ApplicationSet
            if name.startswith("$"):
                yield from _ref_value_file(owner, at, name, refs, len(sources), repo)
            elif local and not repo.has_file(posixpath.join(clean_path(str(folder)), name)):
                yield owner.finding(at, f"value file {name} does not exist in {folder}")


def _ref_value_file(
    owner: Resource, at: KeyPath, name: str, refs: dict[Any, dict[str, Any]], count: int, repo: Repo
) -> Iterator[Finding]:
    """``$values/path``: the root of the source whose ``ref`` is ``values``, in the same Application."""
    ref, _, rest = name[1:].partition("/")
    target = refs.get(ref)
    if target is None:
        where = "no source" if count > 1 else "a single source (refs need spec.sources)"
        yield owner.finding(at, f"${ref} names a source with ref: {ref}, and the Application has {where} with it")
        return
    if repo.is_this(target.get("repoURL")) and not repo.has_file(rest):
        yield owner.finding(at, f"value file {name} does not exist: {rest} is not in the repository")


def _allowed(patterns: list[str], value: str, *, urls: bool = False) -> bool:
    """ArgoCD's project globs: a pattern matches and no ``!pattern`` does (URLs also as normalized)."""

    def matches(pattern: str) -> bool:
        same_url = urls and normalize_url(pattern) == normalize_url(value)
        return same_url or fnmatch.fnmatchcase(value, pattern)

    denied = any(p.startswith("!") and matches(p[1:]) for p in patterns)
    return not denied and any(not p.startswith("!") and matches(p) for p in patterns)


def _permitted(
    application: Resource, sources: list[tuple[KeyPath, dict[str, Any]]], projects: dict[str, Resource]
) -> Iterator[Finding]:
    name = application.get("spec", "project")
    if not isinstance(name, str) or name == "default":
        return
    project = projects.get(name)
    if project is None:
        known = ", ".join(sorted(projects))
        yield application.finding(("spec", "project"), f"AppProject {name} does not exist (the repository has {known})")
        return
    repos = [str(r) for r in project.get("spec", "sourceRepos") or [] if isinstance(r, str)]
    for path, source in sources:
        url = source.get("repoURL")
        if isinstance(url, str) and not _allowed(repos, url, urls=True):
            yield application.finding((*path, "repoURL"), f"AppProject {name} does not allow source {url}")
    destination = application.get("spec", "destination")
    if not isinstance(destination, dict):
        return
    namespace = str(destination.get("namespace") or "")
    allowed, denied, comparable = False, False, False
    for entry in project.get("spec", "destinations") or []:
        if not isinstance(entry, dict):
            continue
        # a cluster named in one place and given by URL in the other cannot be compared
        keys = [k for k in ("server", "name") if isinstance(entry.get(k), str) and isinstance(destination.get(k), str)]
        if not keys:
            continue
        comparable = True
        patterns = {k: str(entry[k]) for k in keys} | {"namespace": str(entry.get("namespace", "*"))}
        values = {k: str(destination[k]) for k in keys} | {"namespace": namespace}
        if all(fnmatch.fnmatchcase(values[k], p.removeprefix("!")) for k, p in patterns.items()):
            if any(p.startswith("!") for p in patterns.values()):
                denied = True  # ArgoCD's deny entries: a pattern led by "!"
            else:
                allowed = True
    if not comparable or (allowed and not denied):
        return
    shown = destination.get("server") or destination.get("name")
    yield application.finding(
        ("spec", "destination"), f"AppProject {name} does not allow namespace '{namespace}' on {shown}"
    )
