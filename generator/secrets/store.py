"""The secrets file: which values the settings need, reading them, adding generated ones."""

from __future__ import annotations

import os
import re
import secrets as random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from generator.atomicfile import replacing, write_file
from generator.errors import KeyPath, Problem, SettingsError, UsageError
from generator.litellm.providers import credential_refs
from generator.secrets.sops import Sops
from generator.settings.load import LoadedSettings, shown_path
from generator.settings.models import Settings

SECRET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _master_key() -> str:
    return "sk-" + random.token_hex(24)


def _hex_secret() -> str:
    return random.token_hex(32)


def _password() -> str:
    # hex: safe inside a DATABASE_URL and a redis:// URL without escaping
    return random.token_hex(24)


@dataclass(frozen=True)
class SecretNeed:
    name: str  # the key in the secrets file
    path: KeyPath  # the (first) setting that needs it, for error positions
    purpose: str
    generate: Callable[[], str] | None = None  # clusterforge can make the value itself
    also: tuple[KeyPath, ...] = ()  # further settings that need the same secret


def needed_secrets(settings: Settings) -> list[SecretNeed]:
    """Every secret the settings need, each once, in a stable order."""
    needs = [
        SecretNeed("litellm_master_key", ("litellm",), "the LiteLLM master key (admin API, UI)", _master_key),
        SecretNeed(
            "litellm_salt_key",
            ("litellm",),
            "the LiteLLM salt key (encrypts credentials in the database; never change it)",
            _hex_secret,
        ),
    ]
    if settings.database.type == "cloudnative-pg":
        needs.append(
            SecretNeed("database_password", ("database",), "the password of the LiteLLM database owner", _password)
        )
    else:
        needs.append(SecretNeed("database_password", ("database",), "the password of the external database user"))
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey"):
        needs.append(SecretNeed("cache_password", ("cache",), "the password of the cache", _password))
    elif cache.type == "external":
        if cache.password:
            needs.append(SecretNeed("cache_password", ("cache", "password"), "the password of the external cache"))
        if cache.sentinel is not None and cache.sentinel.password:
            needs.append(
                SecretNeed(
                    "cache_sentinel_password",
                    ("cache", "sentinel", "password"),
                    "the password of the sentinels",
                )
            )
    needs.append(
        SecretNeed("ui_password", ("sso", "ui_username"), "the password of the LiteLLM UI's admin login", _password)
    )
    if settings.sso.type == "oidc":
        needs.append(SecretNeed("oidc_client_secret", ("sso", "oidc"), "the OIDC client secret of LiteLLM"))
    if settings.observability.langfuse is not None:
        for name in ("langfuse_public_key", "langfuse_secret_key"):
            needs.append(SecretNeed(name, ("observability", "langfuse"), "a Langfuse project key"))
    db = settings.database
    if db.type == "cloudnative-pg" and db.backup is not None and db.backup.enabled:
        for name in ("backup_access_key_id", "backup_secret_access_key"):
            needs.append(SecretNeed(name, ("database", "backup"), "the S3 credentials of the database backups"))
    if settings.cache.type == "dragonfly" and settings.cache.acl:
        needs.append(
            SecretNeed("cache_admin_password", ("cache", "acl"), "the password of the cache's default user", _password)
        )
    shared = {c.name for c in settings.credentials}
    for index, cred in enumerate(settings.credentials):
        for ref in credential_refs(cred.provider, cred.name):
            needs.append(SecretNeed(ref.secret, ("credentials", index, "name"), f"the API key of {cred.provider}"))
    for index, model in enumerate(settings.models):
        if model.credential is None or model.credential in shared:
            continue
        for ref in credential_refs(model.provider, model.credential):
            needs.append(SecretNeed(ref.secret, ("models", index, "credential"), f"the API key of {model.provider}"))
    unique: dict[str, SecretNeed] = {}
    for need in needs:
        first = unique.get(need.name)
        if first is None:
            unique[need.name] = need
        elif need.path != first.path and need.path not in first.also:
            unique[need.name] = replace(first, also=(*first.also, need.path))
    return list(unique.values())


