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
from generator.settings.apps import app_secret_refs
from generator.settings.load import LoadedSettings, shown_path
from generator.settings.models import Settings
from generator.yamlsource import SourceMap, parse_yaml, read_text_file, read_yaml_file

SECRET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
NOT_A_MAPPING = "the secrets file must be a mapping of names to values"


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
    for index, app in enumerate(settings.apps):
        for path, name in app_secret_refs(app):
            needs.append(SecretNeed(name, ("apps", index, *path), f"a secret of app {app.name}"))
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
        """The decrypted values; every key and value checked, all problems at once, each at its line.

        The encrypted form is read first (sops leaves the names readable): a file that is not YAML, or
        was never encrypted, is the user's to fix (exit 2), and its positions locate what is wrong
        with the decrypted values.
        """
        encrypted, source = self._encrypted()
        data = self.sops.decrypt_yaml(encrypted, self.relative)
        if not isinstance(data, dict):
            raise SettingsError([Problem(self.shown, 1, 1, "", NOT_A_MAPPING)])
        problems = []
        values: dict[str, str] = {}
        for key, value in data.items():
            if key == "sops":
                continue
            pos = source.keys.get((str(key),))
            line, col = (pos.line, pos.col) if pos else (1, 1)
            if not SECRET_NAME.match(str(key)):
                problems.append(
                    Problem(self.shown, line, col, str(key), "secret names use lowercase letters, digits and '_'")
                )
            elif not isinstance(value, str):
                # never show the value: it is a secret even when it has the wrong type
                problems.append(Problem(self.shown, line, col, str(key), "must be a string; quote the value"))
            else:
                values[key] = value
        if problems:
            raise SettingsError(problems)
        return values

    def _encrypted(self) -> tuple[bytes, SourceMap]:
        """The file's bytes and the positions of its names, checked to be a sops-encrypted YAML mapping."""
        if not self.path.exists():
            raise UsageError(f"{self.shown}: secrets file not found; run `clusterforge init`")
        text = read_text_file(self.path, self.shown)
        data, source = parse_yaml(text, self.shown)
        if not isinstance(data, dict):
            raise SettingsError([Problem(self.shown, 1, 1, "", NOT_A_MAPPING)])
        if not isinstance(data.get("sops"), dict):
            key = shown_path(self.sops.age_key_file)
            raise SettingsError(
                [
                    Problem(
                        self.shown,
                        1,
                        1,
                        "",
                        "not encrypted by sops (there is no `sops:` section); encrypt it in place with "
                        f"`SOPS_AGE_KEY_FILE={key} sops encrypt --in-place {self.shown}`, "
                        "or move it away and store each value with `clusterforge secrets set NAME`",
                    )
                ]
            )
        return text.encode("utf-8"), source

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
    """The names in a secrets file, read without decrypting: sops encrypts values, not keys.

    A file that is not there has none; one that is not YAML is a located SettingsError.
    """
    if not path.is_file():
        return set()
    data, _ = read_yaml_file(path, shown_path(path))
    return {str(k) for k in data if k != "sops"} if isinstance(data, dict) else set()


def set_command(name: str, config_shown: str) -> str:
    """The command that stores a value: it finds the age key itself, where plain `sops` needs SOPS_AGE_KEY_FILE."""
    config = "" if config_shown == "cluster.yaml" else f" --config {config_shown}"
    return f"clusterforge secrets set {name}{config}"


def check_secrets(loaded: LoadedSettings, values: dict[str, str], secrets_shown: str) -> list[Problem]:
    """A problem at the setting that needs it for every secret that is missing or empty."""
    problems = []
    for need in needed_secrets(loaded.settings):
        value = values.get(need.name)
        if value is None:
            fix = (
                "run `clusterforge init` to generate it"
                if need.generate
                else f"add it with `{set_command(need.name, loaded.shown)}`"
            )
            problems.append(
                loaded.problem(
                    need.path, f"secret '{need.name}' ({need.purpose}) is missing from {secrets_shown}; {fix}"
                )
            )
        elif not value.strip():
            problems.append(loaded.problem(need.path, f"secret '{need.name}' in {secrets_shown} is empty"))
    return problems
