"""``--engine kubeconform``: schema checks by a kubeconform binary, merged into the same report.

Every object (as Flux applies it: SOPS blocks set aside, kustomize builds expanded) is written
to its own JSON file, so each kubeconform result maps back to one object and from there to its
file and line. Core kinds are read from the standalone schemas this package keeps in its cache
(kubeconform's layout), so kubeconform needs no network for them either.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from generator.command import Command, find_program
from generator.errors import KeyPath, ToolError
from generator.scratch import folder as scratch_folder
from generator.validate.locations import Kind, Location
from generator.validate.model import Severity
from generator.validate.resources import Resource
from generator.validate.schemas import CoreSchemas

MISSING = "could not find schema for"


def kubeconform_command() -> Command:
    program = find_program(
        "kubeconform", "install it from https://github.com/yannh/kubeconform or use --engine builtin"
    )
    return Command((program,), timeout=300, ok_codes=frozenset({0, 1}))


def arguments(core: CoreSchemas, locations: list[Location], version: str) -> list[str]:
    args = [
        "-output",
        "json",
        "-strict",
        "-kubernetes-version",
        f"{version}.0",
        "-schema-location",
        core.cache_template,
    ]
    for location in locations:
        for template in location.templates():
            args += ["-schema-location", template]
    return args


def _keypath(pointer: str, data: Any) -> KeyPath:
    """A JSON pointer as a key path, with list indexes as numbers (decided by walking the data)."""
    path: list[str | int] = []
    for raw in [p for p in pointer.split("/") if p]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(data, list) and part.isdigit():
            path.append(int(part))
            data = data[int(part)] if int(part) < len(data) else None
        else:
            path.append(part)
            data = data.get(part) if isinstance(data, dict) else None
    return tuple(path)


_DETAIL = re.compile(r"- at '([^']*)': (.*?)(?=\s+- at '|$)", re.DOTALL)


def _details(message: str) -> list[tuple[str, str]]:
    """The innermost failures in a kubeconform 0.7.0 message: a failure that only says deeper ones
    failed (``validation failed``, with more under its path) is left out."""
    found = [(pointer, text.strip()) for pointer, text in _DETAIL.findall(message)]
    return [
        (pointer, text)
        for pointer, text in found
        if not (text == "validation failed" and any(p.startswith(pointer + "/") for p, _ in found if p != pointer))
    ]


def check(collected: Any, core: CoreSchemas, locations: list[Location], version: str) -> None:
    """Run kubeconform over every object of ``collected``; add its violations and missing kinds."""
    resources: list[Resource] = collected.resources
    command = kubeconform_command()
    for resource in resources:  # make the standalone core schemas kubeconform will read
        core.schema_text(Kind.parse(str(resource.data.get("apiVersion", "")), resource.kind))
    scratch = scratch_folder("kubeconform")
    try:
        files = []
        for number, resource in enumerate(resources):
            target = scratch / f"{number}.yaml"
            target.write_text(json.dumps(resource.data))  # JSON is YAML
            files.append(str(target))
        result = command.run(*arguments(core, locations, version), *files) if files else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # our own scratch folder only
    if result is None:
        return
    try:
        report = json.loads(result.stdout or b"{}")
    except ValueError:
        stderr = result.stderr.decode("utf-8", "replace")
        raise ToolError(["kubeconform"], result.returncode, stderr, "gave no JSON") from None
    for resource, path, message in read_report(report, resources):
        if path is None:
            collected.add_missing((str(resource.data.get("apiVersion", "")), resource.kind), 1, resource, "", "")
        else:
            collected.violations.append((resource, path, Severity.ERROR, f"{message} (kubeconform)"))


def read_report(report: dict[str, Any], resources: list[Resource]) -> Iterator[tuple[Resource, KeyPath | None, str]]:
    """(object, path, message) of each problem in kubeconform's ``-output json``; path None: no schema.

    Files are named by the object's number. kubeconform 0.7.0 lists only the outermost failure in
    ``validationErrors`` (``/spec``: "validation failed") and every detail in ``msg``, as
    ``- at '/spec/replicas': got string, want null or integer``; those details are taken when there
    are any. Other versions give ``validationErrors`` with JSON pointers, or one ``msg``.
    """
    for item in report.get("resources") or []:
        stem = Path(str(item.get("filename", ""))).stem
        if not stem.isdigit() or int(stem) >= len(resources):
            continue
        resource = resources[int(stem)]
        status = str(item.get("status", "")).lower()
        message = str(item.get("msg", ""))
        if MISSING in message:
            yield resource, None, message
        elif "invalid" in status or "error" in status:
            details = item.get("validationErrors")
            detailed = _details(message)
            if detailed:
                for pointer, text in detailed:
                    yield resource, _keypath(pointer, resource.data), text
            elif isinstance(details, list) and details:
                for detail in details:
                    yield resource, _keypath(str(detail.get("path", "")), resource.data), str(detail.get("msg", ""))
            else:
                yield resource, (), message
