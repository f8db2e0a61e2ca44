"""ArgoCD Applications: the paths (and Helm value files) they read from this repository must exist."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from generator.validate.model import Finding
from generator.validate.repo import Repo, clean_path
from generator.validate.resources import ARGOCD, Inventory, argo_sources


def check(inventory: Inventory, repo: Repo) -> Iterator[Finding]:
    for application in inventory.to_check(ARGOCD, "Application"):
        for path, source in argo_sources(application):
            folder = source.get("path")
            if not isinstance(folder, str) or source.get("chart") or not repo.is_this(source.get("repoURL")):
                continue
            if not repo.has_dir(folder):
                yield application.finding((*path, "path"), f"{folder} does not exist in the repository")
                continue
            helm = source.get("helm")
            files = helm.get("valueFiles") if isinstance(helm, dict) else None
            for index, name in enumerate(files if isinstance(files, list) else []):
                if not isinstance(name, str) or name.startswith("$") or "://" in name:
                    continue  # another source's files ($values/...) or a URL
                target = posixpath.join(clean_path(folder), name)
                if not repo.has_file(target):
                    yield application.finding(
                        (*path, "helm", "valueFiles", index), f"value file {name} does not exist in {folder}"
                    )
