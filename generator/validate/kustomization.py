"""What a kustomization file names, read without running kustomize: the files and folders it
includes as resources, the files it only reads (patches, generator sources, Helm values), and the
remote ones (URLs, git repositories), each with the key it is written under.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import KeyPath

if TYPE_CHECKING:
    from generator.validate.documents import Source

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class Role(StrEnum):
    """How kustomize uses what an entry names."""

    RESOURCE = "resource"  # a YAML file of objects, or a folder with a kustomization (resources, bases, crds)
    COMPONENT = "component"  # a folder with a Component kustomization
    PLUGIN = "plugin"  # a generator, transformer or validator config: a YAML file or a folder
    INPUT = "input"  # a YAML file read, not emitted: patches, replacements, configurations, openapi, Helm values
    SOURCE = "source"  # a generator's data file, read as bytes (configMapGenerator/secretGenerator files, envs)
    FOLDER = "folder"  # a Helm chart or config home


@dataclass(frozen=True)
class Reference:
    """One entry of a kustomization that names a file, a folder or something remote."""

    key: KeyPath  # where it is written, e.g. ("patches", 1, "path")
    entry: str  # as written
    role: Role
    path: Path | None  # the local path it names (normalized, symlinks not followed); None when remote

    @property
    def remote(self) -> bool:
        return self.path is None


@dataclass
class Kustomization:
    """What a kustomization file names: the resources it includes and the files that are inputs only."""

    directory: Path
    file: Path
    kind: str  # Kustomization or Component
    namespace: str | None
    source: Source | None = None  # its document, for the line of an entry
    references: list[Reference] = field(default_factory=list)  # every entry naming a file, folder or URL
    resource_dirs: list[Path] = field(default_factory=list)
    resource_files: list[Path] = field(default_factory=list)
    inputs: list[Path] = field(default_factory=list)  # patches, generator sources, plugin configs
    input_dirs: list[Path] = field(default_factory=list)  # helm chart homes
    # generators, transformers, validators: each plugin config's file or folder, or its text as written
    plugins: dict[str, list[Path | str]] = field(default_factory=dict)

    def line_of(self, key: KeyPath) -> int | None:
        return self.source.line_of(key) if self.source is not None else None


# kustomize 5.5 (api/internal/loader/fileloader.go, api/internal/git/repospec.go): an entry kustomize may
# take as a folder (resources, bases, components, plugin configs) is cloned with git when it parses as
# a git URL, and any file it loads is fetched over HTTP when its scheme is http or https.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HTTP = re.compile(r"^https?:", re.IGNORECASE)
_GIT_SCHEMES = ("ssh://", "https://", "http://", "file://")
_GIT_USER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*@")


def is_remote(entry: str, clonable: bool = True) -> bool:
    """Whether kustomize would fetch ``entry`` (over HTTP, or with git when ``clonable``), or it names a URL."""
    text = entry.strip()
    if _SCHEME.match(text) or _HTTP.match(text):
        return True
    return clonable and is_git_url(text)


def is_git_url(entry: str) -> bool:
    """Whether kustomize's ``NewRepoSpecFromURL`` accepts ``entry``, so its loader clones it with git."""
    if entry.startswith("/"):
        return False
    text = entry.split("?", 1)[0]
    if text[:5].lower() == "git::":
        text = text[5:]
    scheme = next((s for s in _GIT_SCHEMES if text[: len(s)].lower() == s), "")
    text = text[len(scheme) :]
    user = _GIT_USER.match(text)
    username = user.group(0) if user else ""
    text = text[len(username) :]
    github = text.lower().startswith(("github.com/", "github.com:"))
    scp = scheme == "" and (username != "" or github)
    if scheme == "" and not scp:
        return False
    if scheme == "file://":
        return _repo_path_ok(username + text, whole=True)
    separator = text.find("/")
    if scp:
        colon = text.find(":")
        if colon > 0 and (separator == -1 or colon < separator):
            separator = colon
    host, rest = (text[: separator + 1], text[separator + 1 :]) if separator >= 0 else (text, "")
    return (host != "" or github) and _repo_path_ok(rest, whole=False)


def _repo_path_ok(path: str, whole: bool) -> bool:
    """kustomize's ``parsePathParts``: a repository path is found and the folder in it does not leave it."""
    if "_git/" in path:
        before, _, after = path.partition("_git/")
        repo, _, inner = after.partition("/")
        repo = before + "_git/" + repo
    elif "//" in path:
        repo, _, inner = path.partition("//")
    elif ".git" in path:
        cut = path.index(".git") + len(".git")
        repo, inner = path[:cut], path[cut:]
    elif whole:
        repo, inner = path, ""
    else:
        segments = path.split("/")
        if len(segments) < 2:
            return False
        repo, inner = "/".join(segments[:2]), "/".join(segments[2:])
    first = posixpath.normpath(inner.lstrip("/") or ".").split("/")[0]
    return repo != "" and first != ".."


