"""Sealing values for the SealedSecrets controller, in its exact format (as `kubeseal --cert` does).

Per value: a random 32-byte AES key, RSA-OAEP (SHA-256 for hash and MGF1) over that key with the
scope's label, AES-256-GCM with an all-zero 12-byte nonce and no associated data; the bytes are the
2-byte big-endian length of the RSA ciphertext, the RSA ciphertext, then the GCM ciphertext and tag,
in standard base64. With a `kubeseal` on PATH, it seals instead (values through stdin).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from generator.command import Command, optional_program
from generator.errors import UsageError

SCOPE_ANNOTATIONS = {
    "namespace-wide": "sealedsecrets.bitnami.com/namespace-wide",
    "cluster-wide": "sealedsecrets.bitnami.com/cluster-wide",
}


def scope_label(scope: str, namespace: str, name: str) -> bytes:
    if scope == "strict":
        return f"{namespace}/{name}".encode()
    if scope == "namespace-wide":
        return namespace.encode()
    return b""


def seal_value(public_key: rsa.RSAPublicKey, label: bytes, plaintext: bytes) -> str:
    session_key = os.urandom(32)
    wrapped = public_key.encrypt(
        session_key,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label),
    )
    sealed = AESGCM(session_key).encrypt(b"\0" * 12, plaintext, None)
    return base64.b64encode(len(wrapped).to_bytes(2, "big") + wrapped + sealed).decode("ascii")


@dataclass(frozen=True)
class Certificate:
    path: Path
    shown: str

    @cached_property
    def public_key(self) -> rsa.RSAPublicKey:
        try:
            cert = x509.load_pem_x509_certificate(self.path.read_bytes())
        except FileNotFoundError:
            raise UsageError(
                f"{self.shown}: the sealed-secrets certificate is missing; fetch it with "
                "`kubeseal --fetch-cert --controller-namespace sealed-secrets > " + self.shown + "`"
            ) from None
        except ValueError:
            raise UsageError(f"{self.shown}: not a PEM certificate") from None
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise UsageError(f"{self.shown}: the certificate's key is not RSA, so not a sealed-secrets certificate")
        return key

    @cached_property
    def fingerprint(self) -> str:
        der = self.public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class Sealer:
    """Seals with `kubeseal` when it is installed, in-process otherwise; same output format."""

    cert: Certificate
    scope: str

    @cached_property
    def kubeseal(self) -> Command | None:
        program = optional_program("kubeseal")
        return Command((program,), timeout=60) if program else None

    def seal(self, namespace: str, name: str, values: Mapping[str, str]) -> dict[str, str]:
        if not values:
            return {}
        if self.kubeseal is not None:
            return self._kubeseal(namespace, name, values)
        label = scope_label(self.scope, namespace, name)
        return {key: seal_value(self.cert.public_key, label, value.encode()) for key, value in values.items()}

    def _kubeseal(self, namespace: str, name: str, values: Mapping[str, str]) -> dict[str, str]:
        assert self.kubeseal is not None  # noqa: S101 - checked by the caller
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "stringData": dict(values),
        }
        result = self.kubeseal.run(
            "--cert",
            str(self.cert.path),
            "--scope",
            self.scope,
            "--format",
            "yaml",
            stdin=yaml.safe_dump(secret).encode(),
        )
        sealed = yaml.safe_load(result.stdout) or {}
        data = sealed.get("spec", {}).get("encryptedData", {})
        return {str(k): str(v) for k, v in data.items()}
