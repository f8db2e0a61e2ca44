"""Apps people write by hand in the output tree, found so that the generated entry points take them in.

Flux (cluster-template's layout):

    kubernetes/apps/<ns>/kustomization.yaml    a namespace folder of your own, taken whole: listed in
                                               the generated kubernetes/apps/kustomization.yaml
    kubernetes/apps/<ns>/<app>/ks.yaml         an app folder of your own (its Flux Kustomization) in any
                                               other namespace folder: listed in the generated
                                               kubernetes/apps/<ns>/kustomization.yaml

ArgoCD: an Application of your own anywhere under argocd/ (argocd/apps/<app>.yaml by convention) is
synced by the root Application already (it reads argocd/ recursively); the generated AppProject
admits its destination and source repositories when it names clusterforge's project.

A file is the user's when it does not start with clusterforge's header. configure never writes into
these folders; their files are validated together with the generated tree. Nothing here is read
through a symbolic link, and nothing outside the output folder is read.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.state import GENERATED_MARKERS, is_generated
from generator.validate.documents import parse_stream
from generator.validate.kustomization import KUSTOMIZATION_FILES
from generator.validate.repo import clean_path, contains, normalize_url

APPS = "kubernetes/apps"
ARGOCD = "argocd"
KS_FILES = ("ks.yaml", "ks.yml")
README = "README: Your own apps"
_MAX_BYTES = 4 << 20  # an Application larger than this is not read for the AppProject (validate reports it)
_MARKER_BYTES = max(len(m) for m in GENERATED_MARKERS)


@dataclass(frozen=True)
class Destination:
    """Where an Application of your own deploys: the cluster by URL (server) or by name, and a namespace."""

    namespace: str
    server: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class OwnApplication:
    file: str  # relative to the output folder
    name: str
    project: str
    destination: Destination | None
    repositories: tuple[str, ...]


@dataclass(frozen=True)
class HandWritten:
    namespaces: tuple[str, ...] = ()  # Flux: namespace folders of your own
    apps: tuple[tuple[str, str], ...] = ()  # Flux: (namespace, folder) of app folders of your own
    kustomizations: tuple[tuple[str, str], ...] = ()  # Flux: (folder, name) of the Kustomizations their ks.yaml hold
    applications: tuple[OwnApplication, ...] = ()  # ArgoCD: Applications of your own
    files: tuple[str, ...] = ()  # every file of the above, relative to the output folder
    notes: tuple[str, ...] = ()

    def apps_in(self, namespace: str) -> list[str]:
        return sorted(app for ns, app in self.apps if ns == namespace)

    @property
    def app_namespaces(self) -> list[str]:
        return sorted({ns for ns, _ in self.apps})

    def read(self, output: Path) -> dict[str, bytes]:
        """The files' bytes, by path under the output folder (what the tree is validated with)."""
        found = {}
        for path in self.files:
            try:
                found[path] = (output / path).read_bytes()
            except OSError:
                continue  # gone since: validation sees what is there
        return found


@dataclass(frozen=True)
class TreePlace:
    """Where the tree lives and what it belongs to, as the settings say."""

    engine: str  # flux | argocd
    shown: str  # the output folder as a person types it
    repository: str  # gitops.repository
    path: str  # gitops.path: where the output folder is inside the repository


def discover(output: Path, place: TreePlace) -> HandWritten:
    if not output.is_dir():
        return HandWritten()
    found = _Found(output, place, _own_files(output, (APPS, ARGOCD)))
    if place.engine == "flux":
        found.flux()
    else:
        found.argocd()
    return found.result()


