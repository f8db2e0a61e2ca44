"""The local record of what was sealed: keyed digests only, outside output/ and gitignored.

Sealing is random and a SealedSecret cannot be opened without the cluster's private key, so
"is this value still what was sealed?" is answered from this record. A digest is an HMAC with a
key derived from the repository's age key: someone with the record but not the key cannot
test guesses of a value against it.
"""

from __future__ import annotations

import json
import os
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

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        text = json.dumps({"version": 1, "entries": dict(sorted(self.entries.items()))}, indent=1, sort_keys=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.replace(tmp, self.path)
