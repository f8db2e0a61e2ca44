"""What validate reads, and what it lets kubectl read: nothing remote, nothing outside the paths given
and the repository root, nothing that would take kubectl past its bounds.

Every kustomization a build would read is looked at before ``kubectl kustomize`` runs, following its
folders (also those outside the paths given, inside the repository). A build is not run when anything
it would read is

- remote: a URL or a git repository kustomize would fetch (``remote resource not fetched``);
- outside the area: a path (or a symlink) leading out of the paths given and the repository root;
- hostile or refused anyway: YAML nesting deeper than kustomize handles quickly, aliases expanding
  past what etcd could store, an object or a generator's files past the API server's size limits.

A build that is not run fails like a build that fails: what it would have covered is checked as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import dotted
from generator.validate import expansion, sizes
from generator.validate.documents import parse_stream, read_text, split_stream
from generator.validate.kustomization import KUSTOMIZATION_FILES, Kustomization, Reference, Role, describe
from generator.validate.model import Finding, Severity, resource_id
from generator.validate.schemacheck import is_sops

NOT_FETCHED = "remote resource not fetched (validate works offline)"


@dataclass(frozen=True)
class Area:
    """The folders validate may read: the paths given and the repository root, as written and resolved."""

    roots: tuple[Path, ...]

    @classmethod
    def of(cls, paths: Iterable[Path], repo_root: Path) -> Area:
        roots: list[Path] = []
        for path in [*paths, repo_root]:
            for form in (os.path.abspath(path), os.path.realpath(path)):
                if Path(form) not in roots:
                    roots.append(Path(form))
        return cls(tuple(roots))

    def holds(self, path: Path) -> bool:
        return any(path == root or root in path.parents for root in self.roots)

    def outside(self, path: Path) -> str | None:
        """Why ``path`` may not be read, or None. Checked as written first, so nothing outside is touched."""
        written = Path(os.path.abspath(path))
        if not self.holds(written):
            return "is outside the paths given and the repository root"
        real = Path(os.path.realpath(written))
        if not self.holds(real):
            return f"leads to {real} (a symlink), outside the paths given and the repository root"
        return None

    def readable(self, files: list[Path], show: Callable[[Path], str]) -> tuple[list[Path], list[Finding]]:
        """The files that are inside; a symlink leading out is a finding and is not read."""
        kept: list[Path] = []
        findings: list[Finding] = []
        for file in files:
            if file.is_symlink():
                real = Path(os.path.realpath(file))
                if not self.holds(real):
                    message = f"a symlink to {real}, outside the paths given and the repository root: not read"
                    findings.append(Finding(show(file), None, "", Severity.ERROR, message))
                    continue
            kept.append(file)
        return kept, findings


@dataclass(frozen=True)
class Oversized:
    """An object the API server would refuse for its size."""

    what: str  # Kind/namespace/name as written
    line: int  # its first line (found without composing a document that may be megabytes)
    message: str


_CONTENT_LINE = re.compile(r"^(?!---|\.\.\.|%)[ \t]*[^#\s]", re.MULTILINE)


@dataclass
class SizeCheck:
    """Objects past the API server's size limits, per file, each file looked at once."""

    show: Callable[[Path], str]
    _found: dict[str, dict[int, Oversized]] = field(default_factory=dict)  # by absolute path

    def problems(self, path: str, text: str | None = None) -> dict[int, Oversized]:
        """The objects of the file at ``path`` (whose ``text`` the caller may have read) that are too big,
        by their document's start offset."""
        found = self._found.get(path)
        if found is None:
            found = self._found[path] = self._look(Path(path), text)
        return found

    def _look(self, path: Path, text: str | None) -> dict[int, Oversized]:
        if text is None:
            try:
                text = read_text(path)
            except (OSError, UnicodeDecodeError):
                return {}  # reading it is reported where it is read
        if not sizes.may_be_too_big(text):
            return {}
        if expansion.needs_check(text) and expansion.excess(text) is not None:
            return {}  # too deep or too aliased to be built at all: reported as such
        lines = {start: _first_line(text, start, end) for start, end, _ in split_stream(text)}
        documents, _ = parse_stream(path, self.show(path), text)
        found = {}
        for document in documents:
            data = document.data
            if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
                continue
            group = str(data.get("apiVersion", "")).rpartition("/")[0]
            problem = sizes.too_big(group, data["kind"], data, is_sops(data))
            if problem is not None:
                start = document.source.start
                found[start] = Oversized(_object_id(data), lines.get(start, document.source.line), problem)
        return found


def _first_line(text: str, start: int, end: int) -> int:
    """The line of a document's first content (past ``---``, directives and comments), 1-based."""
    content = _CONTENT_LINE.search(text, start, end)
    return text.count("\n", 0, content.start() if content else start) + 1


@dataclass
class Refusals:
    """What the look before the builds found: findings, and the kustomization folders not to build."""

    findings: list[Finding] = field(default_factory=list)
    # findings about a YAML file's own text (nesting, aliases, syntax): dropped when reading that file
    # (a kustomization, or a resource with a syntax error) reports an error of its own
    about_files: dict[Path, list[Finding]] = field(default_factory=dict)
    refused: set[Path] = field(default_factory=set)
    # files nested too deep or aliased too much: not given to kubectl, nor read as written
    hostile: set[Path] = field(default_factory=set)


def check_builds(
    kustomizations: dict[Path, Kustomization],
    directories: list[Path],
    area: Area,
    show: Callable[[Path], str],
    size_check: SizeCheck,
    read_as_written: set[Path],
) -> Refusals:
    """Look at everything the builds of ``directories`` would read. ``read_as_written``: files validate
    reads itself (an oversized object there is reported as that object, so not again here)."""
    checker = _Checker(dict(kustomizations), area, show, size_check, read_as_written)
    for directory in directories:
        if checker.folder(directory):
            checker.refusals.refused.add(directory)
    return checker.refusals


