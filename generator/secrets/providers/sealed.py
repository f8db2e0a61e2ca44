"""SealedSecrets: values sealed with the controller's public certificate; only the cluster opens them.

Unchanged values keep their old ciphertext, decided from the local record of keyed digests, so a
changed secret changes one line of one file. A fresh clone has no record: everything is sealed
again once, and configure says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.outputs import SecretFile
from generator.render import render
from generator.secrets.providers import ReadExisting, previous_document, resolved
from generator.secrets.record import SealedRecord
from generator.secrets.sealing import SCOPE_ANNOTATIONS, Sealer
from generator.stack import SecretSpec


@dataclass
class SealedProvider:
    sealer: Sealer
    record: SealedRecord
    values: Mapping[str, str] = field(repr=False)
    name: str = "sealed-secrets"
    _pending: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _resealed: list[str] = field(default_factory=list)

    def filename(self, spec: SecretSpec) -> str:
        return f"{spec.basename}.sealed.yaml"

    def _digests(self, spec: SecretSpec, data: Mapping[str, str]) -> dict[str, str]:
        scope, cert = self.sealer.scope, self.sealer.cert.fingerprint
        return {k: self.record.digest(scope, cert, spec.namespace, spec.name, k, v) for k, v in data.items()}

    def materialize(self, files: list[SecretFile], header: str, existing: ReadExisting) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for file in files:
            out[file.path] = self._one(file, header, existing(file.path))
        return out

    def _one(self, file: SecretFile, header: str, old: bytes | None) -> bytes:
        spec = file.spec
        data = resolved(spec, self.values)
        digests = self._digests(spec, data)
        recorded = self.record.entries.get(file.path, {}).get("keys", {})
        old_sealed = _encrypted_data(old)
        keep = {k: old_sealed[k] for k, d in digests.items() if recorded.get(k) == d and k in old_sealed}
        if old is not None and len(keep) < len(data) and not self.record.existed:
            self._resealed.append(file.path)
        sealed = {
            **keep,
            **self.sealer.seal(spec.namespace, spec.name, {k: v for k, v in data.items() if k not in keep}),
        }
        text = header + render(
            "secrets/sealedsecret.yaml.j2",
            secret=spec,
            encrypted={k: sealed[k] for k in data},
            scope_annotation=SCOPE_ANNOTATIONS.get(self.sealer.scope),
        )
        self._pending[file.path] = {"keys": digests}
        return text.encode()

    def rotated(self, file: SecretFile, key: str, old: bytes | None) -> bool | None:
        recorded = self.record.entries.get(file.path, {}).get("keys", {}).get(key)
        if old is None or recorded is None:
            return None
        value = resolved(file.spec, self.values).get(key)
        if value is None:
            return None
        return bool(recorded != self._digests(file.spec, {key: value})[key])

    def notes(self) -> list[str]:
        if not self._resealed:
            return []
        return [
            f"note: no local record of what was sealed ({self.record.path.name}): sealed "
            f"{len(self._resealed)} secret file(s) again; later runs keep unchanged ones byte for byte"
        ]

    def records(self) -> dict[Path, bytes]:
        return {self.record.path: self.record.to_bytes(self._pending)}


def _encrypted_data(old: bytes | None) -> dict[str, str]:
    if old is None:
        return {}
    doc = previous_document(old)
    spec = doc.get("spec") if isinstance(doc, dict) else None
    data = spec.get("encryptedData") if isinstance(spec, dict) else None
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}
    )
