"""Find and compile the JSON schema of each kind, once per run.

Core kinds come from the schemas bundled in the ``kubernetes-validate`` package (strict variant,
for the chosen Kubernetes version). Their ``$ref``s point into a 1.3 MB ``_definitions.json``;
each kind is made standalone (only the definitions it needs) once and kept in the cache folder,
in kubeconform's layout, so a warm run reads a small file per kind and never the big one.
Other kinds come from the schema locations, in order.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from generator.errors import UsageError
from generator.validate.fetch import Fetcher, Unavailable, write_atomic
from generator.validate.locations import STANDALONE_LAYOUT, Kind, Location, expand

if TYPE_CHECKING:
    import jsonschema_rs

    from generator.cel.validator import SchemaRules

_DEFS_REF = "/api/_definitions.json#/$defs/"
_EXTERNAL_REF = re.compile(r'"\$ref"\s*:\s*"[^#"]')
_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.0-local-strict$")


def bundled_root() -> Path:
    """The kubernetes-validate schema folder, found without importing the package (it is slow)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the kubernetes-validate package is not installed: pip install kubernetes-validate")
    return Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"


def bundled_versions(root: Path | None = None) -> list[str]:
    found = []
    for entry in (root or bundled_root()).iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return [f"{major}.{minor}" for major, minor in sorted(found)]