@dataclass
class _Checker:
    known: dict[Path, Kustomization]
    area: Area
    show: Callable[[Path], str]
    size_check: SizeCheck
    read_as_written: set[Path]
    refusals: Refusals = field(default_factory=Refusals)
    verdicts: dict[Path, bool] = field(default_factory=dict)  # folder -> refused
    file_verdicts: dict[Path, bool] = field(default_factory=dict)

    def folder(self, directory: Path) -> bool:
        """Whether a build reading ``directory`` must not run (its findings recorded once)."""
        if directory in self.verdicts:
            return self.verdicts[directory]
        self.verdicts[directory] = False  # a cycle: kustomize reports it
        kustomization = self.known.get(directory) or self._load(directory)
        if kustomization is None:
            return self.verdicts[directory]
        if self._yaml(kustomization.file, resource=False):
            self.verdicts[directory] = True  # its own text is the problem; its entries are not looked at
            return True
        refused = False
        for reference in kustomization.references:
            refused = self._reference(kustomization, reference) or refused
        refused = self._generator_sizes(kustomization) or refused
        self.verdicts[directory] = refused
        return refused

    def _load(self, directory: Path) -> Kustomization | None:
        """A kustomization outside the paths given (the area checked by the caller): read it here."""
        for name in KUSTOMIZATION_FILES:
            file = directory / name
            if not file.is_file():
                continue
            if self.area.outside(file) is not None:
                message = f"{name} {self.area.outside(file)}: not read"
                self._refuse(Finding(self.show(file), None, "", Severity.ERROR, message))
                self.verdicts[directory] = True
                return None
            if self._yaml(file, resource=False):
                self.verdicts[directory] = True
                return None
            documents, _ = parse_stream(file, self.show(file))  # its errors: kustomize reports them
            document = documents[0] if documents else None
            found = describe(file, document.data if document else {}, document.source if document else None)
            self.known[directory] = found
            return found
        return None

    def _reference(self, kustomization: Kustomization, reference: Reference) -> bool:
        where = dotted(reference.key)
        if reference.path is None:
            self._at(kustomization, reference, f"{where}: {NOT_FETCHED}: {reference.entry}")
            return True
        why = self.area.outside(reference.path)
        if why is not None:
            self._at(kustomization, reference, f"{where}: {reference.entry} {why}: not read")
            return True
        path = reference.path
        if reference.role in (Role.RESOURCE, Role.COMPONENT, Role.PLUGIN):
            if path.is_dir():
                return self.folder(path)
            return path.is_file() and self._yaml(path, resource=reference.role is Role.RESOURCE)
        if reference.role is Role.INPUT:
            return path.is_file() and self._yaml(path, resource=False)
        return False  # generator sources are sized per generator; folders are not read without Helm

    def _yaml(self, path: Path, resource: bool) -> bool:
        """Whether a YAML file kustomize would read must keep the build from running."""
        if path in self.file_verdicts:
            return self.file_verdicts[path]
        self.file_verdicts[path] = False
        try:
            text = read_text(path)
        except (OSError, UnicodeDecodeError):
            return False  # kustomize reports what it cannot read
        problem = expansion.excess(text) if expansion.needs_check(text) else None
        if problem is not None:
            finding = Finding(self.show(path), problem.line, "", Severity.ERROR, problem.message)
            self.refusals.about_files.setdefault(path, []).append(finding)
            if problem.parsed:
                self.refusals.hostile.add(path)
            self.file_verdicts[path] = True
            return True
        if resource:
            oversized = self.size_check.problems(str(path), text)
            if oversized and path not in self.read_as_written:
                for found in oversized.values():
                    self._refuse(Finding(self.show(path), found.line, found.what, Severity.ERROR, found.message))
            self.file_verdicts[path] = bool(oversized)
        return self.file_verdicts[path]

    def _generator_sizes(self, kustomization: Kustomization) -> bool:
        """A configMapGenerator or secretGenerator whose files pass the API server's data limit: each
        file becomes one value, byte for byte."""
        totals: dict[tuple[str, int], int] = {}
        for reference in kustomization.references:
            key = reference.key
            if reference.role is not Role.SOURCE or reference.path is None or len(key) < 3 or key[2] != "files":
                continue
            try:
                size = reference.path.stat().st_size if self.area.outside(reference.path) is None else 0
            except OSError:
                continue
            generator = (str(key[0]), int(key[1]))
            totals[generator] = totals.get(generator, 0) + size
        refused = False
        for (name, index), total in totals.items():
            if total > sizes.MAX_DATA_BYTES:
                kind = "ConfigMap" if name == "configMapGenerator" else "Secret"
                message = (
                    f"{name}[{index}]: its files hold {sizes.amount(total)}: the API server refuses a {kind} "
                    f"whose data passes 1 MiB ({sizes.MAX_DATA_BYTES:,} bytes)"
                )
                line = kustomization.line_of((name, index))
                self._refuse(Finding(self.show(kustomization.file), line, "", Severity.ERROR, message))
                refused = True
        return refused

    def _at(self, kustomization: Kustomization, reference: Reference, message: str) -> None:
        line = kustomization.line_of(reference.key)
        self._refuse(Finding(self.show(kustomization.file), line, "", Severity.ERROR, message))

    def _refuse(self, finding: Finding) -> None:
        self.refusals.findings.append(finding)


def _object_id(data: dict[str, Any]) -> str:
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    name = metadata.get("name") if isinstance(metadata, dict) else None
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return resource_id(str(data.get("kind")), namespace if isinstance(namespace, str) else "", str(name or ""))