def describe(file: Path, data: Any, source: Source | None = None) -> Kustomization:
    """The files, folders and remote things a kustomization refers to, read without running kustomize."""
    directory = file.parent
    spec = data if isinstance(data, dict) else {}
    found = Kustomization(
        directory, file, str(spec.get("kind") or "Kustomization"), _str(spec.get("namespace")), source
    )

    def add(key: KeyPath, entry: object, role: Role, clonable: bool = False) -> Reference | None:
        """Record one entry; None for what names no file (not a string, empty, inline YAML)."""
        if not isinstance(entry, str) or not entry.strip() or "\n" in entry:
            return None
        text = entry.strip()
        path = None if is_remote(text, clonable) else Path(posixpath.normpath(str(directory / text)))
        reference = Reference(key, text, role, path)
        found.references.append(reference)
        return reference

    for key in ("resources", "bases", "crds", "components"):
        role = Role.COMPONENT if key == "components" else Role.RESOURCE
        for index, entry in enumerate(_list(spec.get(key))):
            reference = add((key, index), entry, role, clonable=key != "crds")
            if reference is None or reference.path is None:
                continue
            path = reference.path
            (found.resource_dirs if path.is_dir() else found.resource_files).append(path)
    for index, entry in enumerate(_list(spec.get("patchesStrategicMerge"))):
        add(("patchesStrategicMerge", index), entry, Role.INPUT)
    for key in ("patches", "patchesJson6902", "replacements"):
        for index, item in enumerate(_list(spec.get(key))):
            if isinstance(item, dict):
                add((key, index, "path"), item.get("path"), Role.INPUT)
    for key in ("configMapGenerator", "secretGenerator"):
        for index, item in enumerate(_list(spec.get(key))):
            if not isinstance(item, dict):
                continue
            for number, entry in enumerate(_list(item.get("files"))):
                add((key, index, "files", number), str(entry).rpartition("=")[2], Role.SOURCE)
            for number, entry in enumerate(_list(item.get("envs"))):
                add((key, index, "envs", number), entry, Role.SOURCE)
            add((key, index, "env"), item.get("env"), Role.SOURCE)
    for index, entry in enumerate(_list(spec.get("configurations"))):
        add(("configurations", index), entry, Role.INPUT)
    for key in ("generators", "transformers", "validators"):
        for index, entry in enumerate(_list(spec.get(key))):
            reference = add((key, index), entry, Role.PLUGIN, clonable=True)
            # a local config file or folder; anything else (inline YAML, a URL) is kept as written
            plugin = reference.path if reference is not None and reference.path is not None else None
            found.plugins.setdefault(key, []).append(plugin or str(entry))
    if isinstance(spec.get("openapi"), dict):
        add(("openapi", "path"), spec["openapi"].get("path"), Role.INPUT)
    charts = _list(spec.get("helmCharts"))
    for index, item in enumerate(charts):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("repo"), str) and item["repo"].strip():
            found.references.append(Reference(("helmCharts", index, "repo"), item["repo"].strip(), Role.FOLDER, None))
        add(("helmCharts", index, "valuesFile"), item.get("valuesFile"), Role.INPUT)
        for number, entry in enumerate(_list(item.get("additionalValuesFiles"))):
            add(("helmCharts", index, "additionalValuesFiles", number), entry, Role.INPUT)
    globals_ = spec.get("helmGlobals")
    settings: dict[str, Any] = globals_ if isinstance(globals_, dict) else {}
    if charts:
        home = add(("helmGlobals", "chartHome"), settings.get("chartHome") or "charts", Role.FOLDER)
        if home is not None and home.path is not None:
            found.input_dirs.append(home.path)
    add(("helmGlobals", "configHome"), settings.get("configHome"), Role.FOLDER)
    for index, item in enumerate(_list(spec.get("helmChartInflationGenerator"))):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("chartRepoUrl"), str) and item["chartRepoUrl"].strip():
            where: KeyPath = ("helmChartInflationGenerator", index, "chartRepoUrl")
            found.references.append(Reference(where, item["chartRepoUrl"].strip(), Role.FOLDER, None))
        for name in ("chartHome", "helmHome"):
            add(("helmChartInflationGenerator", index, name), item.get(name), Role.FOLDER)
        add(("helmChartInflationGenerator", index, "values"), item.get("values"), Role.INPUT)
    found.inputs = [r.path for r in found.references if r.path is not None and r.role in (Role.INPUT, Role.SOURCE)]
    found.inputs += [r.path for r in found.references if r.path is not None and r.role is Role.PLUGIN]
    return found


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
