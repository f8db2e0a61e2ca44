"""Check one document against its compiled schema: every violation, each with its JSON path."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from generator.errors import KeyPath
from generator.validate.model import Severity

if TYPE_CHECKING:
    import jsonschema_rs

# what YAML 1.1 (Kubernetes' go-yaml) reads as booleans; YAML 1.2 and yaml_rs read strings
YAML11_BOOLEANS = frozenset(
    word for base in ("y", "yes", "n", "no", "on", "off") for word in (base, base.capitalize(), base.upper())
)
_FLUX_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::=[^}]*)?\}")

Violation = tuple[KeyPath, Severity, str]


def without_sops(data: dict[str, Any]) -> dict[str, Any]:
    """A SOPS-encrypted document with its ``sops`` block set aside: what Flux applies after decrypting."""
    return {key: value for key, value in data.items() if key != "sops"}


def is_sops(data: dict[str, Any]) -> bool:
    if "sops" not in data:
        return False
    block = data["sops"]
    return isinstance(block, dict) and ("mac" in block or "lastmodified" in block)


def violations(
    validator: jsonschema_rs.Validator, data: Any, sops: bool = False, hide_values: bool = False
) -> Iterator[Violation]:
    """Every schema violation of ``data``; values only decided later (SOPS, Flux variables) are let pass.

    ``hide_values`` (for Secrets) keeps the offending value out of the message.
    """
    try:
        if validator.is_valid(data):
            return
    except ValueError:  # a key that is not a string: Kubernetes turns it into one (YAML to JSON), so do we
        data = string_keys(data)
        if validator.is_valid(data):
            return
    for error in validator.iter_errors(data):
        path: KeyPath = tuple(error.instance_path)
        name = error.kind.name
        instance = error.instance
        if name == "additionalProperties":
            for key in getattr(error.kind, "unexpected", []):
                yield (*path, key), Severity.ERROR, "unknown field (not in the schema)"
            continue
        if name == "type" and isinstance(instance, str):
            if sops and instance.startswith("ENC["):
                continue  # an encrypted number or boolean: its type is known only after decryption
            if _FLUX_VARIABLE.fullmatch(instance):
                continue  # replaced by Flux postBuild substitution before it is applied
            if instance in YAML11_BOOLEANS and "boolean" in getattr(error.kind, "types", []):
                yield (
                    path,
                    Severity.WARNING,
                    f"'{instance}' is a string in YAML 1.2 but a boolean for Kubernetes (YAML 1.1); "
                    f"write {'true' if instance.lower() in ('y', 'yes', 'on') else 'false'}",
                )
                continue
        yield path, Severity.ERROR, _hidden(error) if hide_values else error.message


def string_keys(data: Any) -> Any:
    """``data`` with every mapping key as JSON has it: ``1`` as ``"1"``, ``true`` as ``"true"``."""
    if isinstance(data, dict):
        return {_json_key(key): string_keys(value) for key, value in data.items()}
    if isinstance(data, list):
        return [string_keys(item) for item in data]
    return data


def _json_key(key: object) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def _hidden(error: jsonschema_rs.ValidationError) -> str:
    """The message without the value it is about (a Secret's values are never shown)."""
    kind = error.kind
    if kind.name == "type":
        return f"must be of type {' or '.join(getattr(kind, 'types', []))} (a Secret's value is not shown)"
    if kind.name == "required":
        return error.message
    return f"violates the schema's '{kind.name}' rule (a Secret's value is not shown)"


def hides_values(api_version: str, kind: str) -> bool:
    return api_version == "v1" and kind == "Secret"