GENERATORS: dict[str, Callable[[], str]] = {
    "litellm_master_key": _master_key,
    "litellm_salt_key": _hex_secret,
    "database_password": _password,
    "cache_password": _password,
    "cache_admin_password": _password,
    "ui_password": _password,
}


@dataclass(frozen=True)
class SecretsFile:
    """The encrypted secrets file of one repository and the sops that opens it."""

    path: Path
    sops: Sops

    @classmethod
    def for_settings(cls, loaded: LoadedSettings, age_key_file: Path) -> SecretsFile:
        sops_settings = loaded.settings.secrets.sops
        config = loaded.resolve(sops_settings.config)
        if not config.is_file():
            raise UsageError(f"{shown_path(config)}: sops creation rules not found; run `clusterforge init`")
        return cls(loaded.resolve(sops_settings.file), Sops(config, age_key_file, loaded.base_dir))

    @property
    def shown(self) -> str:
        return shown_path(self.path)

    @property
    def relative(self) -> str:
        return os.path.relpath(self.path, self.sops.workdir)

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> dict[str, str]:
        """The decrypted values; every key and value checked, all problems at once."""
        try:
            encrypted = self.path.read_bytes()
        except FileNotFoundError:
            raise UsageError(f"{self.shown}: secrets file not found; run `clusterforge init`") from None
        data = self.sops.decrypt_yaml(encrypted, self.relative)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SettingsError(
                [Problem(self.shown, None, None, "", "the secrets file must be a mapping of names to values")]
            )
        problems = []
        values: dict[str, str] = {}
        for key, value in data.items():
            if key == "sops":
                continue
            if not SECRET_NAME.match(str(key)):
                problems.append(
                    Problem(self.shown, None, None, str(key), "secret names use lowercase letters, digits and '_'")
                )
            elif not isinstance(value, str):
                # never show the value: it is a secret even when it has the wrong type
                problems.append(Problem(self.shown, None, None, str(key), "must be a string; quote the value"))
            else:
                values[key] = value
        if problems:
            raise SettingsError(problems)
        return values

    def create(self, values: dict[str, str]) -> None:
        """Write a new secrets file holding ``values``; refuses to replace an existing one."""
        plaintext = "# clusterforge secrets: edit with `sops " + self.relative + "`\n"
        plaintext += yaml.safe_dump(values, sort_keys=False, default_flow_style=False, width=1 << 16)
        encrypted = self.sops.encrypt(plaintext.encode(), self.relative)
        if not write_file(self.path, encrypted, 0o644, create=True):
            raise UsageError(f"{self.shown}: exists already; clusterforge never replaces a secrets file")

    def add(self, name: str, value: str) -> None:
        """Set ``name`` with `sops set` on a copy that then replaces the file: a kill leaves the old file."""
        with replacing(self.path) as copy:
            self.sops.set_value(os.path.relpath(copy, self.sops.workdir), name, value)

    def names(self) -> set[str]:
        return secret_names(self.path)


def secret_names(path: Path) -> set[str]:
    """The names in a secrets file, read without decrypting: sops encrypts values, not keys."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return set()
    return {str(k) for k in data if k != "sops"} if isinstance(data, dict) else set()


def check_secrets(loaded: LoadedSettings, values: dict[str, str], secrets_shown: str) -> list[Problem]:
    """A problem at the setting that needs it for every secret that is missing or empty."""
    problems = []
    for need in needed_secrets(loaded.settings):
        value = values.get(need.name)
        if value is None:
            fix = "run `clusterforge init` to generate it" if need.generate else f"add it with `sops {secrets_shown}`"
            problems.append(
                loaded.problem(
                    need.path, f"secret '{need.name}' ({need.purpose}) is missing from {secrets_shown}; {fix}"
                )
            )
        elif not value.strip():
            problems.append(loaded.problem(need.path, f"secret '{need.name}' in {secrets_shown} is empty"))
    return problems
