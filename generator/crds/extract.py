"""``clusterforge schemas extract``: CRDs in, one JSON Schema per served version out, all or nothing.

Files are named as the CRDs catalog names them, ``<group>/<kind>_<version>.json`` with the kind in
lower case, so the output folder is a schema location for ``validate --schema-location`` and for
kubeconform's ``-schema-location DIR/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``.
The same CRDs give the same bytes: the CRD's own key order, compact JSON, one newline at the end.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.crds.convert import to_json_schema
from generator.crds.read import Crd, Reading, read_inputs
from generator.errors import InputError, Problem, UsageError

# what the API server accepts as names, and what keeps every output path inside the output folder
_GROUP = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
_VERSION = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class Schema:
    """One served version of one CRD, as JSON Schema text."""

    group: str
    version: str
    kind: str
    text: bytes
    origin: str  # FILE:LINE of its CRD

    @property
    def relative(self) -> str:
        return f"{self.group}/{self.kind.lower()}_{self.version}.json"


@dataclass
class Extraction:
    schemas: list[Schema] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # relative paths
    unchanged: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render(schema: dict[str, Any]) -> bytes:
    return (json.dumps(schema, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def schemas_of(crd: Crd) -> tuple[list[Schema], list[Problem]]:
    """The JSON Schema of each served version of ``crd``, or what keeps it from having them."""
    spec = crd.data.get("spec")
    shown = crd.place.shown

    def problem(path: tuple[str | int, ...], message: str) -> Problem:
        return Problem(shown, crd.place.line_of(path), None, "", f"{crd.name}: {message}")

    if not isinstance(spec, dict):
        return [], [problem((), "has no spec")]
    group = spec.get("group")
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, dict) else None
    problems = []
    if not isinstance(group, str) or not _GROUP.match(group):
        problems.append(problem(("spec", "group"), f"spec.group: {group!r} is not an API group such as example.com"))
    if not isinstance(kind, str) or not _KIND.match(kind):
        problems.append(problem(("spec", "names"), f"spec.names.kind: {kind!r} is not a kind such as Widget"))
    if problems or not isinstance(group, str) or not isinstance(kind, str):
        return [], problems
    schemas = []
    for index, version, schema in _versions(spec):
        where: tuple[str | int, ...] = ("spec", "versions", index) if index is not None else ("spec",)
        if not isinstance(version, str) or not _VERSION.match(version):
            problems.append(problem(where, f"version name {version!r} is not a version such as v1"))
        elif not isinstance(schema, dict):
            problems.append(
                problem(where, f"served version {version} has no schema (schema.openAPIV3Schema): nothing to extract")
            )
        else:
            text = render(to_json_schema(schema, group, version, kind))
            schemas.append(Schema(group, version, kind, text, crd.place.at(where)))
    if not schemas and not problems:
        problems.append(problem(("spec",), "serves no version"))
    return schemas, problems


def _versions(spec: dict[str, Any]) -> list[tuple[int | None, Any, Any]]:
    """(index, name, openAPIV3Schema) of each served version; v1beta1 CRDs may share one top-level schema."""
    validation = spec.get("validation")
    shared = validation.get("openAPIV3Schema") if isinstance(validation, dict) else None
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        return [(None, spec.get("version"), shared)] if "version" in spec else []
    found: list[tuple[int | None, Any, Any]] = []
    for index, entry in enumerate(versions):
        if not isinstance(entry, dict) or entry.get("served", True) is False:
            continue
        holder = entry.get("schema")
        schema = holder.get("openAPIV3Schema") if isinstance(holder, dict) else None
        found.append((index, entry.get("name"), schema if schema is not None else shared))
    return found


def collect(reading: Reading) -> tuple[list[Schema], list[Problem]]:
    """The schemas of every CRD read; a group/kind/version defined twice, differently, is a problem."""
    problems = list(reading.problems)
    by_path: dict[str, Schema] = {}
    for crd in reading.crds:
        schemas, found = schemas_of(crd)
        problems.extend(found)
        for schema in schemas:
            earlier = by_path.get(schema.relative)
            if earlier is None:
                by_path[schema.relative] = schema
            elif earlier.text != schema.text:
                file, _, line = schema.origin.rpartition(":")
                problems.append(
                    Problem(
                        file,
                        int(line),
                        None,
                        "",
                        f"{schema.kind} {schema.group}/{schema.version} is defined again, "
                        f"differently from {earlier.origin}",
                    )
                )
    return [by_path[path] for path in sorted(by_path)], problems


def extract(inputs: Sequence[str], output: Path, stdin_text: str | None = None) -> Extraction:
    """Write the schemas of the CRDs in ``inputs`` under ``output``; on any problem, write nothing."""
    if not inputs:
        raise UsageError("name the CRD files or folders to read (or - for standard input)")
    reading = read_inputs(inputs, stdin_text)
    schemas, problems = collect(reading)
    if problems:
        raise InputError(problems)
    if not schemas:
        raise UsageError("no CustomResourceDefinition found in the folders given")
    extraction = Extraction(schemas, notes=reading.notes)
    write_all(output, {schema.relative: schema.text for schema in schemas}, extraction)
    return extraction


def write_all(output: Path, files: dict[str, bytes], extraction: Extraction) -> None:
    """Write every file or none: all are written beside their targets first, then moved in place."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output}: not a folder")
    staged: list[tuple[str, Path]] = []
    try:
        for relative, data in sorted(files.items()):
            target = output / relative
            if target.is_file() and target.read_bytes() == data:
                extraction.unchanged.append(relative)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.fchmod(handle, 0o644)  # a schema is no secret: readable as any file written here
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            staged.append((relative, Path(name)))
    except OSError as exc:
        for _, temporary in staged:
            temporary.unlink(missing_ok=True)
        raise UsageError(f"{output}: cannot write: {exc.strerror or exc}") from exc
    for relative, temporary in staged:
        os.replace(temporary, output / relative)
        extraction.written.append(relative)