def normalize_version(text: str, root: Path | None = None) -> str:
    """``1.32``, ``v1.32`` or ``1.32.4`` as ``1.32``, if kubernetes-validate has schemas for it."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    available = bundled_versions(root)
    if match is None:
        raise UsageError(f"kubernetes version {text!r}: expected MAJOR.MINOR such as 1.32")
    version = f"{int(match.group(1))}.{int(match.group(2))}"
    if version not in available:
        known = f"{available[0]} to {available[-1]}"
        raise UsageError(f"kubernetes version {version}: no bundled schemas (kubernetes-validate has {known})")
    return version


def _package_version(root: Path) -> str:
    try:
        text = (root.parent / "version.py").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return match.group(1) if match else "unknown"


@dataclass
class CoreSchemas:
    """Standalone schemas of the core kinds for one Kubernetes version."""

    version: str  # 1.32
    cache: Path
    root: Path = field(default_factory=bundled_root)

    @property
    def folder(self) -> Path:
        return self.root / f"v{self.version}.0-local-strict"

    @cached_property
    def cache_folder(self) -> Path:
        """Where standalone schemas are kept: a kubeconform location (see ``cache_template``)."""
        return self.cache / "kubernetes-json-schema" / _package_version(self.root)

    @property
    def cache_template(self) -> str:
        return f"{self.cache_folder}/{STANDALONE_LAYOUT}"

    @cached_property
    def _definitions(self) -> dict[str, Any]:
        with (self.folder / "_definitions.json").open("rb") as handle:
            loaded: dict[str, Any] = json.load(handle)["$defs"]
        return loaded

    def schema_text(self, kind: Kind) -> str | None:
        """The standalone schema of a core kind, or None when it is not a core kind."""
        name = f"{kind.kind.lower()}{kind.kind_suffix}.json"
        cached = Path(expand(self.cache_template, kind, self.version))
        try:
            return cached.read_text(encoding="utf-8")
        except OSError:
            pass
        try:
            schema = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        wanted = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        if wanted not in schema.get("x-kubernetes-group-version-kind", []):
            return None  # a CRD whose file name happens to match a core one
        text = self._standalone(schema)
        write_atomic(cached, text.encode())
        return text

    def _standalone(self, schema: dict[str, Any]) -> str:
        needed: set[str] = set()
        pending = list(_refs(schema))
        while pending:
            name = pending.pop()
            if name not in needed:
                needed.add(name)
                pending.extend(_refs(self._definitions[name]))
        bundled = {**schema, "$defs": {name: self._definitions[name] for name in sorted(needed)}}
        return json.dumps(bundled, separators=(",", ":")).replace(f'"{_DEFS_REF}', '"#/$defs/')


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):  # kind schemas point into the definitions file, definitions at each other
                for prefix in (_DEFS_REF, "#/$defs/"):
                    if ref.startswith(prefix):
                        found.append(ref[len(prefix) :])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@dataclass(slots=True)
class Lookup:
    """A compiled schema, or why there is none."""

    validator: jsonschema_rs.Validator | None
    where: str = ""  # where the schema came from
    unavailable: str = ""  # set when a schema may exist but could not be had (network, unreadable)
    broken: str = ""  # set when a schema was found but cannot be compiled
    rules: SchemaRules | None = None  # its x-kubernetes-validations, compiled (None: it has none, or CEL is off)
    schema: str | dict[str, Any] | None = None  # the schema itself, kept (unparsed) only when it holds CEL rules


@dataclass
class SchemaStore:
    core: CoreSchemas
    locations: list[Location]
    fetcher: Fetcher
    cel: bool = True  # compile the schemas' CEL rules beside them
    _kinds: dict[tuple[str, str], Lookup] = field(default_factory=dict)
    _charts: dict[tuple[str, str], Lookup] = field(default_factory=dict)

    def for_kind(self, api_version: str, kind_name: str) -> Lookup:
        key = (api_version, kind_name)
        if key not in self._kinds:
            lookup = self._find(Kind.parse(api_version, kind_name))
            if self.cel and lookup.validator is not None:
                lookup.rules = _rules_of(lookup)
            self._kinds[key] = lookup
        return self._kinds[key]

    def _find(self, kind: Kind) -> Lookup:
        text = self.core.schema_text(kind)
        if text is not None:
            return _compile(text, f"kubernetes-validate {self.core.version}")
        unavailable = []
        for location in self.locations:
            for template in location.templates():
                where = expand(template, kind, self.core.version)
                try:
                    data = self.fetcher.get(where)
                except Unavailable as exc:
                    unavailable.append(str(exc))
                    continue
                if data is not None:
                    return self._compile_found(where, data)
        return Lookup(None, unavailable="; ".join(unavailable))

    def for_chart(self, chart: str, version: str) -> Lookup:
        """The values schema of a chart version under a location, or Lookup(None) when none has one."""
        key = (chart, version)
        if key in self._charts:
            return self._charts[key]
        found = Lookup(None)
        versions = [version, version.removeprefix("v")] if version.startswith("v") else [version]
        for location in self.locations:
            for candidate in versions:
                where = location.chart_schema(chart, candidate)
                if where is None:
                    continue
                try:
                    data = self.fetcher.get(where)
                except Unavailable as exc:
                    found = Lookup(None, unavailable=str(exc))
                    continue
                if data is not None:
                    found = self._compile_found(where, data)
                    self._charts[key] = found
                    return found
        self._charts[key] = found
        return found

    def _compile_found(self, where: str, data: bytes) -> Lookup:
        text = re2_classes(data.decode("utf-8", "replace"))
        if not _EXTERNAL_REF.search(text):
            return _compile(text, where)
        try:
            root, base, resources = self._gather(where, text)
        except (ValueError, Unavailable) as exc:
            return Lookup(None, where, broken=f"schema {where} cannot be used: {exc}")
        return _compile(root, where, base, resources)

    def _gather(self, where: str, text: str) -> tuple[dict[str, Any], str, list[tuple[str, Any]]]:
        """The schema, its base URI, and every document its ``$ref``s reach, read beside it.

        jsonschema_rs cannot fetch a reference found inside a fetched document, so the whole set is
        gathered first; nothing is fetched from where a ``$id`` points, only from beside the schema.
        """
        root = json.loads(text)
        own = f"file://{where}" if not where.startswith(("http://", "https://")) else where
        declared = root.get("$id") or root.get("id") if isinstance(root, dict) else None
        base = declared if isinstance(declared, str) and "://" in declared else own
        base_dir, source_dir = base.rsplit("/", 1)[0] + "/", where.rsplit("/", 1)[0] + "/"
        found: dict[str, Any] = {}
        pending: list[tuple[Any, str]] = [(root, base)]
        while pending:
            document, document_base = pending.pop()
            for ref in _external_refs(document):
                uri = urljoin(document_base, ref.split("#", 1)[0])
                if uri in found or uri == base:
                    continue
                if not uri.startswith(base_dir):
                    raise ValueError(f"{ref} points outside the schema's folder; not fetched")
                data = self.fetcher.get(source_dir + uri[len(base_dir) :])
                if data is None:
                    raise ValueError(f"{ref}: {source_dir + uri[len(base_dir) :]} not found")
                found[uri] = json.loads(data)
                pending.append((found[uri], uri))
        return root, base, list(found.items())


_RE2_CLASS = re.compile(r"(?<!\\)\\\\([pP])([A-Za-z])")


def re2_classes(text: str) -> str:
    """Patterns in CRD schemas are Go (RE2) regexes: ``\\PC`` is ``\\P{C}`` to every other engine."""
    return _RE2_CLASS.sub(r"\\\\\1{\2}", text) if "\\\\p" in text or "\\\\P" in text else text


def _external_refs(node: Any) -> set[str]:
    refs: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                refs.add(ref)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return refs


def _case_insensitive(pattern: str) -> str:
    """A Go (RE2) pattern with a leading (?i) as an ECMA one: letters match either case.

    CRD schemas come from Go code, and the API server reads their patterns with Go's regexp;
    JSON Schema patterns are ECMA 262, which has no inline flags. A letter outside a class becomes
    [xX]; a class gains the other case of its letters and letter ranges. Escapes are kept.
    """
    body = pattern.replace("(?i)", "", 1)
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            out.append(body[index : index + 2])
            index += 2
        elif char == "[":
            end = index + 1
            while end < len(body) and body[end] != "]":
                end += 2 if body[end] == "\\" else 1
            out.append(_class_both_cases(body[index + 1 : end]))
            index = end + 1
        else:
            out.append(f"[{char.lower()}{char.upper()}]" if char.isascii() and char.isalpha() else char)
            index += 1
    return "".join(out)


def _class_both_cases(content: str) -> str:
    extra: list[str] = []
    index = 1 if content.startswith("^") else 0
    while index < len(content):
        if content[index] == "\\":
            index += 2
            continue
        if (
            index + 2 < len(content)
            and content[index + 1] == "-"
            and content[index].isalpha()
            and content[index + 2].isalpha()
        ):
            low, high = content[index], content[index + 2]
            extra.append(f"{low.swapcase()}-{high.swapcase()}")
            index += 3
            continue
        if content[index].isascii() and content[index].isalpha():
            extra.append(content[index].swapcase())
        index += 1
    return f"[{content}{''.join(extra)}]"


def _ecma_patterns(node: Any) -> Any:
    """The schema with every Go inline-flag pattern rewritten (see _case_insensitive)."""
    if isinstance(node, dict):
        return {
            k: _case_insensitive(v) if k == "pattern" and isinstance(v, str) and "(?i)" in v else _ecma_patterns(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_ecma_patterns(v) for v in node]
    return node


_RULES_KEY = "x-kubernetes-validations"


def _rules_of(lookup: Lookup) -> SchemaRules | None:
    """The CEL rules of a found schema, compiled (once per kind and process), or None when it has none."""
    schema = lookup.schema
    if schema is None:
        return None
    from generator.cel.validator import SchemaRules  # noqa: PLC0415 - the CEL engine loads only for rules

    rules = SchemaRules(json.loads(schema) if isinstance(schema, str) else schema)
    return rules if rules.count else None


def _compile(
    schema: str | dict[str, Any], where: str, base: str | None = None, resources: list[tuple[str, Any]] | None = None
) -> Lookup:
    """Compile a schema; ``$schema`` picks the draft, none means draft-04 (CRD schemas, as kubeconform reads them)."""

    import jsonschema_rs  # noqa: PLC0415 - imported on first use: after the fork, in every worker at once

    def refuse(uri: str) -> Any:
        raise ValueError(f"{uri}: not fetched")

    options: dict[str, Any] = {"retriever": refuse, "validate_formats": False}
    if resources:
        options["registry"] = jsonschema_rs.Registry(resources, retriever=refuse)
    if base is not None:
        options["base_uri"] = base
    if isinstance(schema, str) and "(?i)" in schema:
        schema = json.loads(schema)
    if isinstance(schema, dict) and "(?i)" in json.dumps(schema):
        schema = _ecma_patterns(schema)
    declared = '"$schema"' in schema if isinstance(schema, str) else "$schema" in schema
    try:
        if declared:
            validator = jsonschema_rs.validator_for(schema, **options)
        else:
            validator = jsonschema_rs.Draft4Validator(schema, **options)
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Lookup(None, where, broken=f"schema {where} cannot be used: {first}")
    found = Lookup(validator, where)
    if _RULES_KEY in schema if isinstance(schema, str) else _RULES_KEY in json.dumps(schema):
        found.schema = schema
    return found
