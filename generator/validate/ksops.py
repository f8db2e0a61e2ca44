"""KSOPS generators: sops-encrypted objects that ArgoCD's repo-server decrypts while it builds.

``kubectl kustomize`` cannot run KSOPS (an exec KRM function, which needs ``--enable-exec``, a flag
kubectl lacks), and validation must not decrypt anyway. So:

- a kustomization whose only plugins are KSOPS exec generators (its own and those of the folders it
  takes in) is built with ``--enable-alpha-plugins``: kubectl's kustomize then leaves exec functions
  out and builds everything else, patches included. Any other plugin keeps plugins off (the build
  fails and says why), so validation never runs a program a repository names;
- the encrypted files a generator names are checked as documents (schemas with the ``sops`` block
  set aside, references), placed as if that kustomization had built them;
- the generator itself is checked: each file exists, is sops-encrypted, and is not also a resource
  (which would apply it still encrypted). A ``secretFrom`` Secret is known by name (and keys, when
  its files name them) for the references to it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import KeyPath
from generator.validate.containment import Area
from generator.validate.documents import Source, YamlError, loads, parse_stream
from generator.validate.kustomization import Kustomization
from generator.validate.model import Finding, Severity

API_VERSION = "viaduct.ai/v1"
KIND = "ksops"
FUNCTION = "config.kubernetes.io/function"


def is_ksops_exec(data: object) -> bool:
    """A KSOPS generator config that kustomize runs as an exec KRM function (the current KSOPS form)."""
    if not isinstance(data, dict) or data.get("apiVersion") != API_VERSION or data.get("kind") != KIND:
        return False
    metadata = data.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    text = annotations.get(FUNCTION) if isinstance(annotations, dict) else None
    try:
        function = loads(text) if isinstance(text, str) else None
    except YamlError:
        return False
    return isinstance(function, dict) and set(function) == {"exec"}


@dataclass
class Generator:
    """One KSOPS generator config and the kustomization that runs it."""

    directory: Path  # the kustomization's folder: KSOPS reads files relative to it
    data: dict[str, Any]
    source: Source | None  # None for an inline config, which findings put on the kustomization
    shown: str

    def finding(self, path: KeyPath, message: str) -> Finding:
        line = self.source.line_of(path) if self.source is not None else None
        return Finding(self.shown, line, "", Severity.ERROR, message)

    def files(self) -> Iterator[tuple[KeyPath, str, Path]]:
        entries = self.data.get("files")
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, str) and entry.strip():
                yield ("files", index), entry, Path(posixpath.normpath(str(self.directory / entry.strip())))


@dataclass
class Plan:
    generators: list[Generator] = field(default_factory=list)
    plugin_builds: set[Path] = field(default_factory=set)  # kustomization folders built with plugins on
    encrypted: dict[Path, Path] = field(default_factory=dict)  # an encrypted file -> its generator's folder


def _configs(kustomization: Kustomization, show: Callable[[Path], str], area: Area) -> Iterator[Generator | None]:
    """The plugin configs of one kustomization, each a KSOPS exec generator or None (anything else)."""
    for key, entries in kustomization.plugins.items():
        for entry in entries:
            if key != "generators":
                yield None
            elif isinstance(entry, Path):
                if area.outside(entry) is not None or not entry.is_file():  # outside: reported by containment
                    yield None  # a folder of configs, or missing: kustomize decides
                    continue
                documents, errors = parse_stream(entry, show(entry))
                if errors or not documents:
                    yield None
                    continue
                for document in documents:
                    if is_ksops_exec(document.data):
                        yield Generator(kustomization.directory, document.data, document.source, show(entry))
                    else:
                        yield None
            else:
                try:
                    data = loads(entry)
                except YamlError:
                    yield None
                    continue
                inline = data if isinstance(data, dict) and is_ksops_exec(data) else None
                yield Generator(kustomization.directory, inline, None, show(kustomization.file)) if inline else None


def plan(kustomizations: dict[Path, Kustomization], show: Callable[[Path], str], area: Area) -> Plan:
    found = Plan()
    only_ksops: dict[Path, bool | None] = {}  # None: no plugins at all
    for directory, kustomization in kustomizations.items():
        configs = list(_configs(kustomization, show, area))
        generators = [c for c in configs if c is not None]
        found.generators += generators
        only_ksops[directory] = None if not configs else len(generators) == len(configs)
        for generator in generators:
            for _, _, path in generator.files():
                found.encrypted.setdefault(path, directory)
    for directory in kustomizations:
        verdicts = [only_ksops[d] for d in closure(directory, kustomizations)]
        if any(v is not None for v in verdicts) and all(v is not False for v in verdicts):
            found.plugin_builds.add(directory)
    return found


def closure(directory: Path, kustomizations: dict[Path, Kustomization]) -> list[Path]:
    """The kustomization folders a build of ``directory`` reads: it and those it takes in, each once."""
    found: list[Path] = []
    pending = [directory]
    while pending:
        current = pending.pop()
        if current in found or current not in kustomizations:
            continue
        found.append(current)
        pending += kustomizations[current].resource_dirs
    return found


def check(found: Plan, kustomizations: dict[Path, Kustomization], area: Area) -> Iterator[Finding]:
    for generator in found.generators:
        listed = set(kustomizations[generator.directory].resource_files)
        for path, entry, file in generator.files():
            outside = area.outside(file)
            if outside is not None:
                yield generator.finding(path, f"{entry} {outside}: not read")
                continue
            if not file.is_file():
                yield generator.finding(path, f"KSOPS file {entry} does not exist")
                continue
            if file in listed:
                yield generator.finding(
                    path, f"{entry} is also a resource of the kustomization: it would be applied still encrypted"
                )
            documents, errors = parse_stream(file, entry)
            if not errors and not any(isinstance(d.data, dict) and "sops" in d.data for d in documents):
                yield generator.finding(path, f"{entry} is not sops-encrypted: KSOPS cannot decrypt it")


def secret_from(generator: Generator, area: Area) -> Iterator[dict[str, Any]]:
    """The Secrets a ``secretFrom`` entry makes, as documents whose keys are known and values empty."""
    items = generator.data.get("secretFrom")
    for item in items if isinstance(items, list) else []:
        metadata = item.get("metadata") if isinstance(item, dict) else None
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            continue
        keys: list[str] = []
        for group in ("files", "binaryFiles"):
            entries = item.get(group)
            for entry in entries if isinstance(entries, list) else []:
                key, _, path = str(entry).rpartition("=")
                keys.append(key or posixpath.basename(path))
        envs = item.get("envs")
        for entry in envs if isinstance(envs, list) else []:
            env_file = Path(posixpath.normpath(str(generator.directory / str(entry))))
            if area.outside(env_file) is None:
                keys += _dotenv_keys(env_file)
        yield {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {k: metadata[k] for k in ("name", "namespace", "labels") if k in metadata},
            "data": dict.fromkeys(keys, ""),
        }


def _dotenv_keys(path: Path) -> list[str]:
    """The keys of a sops-encrypted dotenv file (sops leaves them readable), without sops' own."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    keys = (line.partition("=")[0].strip() for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return [key for key in keys if key and not key.startswith("sops_")]
