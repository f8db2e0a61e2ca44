"""The local record of what was sealed: keyed digests only, outside output/ and gitignored.

Sealing is random and a SealedSecret cannot be opened without the cluster's private key, so
"is this value still what was sealed?" is answered from this record. A digest is an HMAC with a
key derived from the repository's age key: someone with the record but not the key cannot
test guesses of a value against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.digest import derive_key, keyed_digest


@dataclass
class SealedRecord:
    path: Path
    key: bytes = field(repr=False)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    existed: bool = False

    @classmethod
    def load(cls, path: Path, identity: bytes) -> SealedRecord:
        key = derive_key(identity, "sealed-secrets record")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = data.get("entries", {}) if isinstance(data, dict) else {}
            return cls(path, key, dict(entries), existed=True)
        except (OSError, ValueError):
            return cls(path, key)

    def digest(self, scope: str, cert: str, namespace: str, name: str, key: str, value: str) -> str:
        return keyed_digest(self.key, [scope, cert, namespace, name, key, value])

    def to_bytes(self, entries: dict[str, dict[str, Any]]) -> bytes:
        """The record holding ``entries``: written by configure in the commit of the tree it describes."""
        text = json.dumps({"version": 1, "entries": dict(sorted(entries.items()))}, indent=1, sort_keys=True)
        return (text + "\n").encode()
