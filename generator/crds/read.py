"""Find the CustomResourceDefinitions in files, folders and standard input.

A stream may hold several documents, a ``List`` (what ``kubectl get crd -o yaml`` prints) and other
objects (an operator's install manifest); the CRDs are taken, the rest counted. A file that Helm
templates (a chart's ``templates/crds.yaml``) has its whole-line template actions skipped, which
reads every branch of an ``if``; a template expression inside a line cannot be read without
rendering and is refused at its line. In a folder (a chart, ``crds/``), files that hold no CRD are
passed over; a file named on its own must hold one.

YAML is read as the API server reads a CRD: YAML 1.1 scalars (``on`` is a boolean), except that a
date stays a string (JSON has no dates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.errors import KeyPath, Problem
from generator.validate.documents import split_stream

CRD_KIND = "CustomResourceDefinition"
CRD_API_VERSIONS = ("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")
STDIN = "-"
SUFFIXES = (".yaml", ".yml", ".json")

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """YAML 1.1 as Kubernetes reads it, with timestamps kept as strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
}
# a bare "=" resolves to YAML's "value" tag, which SafeConstructor cannot build: it is the string "="
_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))

_TEMPLATE_LINE = re.compile(r"^[ \t]*\{\{.*\}\}[ \t]*\r?$")
_COMMENT_OPENS = re.compile(r"^[ \t]*\{\{-?\s*/\*")
_COMMENT_CLOSES = re.compile(r"\*/\s*-?\}\}[ \t]*\r?$")


@dataclass(frozen=True)
class Place:
    """Where a CRD was read: its file as shown, its document's text and first line, its path inside."""

    shown: str
    text: str
    line: int
    inside: KeyPath = ()

    def line_of(self, path: KeyPath = ()) -> int:
        """The line of ``path`` (its key) in this CRD, or of its nearest ancestor that exists."""
        return self.line + _offset(self.text, (*self.inside, *path))

    def at(self, path: KeyPath = ()) -> str:
        return f"{self.shown}:{self.line_of(path)}"


@dataclass(frozen=True)
class Crd:
    data: dict[str, Any]
    place: Place

    @property
    def name(self) -> str:
        metadata = self.data.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        return str(name) if name else "(unnamed)"


@dataclass
class Reading:
    crds: list[Crd] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was passed over, for the user to see


def read_inputs(inputs: Sequence[str], stdin_text: str | None = None) -> Reading:
    """Every CRD in ``inputs`` (files, folders, ``-`` for ``stdin_text``), and what is wrong with them."""
    reading = Reading()
    for entry in inputs:
        if entry == STDIN:
            read_text(stdin_text or "", "<stdin>", reading, named=True)
            continue
        path = Path(entry)
        if path.is_dir():
            for file in _yaml_files(path):
                _read_file(file, str(file), reading, named=False)
        elif path.is_file():
            _read_file(path, entry, reading, named=True)
        else:
            reading.problems.append(Problem(entry, None, None, "", "no such file or folder"))
    return reading


def _yaml_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(folder).parts)
        if not hidden and path.suffix in SUFFIXES and path.is_file():
            yield path


def _read_file(path: Path, shown: str, reading: Reading, *, named: bool) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        reading.problems.append(Problem(shown, None, None, "", "not UTF-8 text"))
        return
    except OSError as exc:
        reading.problems.append(Problem(shown, None, None, "", f"cannot be read: {exc.strerror}"))
        return
    if not named and CRD_KIND not in text:
        return  # a chart's other templates, values files: nothing to extract
    read_text(text, shown, reading, named=named)


def read_text(text: str, shown: str, reading: Reading, *, named: bool = True) -> None:
    """The CRDs of one stream of YAML documents, added to ``reading``."""
    text = text.removeprefix("\ufeff")
    text, skipped, refused = without_template_lines(text, shown)
    if refused:
        reading.problems.extend(refused)
        return
    if skipped:
        reading.notes.append(f"{shown}: {skipped} Helm template line(s) skipped")
    found = 0
    others = 0
    for start, end, line in split_stream(text):
        part = text[start:end]
        try:
            document = yaml.load(part, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
        except yaml.YAMLError as exc:
            reading.problems.append(_yaml_problem(exc, shown, line))
            continue
        if document is None:
            continue
        for data, inside in _candidates(document):
            if _is_crd(data):
                reading.crds.append(Crd(data, Place(shown, part, line, inside)))
                found += 1
            else:
                others += 1
    if others:
        reading.notes.append(f"{shown}: {others} object(s) that are not CustomResourceDefinitions passed over")
    if named and not found:
        reading.problems.append(Problem(shown, 1, None, "", f"holds no {CRD_KIND} (apiextensions.k8s.io/v1)"))


def _candidates(document: Any) -> Iterator[tuple[Any, KeyPath]]:
    """The objects of a document: itself, or the items of a List."""
    items = document.get("items") if isinstance(document, dict) else None
    if isinstance(items, list) and str(document.get("kind", "")).endswith("List"):
        for index, item in enumerate(items):
            yield item, ("items", index)
    else:
        yield document, ()


def _is_crd(data: Any) -> bool:
    return isinstance(data, dict) and data.get("kind") == CRD_KIND and data.get("apiVersion") in CRD_API_VERSIONS


def without_template_lines(text: str, shown: str) -> tuple[str, int, list[Problem]]:
    """The text with Helm's whole-line template actions blanked (lines keep their numbers).

    A file is a Helm template when a line starts with ``{{``: YAML has no such line. There, any
    other ``{{`` is an expression Helm would fill in, which only rendering can read.
    """
    lines = text.split("\n")
    if not any(_TEMPLATE_LINE.match(line) or _COMMENT_OPENS.match(line) for line in lines if "{{" in line):
        return text, 0, []
    skipped = 0
    problems: list[Problem] = []
    in_comment = False
    for number, line in enumerate(lines):
        if not in_comment and "{{" not in line:
            continue  # most lines: plain YAML
        if in_comment or _COMMENT_OPENS.match(line):
            in_comment = not _COMMENT_CLOSES.search(line)
        elif not _TEMPLATE_LINE.match(line):
            if "{{" in line:
                problems.append(
                    Problem(
                        shown,
                        number + 1,
                        None,
                        "",
                        "a Helm template expression inside a line cannot be read without rendering the chart: "
                        "extract from `helm template` output, or from the chart's crds/ folder",
                    )
                )
            continue
        lines[number] = ""
        skipped += 1
    return "\n".join(lines), skipped, problems


def _yaml_problem(exc: yaml.YAMLError, shown: str, first_line: int) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    line = first_line + mark.line if mark is not None else first_line
    return Problem(shown, line, None, "", f"invalid YAML: {what}")


def _offset(text: str, path: KeyPath) -> int:
    """0-based line offset of ``path`` in the document ``text`` (composed again: only for messages)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return 0
    if node is None:
        return 0
    offset: int = node.start_mark.line
    for key in path:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(key, str):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                    child, offset = value_node, key_node.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
            child = node.value[key]
            offset = child.start_mark.line
        if child is None:
            break
        node = child
    return offset
