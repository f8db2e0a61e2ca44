"""`clusterforge secrets`: the values in the secrets file, by name; never on a command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from generator.errors import CheckFailed, Refused, UsageError, dotted
from generator.repolock import repository_folder, repository_lock
from generator.secrets.agekey import find_age_key
from generator.secrets.store import GENERATORS, SECRET_NAME, SecretNeed, SecretsFile, needed_secrets, secret_names
from generator.settings.load import LoadedSettings, load_settings, shown_path

SALT_KEY = "litellm_salt_key"


@dataclass(frozen=True)
class SecretRow:
    name: str
    purpose: str
    used_by: tuple[str, ...]
    state: str  # present | missing | unused | in the store at <key>


def _file(loaded: LoadedSettings) -> SecretsFile:
    return SecretsFile.for_settings(loaded, find_age_key(loaded).path)


def _external(loaded: LoadedSettings) -> bool:
    return loaded.settings.secrets.provider == "external-secrets"


def _remote_key(loaded: LoadedSettings, name: str) -> str:
    external = loaded.settings.secrets.external
    assert external is not None  # noqa: S101 - a settings rule guarantees it
    return external.remote_key.replace("{name}", name)


def _places(loaded: LoadedSettings, need: SecretNeed) -> tuple[str, ...]:
    out = []
    for path in (need.path, *need.also):
        if not loaded.sources.written(path):
            out.append(f"{dotted(path)} (default)")  # no line to show: the setting is not in the file
            continue
        file, pos = loaded.sources.locate(path, at_key=True)
        out.append(f"{file}:{pos.line if pos else '?'} {dotted(path)}")
    return tuple(out)


def list_secrets(config: Path) -> list[SecretRow]:
    loaded = load_settings(config)
    needs = needed_secrets(loaded.settings)
    if _external(loaded):
        return [
            SecretRow(n.name, n.purpose, _places(loaded, n), f"in the store at {_remote_key(loaded, n.name)}")
            for n in needs
        ]
    names = secret_names(loaded.resolve(loaded.settings.secrets.sops.file))
    rows = [
        SecretRow(n.name, n.purpose, _places(loaded, n), "present" if n.name in names else "missing") for n in needs
    ]
    needed = {n.name for n in needs}
    rows += [SecretRow(name, "", (), "unused") for name in sorted(names - needed)]
    return rows


def rows_table(rows: list[SecretRow]) -> str:
    cells = [["NAME", "STATE", "USED BY"]] + [[r.name, r.state, ", ".join(r.used_by) or "-"] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    return "".join("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip() + "\n" for c in cells)


def _check_name(name: str) -> None:
    if not SECRET_NAME.match(name):
        raise UsageError(f"'{name}' is not a secret name: lowercase letters, digits and '_', starting with a letter")


def _refuse_external(loaded: LoadedSettings, name: str) -> None:
    if _external(loaded):
        external = loaded.settings.secrets.external
        assert external is not None  # noqa: S101
        raise Refused(
            f"with external-secrets the values live in the store: set '{name}' at "
            f"{external.vault.path}/{_remote_key(loaded, name)} (property '{external.property}'), e.g. with "
            f"`vault kv put {external.vault.path}/{_remote_key(loaded, name)} {external.property}=-`"
        )


def get_secret(config: Path, name: str) -> str:
    loaded = load_settings(config)
    _check_name(name)
    _refuse_external(loaded, name)
    secrets_file = _file(loaded)
    values = secrets_file.read()
    if name not in values:
        raise UsageError(f"{secrets_file.shown}: has no secret '{name}'")
    return values[name]


def _guard_salt(secrets_file: SecretsFile, name: str, value: str | None, allow_rotation: bool) -> None:
    if name != SALT_KEY or allow_rotation or name not in secrets_file.names():
        return
    if value is not None and secrets_file.read().get(name) == value:
        return
    raise Refused(
        f"{secrets_file.shown}: litellm_salt_key is set already. LiteLLM encrypts the credentials it stores in its "
        "database with it; a new one makes them unreadable. Pass --allow-salt-key-rotation only if the database "
        "holds nothing worth keeping"
    )


def set_secret(config: Path, name: str, value: str, *, allow_salt_key_rotation: bool = False) -> str:
    """Store ``value`` under ``name``; returns what happened, for the user."""
    with repository_lock(repository_folder(config), f"secrets set {name}"):
        return _set_secret(config, name, value, allow_salt_key_rotation)


def set_shared_secret(
    configs: list[Path], name: str, value: str, *, allow_salt_key_rotation: bool = False
) -> list[str]:
    """Store one value in the secrets file of each of several clusters, each encrypted to that cluster's own
    key. Every file is checked before any is written: a refusal for one cluster changes none."""
    with repository_lock(repository_folder(configs[0]), f"secrets set {name}"):
        files = [_checked_file(config, name, value, allow_salt_key_rotation) for config in configs]
        return [_store(secrets_file, name, value) for secrets_file in files]


def _set_secret(config: Path, name: str, value: str, allow_salt_key_rotation: bool) -> str:
    return _store(_checked_file(config, name, value, allow_salt_key_rotation), name, value)


def _checked_file(config: Path, name: str, value: str, allow_salt_key_rotation: bool) -> SecretsFile:
    """The secrets file ``name`` goes into, once everything that would refuse it has been asked."""
    loaded = load_settings(config)
    _check_name(name)
    _refuse_external(loaded, name)
    if not value:
        raise UsageError(f"refusing to store an empty value for '{name}'")
    secrets_file = _file(loaded)
    if secrets_file.exists():
        _guard_salt(secrets_file, name, value, allow_salt_key_rotation)
    return secrets_file


def _store(secrets_file: SecretsFile, name: str, value: str) -> str:
    if not secrets_file.exists():
        secrets_file.create({name: value})
        return f"{secrets_file.shown}: created with '{name}'"
    existed = name in secrets_file.names()
    secrets_file.add(name, value)
    return f"{secrets_file.shown}: {'updated' if existed else 'added'} '{name}'"


def generate_secret(config: Path, name: str, *, force: bool = False, allow_salt_key_rotation: bool = False) -> str:
    make = GENERATORS.get(name)
    if make is None:
        raise UsageError(f"clusterforge cannot make '{name}'; it generates: {', '.join(GENERATORS)}")
    with repository_lock(repository_folder(config), f"secrets generate {name}"):
        return _generate_secret(config, name, make(), force, allow_salt_key_rotation)


def _generate_secret(config: Path, name: str, value: str, force: bool, allow_salt_key_rotation: bool) -> str:
    loaded = load_settings(config)
    _refuse_external(loaded, name)
    secrets_file = _file(loaded)
    if secrets_file.exists() and name in secrets_file.names():
        if name == SALT_KEY:
            _guard_salt(secrets_file, name, None, allow_salt_key_rotation)
        elif not force:
            raise Refused(f"{secrets_file.shown}: '{name}' exists; pass --force to replace it")
    return _set_secret(config, name, value, allow_salt_key_rotation)


def verify_secrets(config: Path) -> str:
    """Every secret the settings need is there and not empty; CheckFailed with the list otherwise."""
    loaded = load_settings(config)
    needs = needed_secrets(loaded.settings)
    if _external(loaded):
        keys = ", ".join(_remote_key(loaded, n.name) for n in needs)
        return f"external-secrets: the values live in the store ({keys}); clusterforge cannot read them from here"
    secrets_file = _file(loaded)
    values = secrets_file.read() if secrets_file.exists() else {}
    missing = []
    for need in needs:
        value = values.get(need.name)
        if value is None or not value.strip():
            state = "missing" if value is None else "empty"
            places = ", ".join(_places(loaded, need))
            missing.append(f"{need.name}: {state} ({need.purpose}; used by {places})")
    if missing:
        raise CheckFailed(f"{len(missing)} of {len(needs)} secrets missing or empty in {secrets_file.shown}", missing)
    return f"all {len(needs)} secrets the settings need are in {shown_path(secrets_file.path)}"
