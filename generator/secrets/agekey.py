"""The repository's age key: created with pyrage, found for a settings file, readable by its owner only."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage

from generator.atomicfile import write_file
from generator.errors import UsageError
from generator.secrets.sops import creation_rules
from generator.settings.load import LoadedSettings, shown_path


@dataclass(frozen=True)
class AgeKey:
    path: Path
    recipient: str  # age1...


def create_age_key(path: Path) -> AgeKey:
    """Write a new age identity to ``path`` with mode 0600; the file must not exist."""
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    text = f"# created by clusterforge init\n# public key: {recipient}\n{identity}\n"
    # complete or absent, never half a key; and never over a key, even one that appeared since we looked
    if not write_file(path, text.encode("ascii"), 0o600, create=True):
        raise UsageError(f"{shown_path(path)}: an age key exists already; clusterforge never replaces one")
    return AgeKey(path, recipient)


def read_age_key(path: Path, shown: str) -> AgeKey:
    """The recipient of the age key at ``path``; refuses a key others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(
            f"{shown}: age key not found; run `clusterforge init` to create one, "
            "or put the repository's key there (it is gitignored, so a fresh clone needs a copy)"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"{shown}: the age key is readable by others (mode {stat.S_IMODE(mode):o}); run `chmod 600 {shown}`"
        )
    identities = _identities(path)
    if identities is None:
        raise UsageError(f"{shown}: not a valid age secret key")
    if not identities:
        raise UsageError(f"{shown}: no age secret key in it")
    return AgeKey(path, str(identities[0][1].to_public()))


def _identities(path: Path) -> list[tuple[bytes, Any]] | None:
    """Each identity line of a key file with its parsed key; None when a line is not a valid key.

    Lines are comments (#) or identities, as age-keygen writes them; pyrage decides what is a key.
    """
    found = []
    for raw in path.read_text(encoding="ascii", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found.append((line.encode("ascii"), pyrage.x25519.Identity.from_str(line)))
        except Exception:  # pyrage raises its own error types for malformed keys
            return None
    return found


def identity_bytes(path: Path) -> bytes:
    """The secret key line itself, for deriving keyed digests; never written anywhere."""
    identities = _identities(path)
    if not identities:
        raise UsageError(f"{path}: no valid age secret key in it")
    return identities[0][0]


def find_age_key(loaded: LoadedSettings) -> AgeKey:
    """The key named in the settings; SOPS_AGE_KEY_FILE when that file does not exist (CI)."""
    path = loaded.resolve(loaded.settings.secrets.sops.age_key_file)
    env = os.environ.get("SOPS_AGE_KEY_FILE")
    if not path.exists() and env:
        path = Path(env)
    key = read_age_key(path, shown_path(path))
    config = loaded.resolve(loaded.settings.secrets.sops.config)
    if config.is_file():
        recipients = set().union(*creation_rules(config).values())
        if recipients and key.recipient not in recipients:
            raise UsageError(
                f"{shown_path(config)}: the age key {shown_path(path)} ({key.recipient}) is not one of its recipients; "
                "what configure encrypts could not be decrypted with it"
            )
    return key
