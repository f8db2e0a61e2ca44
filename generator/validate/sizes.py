"""Objects the API server refuses for their size, found before a cluster does.

Two limits, as Kubernetes and etcd define them:

- A ConfigMap's ``data`` and ``binaryData`` together, and a Secret's ``data``, may hold at most
  ``MaxSecretSize = 1 * 1024 * 1024`` bytes (kubernetes ``pkg/apis/core/types.go``), checked by
  ``ValidateConfigMap`` and ``ValidateSecret`` in ``pkg/apis/core/validation/validation.go``: the sum of
  ``len(value)`` over the values (keys are not counted), ``binaryData`` and Secret ``data`` decoded from
  base64. A Secret's ``stringData`` is merged into ``data`` before that check, each key overwriting the
  one in ``data`` (``Convert_v1_Secret_To_core_Secret``, ``pkg/apis/core/v1/conversion.go``).
- Every object is written to etcd in one request, and etcd refuses requests over
  ``--max-request-bytes``, ``DefaultMaxRequestBytes = 1.5 * 1024 * 1024`` (etcd ``server/embed/config.go``):
  the API server answers ``etcdserver: request is too large``. The object's compact JSON stands in for
  what the API server writes (protobuf for built-in kinds, JSON for custom resources).

A document that is small, without aliases, cannot break either limit: see ``SMALL_ENOUGH``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from generator.validate.expansion import has_alias

MAX_DATA_BYTES = 1024 * 1024  # MaxSecretSize
MAX_REQUEST_BYTES = 1024 * 1024 * 3 // 2  # etcd DefaultMaxRequestBytes

# No YAML text of this many characters, without aliases, holds an object past either limit: a value
# takes at most 4 UTF-8 bytes per character of text (so data stays under 1 MiB), and compact JSON at
# most about 4.5 bytes per character (`{a,b}` becomes `{"a":null,"b":null}`), under 1.5 MiB.
SMALL_ENOUGH = 256 * 1024

# sops keeps an encrypted value's ciphertext, as long as the plain value, in base64 at ``data:``
_SOPS_VALUE = re.compile(r"^ENC\[[A-Z0-9_]+,data:([A-Za-z0-9+/=]*),")


def may_be_too_big(text: str) -> bool:
    """Whether a YAML text could hold an object past a limit: it is large, or it uses aliases."""
    return len(text) > SMALL_ENOUGH or has_alias(text)


def too_big(group: str, kind: str, data: dict[str, Any], sops: bool = False) -> str | None:
    """Why the API server would refuse the object for its size, or None. ``sops``: values are
    sops-encrypted (their plain size is read from the ciphertext)."""
    if group == "" and kind in ("ConfigMap", "Secret"):
        size = _data_bytes(kind, data, sops)
        if size > MAX_DATA_BYTES:
            what = "data and binaryData" if kind == "ConfigMap" else "data (stringData included)"
            return f"{what} hold {amount(size)}: the API server refuses a {kind} over 1 MiB ({MAX_DATA_BYTES:,} bytes)"
    if kind.endswith("List"):
        return None  # a List is applied item by item: each item is its own request
    size = json_bytes(data)
    if size > MAX_REQUEST_BYTES:
        return (
            f"the object is {amount(size)} as JSON: etcd refuses requests over 1.5 MiB "
            f"({MAX_REQUEST_BYTES:,} bytes, its --max-request-bytes default), so the API server cannot store it"
        )
    return None


def json_bytes(data: Any) -> int:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text) if text.isascii() else len(text.encode("utf-8"))  # no copy when ASCII


def _data_bytes(kind: str, data: dict[str, Any], sops: bool) -> int:
    if kind == "ConfigMap":
        plain = _mapping(data.get("data"))
        binary = _mapping(data.get("binaryData"))
        return sum(_text_bytes(v, sops) for v in plain.values()) + sum(_base64_bytes(v, sops) for v in binary.values())
    merged = {key: _base64_bytes(value, sops) for key, value in _mapping(data.get("data")).items()}
    merged.update({key: _text_bytes(value, sops) for key, value in _mapping(data.get("stringData")).items()})
    return sum(merged.values())


def _mapping(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _text_bytes(value: object, sops: bool) -> int:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if sops:
        cipher = _SOPS_VALUE.match(text)
        if cipher is not None:
            return _decoded_length(cipher.group(1))
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _base64_bytes(value: object, sops: bool) -> int:
    text = value if isinstance(value, str) else ""
    if sops:
        cipher = _SOPS_VALUE.match(text)
        if cipher is not None:  # the plain value is itself base64
            return _decoded_length(cipher.group(1)) * 3 // 4
    return _decoded_length(text)


def _decoded_length(text: str) -> int:
    """Bytes that base64 ``text`` decodes to (whitespace ignored, as Go's decoder does for line breaks)."""
    compact = "".join(text.split())
    padding = len(compact) - len(compact.rstrip("="))
    return max(len(compact) * 3 // 4 - padding, 0)


def amount(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB ({size:,} bytes)"
