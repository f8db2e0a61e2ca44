"""Keyed digests of secret plaintext: never plain hashes, which a guess could be checked against."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(identity: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the repository's age identity."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"clusterforge {purpose} v1".encode()).derive(
        identity
    )


def keyed_digest(key: bytes, value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()