@dataclass
class _Found:
    output: Path
    place: TreePlace
    own: list[str]  # every file of the user's in the places looked at, relative to the output, sorted
    namespaces: list[str] = field(default_factory=list)
    apps: list[tuple[str, str]] = field(default_factory=list)
    kustomizations: list[tuple[str, str]] = field(default_factory=list)
    applications: list[OwnApplication] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    taken: list[str] = field(default_factory=list)  # folders whose files something applies

    def flux(self) -> None:
        own = set(self.own)
        for namespace in _folders(self.output / APPS):
            folder = f"{APPS}/{namespace.name}"
            if any(f"{folder}/{name}" in own for name in KUSTOMIZATION_FILES):
                self.namespaces.append(namespace.name)
                self._take(folder)
                continue
            for app in _folders(namespace):
                ks = next((f"{folder}/{app.name}/{n}" for n in KS_FILES if f"{folder}/{app.name}/{n}" in own), None)
                if ks is None:
                    continue
                self.apps.append((namespace.name, app.name))
                names = _flux_kustomizations(self.output / ks)
                self.kustomizations += [(f"{folder}/{app.name}", name) for name in names]
                self._take(f"{folder}/{app.name}")

    def argocd(self) -> None:
        for path in self.own:
            if not contains(ARGOCD, path) or not path.endswith((".yaml", ".yml")):
                continue
            self.files.append(path)
            for document in _documents(self.output / path):
                application = self._application(path, document)
                if application is not None:
                    self.applications.append(application)
        self.taken.append(ARGOCD)

    def _application(self, path: str, document: dict[str, Any]) -> OwnApplication | None:
        if document.get("kind") != "Application" or not str(document.get("apiVersion", "")).startswith("argoproj.io/"):
            return None
        spec = _mapping(document.get("spec"))
        metadata = _mapping(document.get("metadata"))
        many = spec.get("sources")
        sources = [spec.get("source"), *(many if isinstance(many, list) else [])]
        repositories = []
        for source in sources:
            if not isinstance(source, dict) or not isinstance(source.get("repoURL"), str):
                continue
            repositories.append(source["repoURL"])
            local = self._local(source)
            if local is not None:
                self._take(local)
        target = spec.get("destination")
        destination = None
        if isinstance(target, dict) and isinstance(target.get("namespace"), str):
            server, name = target.get("server"), target.get("name")
            destination = Destination(
                target["namespace"],
                server if isinstance(server, str) else None,
                name if isinstance(name, str) and not isinstance(server, str) else None,
            )
        return OwnApplication(
            path,
            str(metadata.get("name", "")),
            str(spec.get("project", "")),
            destination,
            tuple(dict.fromkeys(repositories)),
        )

    def _local(self, source: dict[str, Any]) -> str | None:
        """The folder under the output that a source of this repository reads, if it is one."""
        path = source.get("path")
        if not isinstance(path, str) or source.get("chart"):
            return None
        if normalize_url(str(source.get("repoURL"))) != normalize_url(self.place.repository):
            return None
        inside, root = clean_path(path), clean_path(self.place.path)
        if not contains(root, inside) or inside == root:
            return None
        return inside[len(root) :].lstrip("/")

    def _take(self, folder: str) -> None:
        self.taken.append(folder)
        start = bisect.bisect_left(self.own, folder + "/")
        end = bisect.bisect_left(self.own, folder + "0")  # '0' sorts right after '/'
        self.files += self.own[start:end]

    def result(self) -> HandWritten:
        return HandWritten(
            tuple(self.namespaces),
            tuple(self.apps),
            tuple(self.kustomizations),
            tuple(self.applications),
            tuple(sorted(set(self.files))),
            tuple(self._notes()),
        )

    def _notes(self) -> Iterator[str]:
        """One line per folder holding YAML of the user's that nothing applies."""
        loose: dict[str, int] = {}
        taken = tuple(f"{folder}/" for folder in self.taken)
        for path in self.own:
            if path.endswith((".yaml", ".yml")) and not path.startswith(taken):
                folder = path.rsplit("/", 1)[0]
                loose[folder] = loose.get(folder, 0) + 1
        for folder, count in sorted(loose.items()):
            if folder == ARGOCD or folder.startswith(ARGOCD + "/"):
                why = "with engine flux nothing applies them"
            elif self.place.engine == "argocd":
                why = "no Application of your own under argocd/ reads this folder"
            else:
                why = "nothing applies them (an app folder of your own needs a ks.yaml)"
            yield f"note: {self.place.shown}/{folder}/: {count} file(s) of your own; {why} ({README})"


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _folders(directory: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return [Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]


def _own_file(path: Path) -> bool:
    """A regular file (not a link) that clusterforge did not write."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            return not is_generated(handle.read(_MARKER_BYTES))
    except OSError:
        return False


def _own_files(output: Path, places: tuple[str, ...]) -> list[str]:
    """Every file of the user's under the ``places`` of ``output`` (hidden ones and links left out),
    relative to ``output``, sorted."""
    found = []
    for place in places:
        for root, dirs, names in os.walk(output / place):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not os.path.islink(os.path.join(root, d))]
            for name in names:
                path = Path(root) / name
                if not name.startswith(".") and _own_file(path):
                    found.append(path.relative_to(output).as_posix())
    return sorted(found)


def _documents(path: Path) -> list[dict[str, Any]]:
    """The mappings of a YAML file; nothing when it cannot be read (validation reports why). Read as validate
    reads a file, so a hostile one (aliases without bound, nesting, huge numbers) is bounded here too."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            return []
        documents, _errors = parse_stream(path, str(path))
    except OSError:
        return []
    return [d.data for d in documents if isinstance(d.data, dict)]


def _flux_kustomizations(path: Path) -> list[str]:
    return [
        str(d["metadata"]["name"])
        for d in _documents(path)
        if d.get("kind") == "Kustomization"
        and str(d.get("apiVersion", "")).startswith("kustomize.toolkit.fluxcd.io/")
        and isinstance(d.get("metadata"), dict)
        and d["metadata"].get("name")
    ]
