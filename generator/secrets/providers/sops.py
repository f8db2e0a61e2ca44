"""SOPS: Secrets encrypted in git to the repository's age recipients; Flux decrypts them."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.outputs import SecretFile
from generator.secrets.providers import ReadExisting, previous_document, resolved, secret_plaintext
from generator.secrets.sops import Sops, creation_rules
from generator.stack import SecretSpec


@dataclass
class SopsProvider:
    """Secrets encrypted with sops to the repository's age recipients; Flux decrypts them."""

    sops: Sops
    output_dir: Path  # where output paths are rooted, to name files for sops' creation rules
    values: Mapping[str, str] = field(repr=False)
    name: str = "sops"
    _decrypted: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def filename(self, spec: SecretSpec) -> str:
        return f"{spec.basename}.sops.yaml"

    def materialize(self, files: list[SecretFile], header: str, existing: ReadExisting) -> dict[str, bytes]:
        recipients = self._recipients()
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = pool.map(lambda f: (f.path, self._one(f, header, existing(f.path), recipients)), files)
            return dict(results)

    def _sops_path(self, path: str) -> str:
        return (
            str((self.output_dir / path).relative_to(self.sops.workdir))
            if self._inside()
            else str(self.output_dir / path)
        )

    def _inside(self) -> bool:
        return self.output_dir.resolve().is_relative_to(self.sops.workdir.resolve())

    def _one(self, file: SecretFile, header: str, old: bytes | None, recipients: dict[str, frozenset[str]]) -> bytes:
        plaintext = secret_plaintext(file.spec, header, self.values)
        sops_path = self._sops_path(file.path)
        if old is not None and self._unchanged(old, plaintext, header, sops_path, recipients):
            return old
        return self.sops.encrypt(plaintext.encode(), sops_path)

    def _unchanged(
        self, old: bytes, plaintext: str, header: str, sops_path: str, recipients: dict[str, frozenset[str]]
    ) -> bool:
        if not old.decode("utf-8", "replace").startswith(header):
            return False
        old_doc = previous_document(old)
        if not isinstance(old_doc, dict) or not isinstance(old_doc.get("sops"), dict):
            return False
        old_recipients = frozenset(
            str(entry.get("recipient")) for entry in old_doc["sops"].get("age") or [] if isinstance(entry, dict)
        )
        wanted = _rule_recipients(recipients, sops_path)
        if wanted is not None and old_recipients != wanted:
            return False  # a recipient was added or removed: encrypt again so every key opens it
        decrypted = self._decrypt(old, sops_path)
        return bool(decrypted == yaml.safe_load(plaintext))

    def _decrypt(self, old: bytes, sops_path: str) -> Any:
        """The old file's plaintext document, decrypted once per run."""
        with self._lock:
            if sops_path in self._decrypted:
                return self._decrypted[sops_path]
        decrypted = self.sops.decrypt_yaml(old, sops_path)
        if isinstance(decrypted, dict):
            decrypted.pop("sops", None)
        with self._lock:
            self._decrypted[sops_path] = decrypted
        return decrypted

    def rotated(self, file: SecretFile, key: str, old: bytes | None) -> bool | None:
        if old is None:
            return None
        before = self._decrypt(old, self._sops_path(file.path))
        data = before.get("stringData") if isinstance(before, dict) else None
        if not isinstance(data, dict) or key not in data:
            return None
        return bool(data[key] != resolved(file.spec, self.values).get(key))

    def notes(self) -> list[str]:
        return []

    def records(self) -> dict[Path, bytes]:
        return {}

    def _recipients(self) -> dict[str, frozenset[str]]:
        """path_regex -> age recipients of each creation rule, in order."""
        return creation_rules(self.sops.config) if self.sops.config.is_file() else {}


def _rule_recipients(rules: dict[str, frozenset[str]], path: str) -> frozenset[str] | None:
    for pattern, recipients in rules.items():
        try:
            if re.search(pattern, path):
                return recipients
        except re.error:
            return None
    return None
