"""`clusterforge init`: create what a new repository is missing, never overwrite anything."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import generator
from generator.errors import UsageError
from generator.secrets.agekey import create_age_key, read_age_key
from generator.secrets.sops import Sops
from generator.secrets.store import SecretsFile, needed_secrets
from generator.settings import load_settings
from generator.settings.load import shown_path

DEMO_START = "# demo-only:"
DEMO_END = "# end demo-only"
GITIGNORE_LINES = ("age.key", ".clusterforge/")


@dataclass
class InitResult:
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    age_key: str = ""


def example_text() -> str:
    """cluster.example.yaml: shipped in the wheel, or at the top of a checkout."""
    package = Path(generator.__file__).parent
    for candidate in (package / "cluster.example.yaml", package.parent / "cluster.example.yaml"):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise UsageError("cluster.example.yaml is missing from this installation of clusterforge")


def without_demo_lines(text: str) -> str:
    """The example minus its demo-only block, which points at the committed demo key."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(DEMO_START):
            skipping = True
            continue
        if skipping and stripped.startswith(DEMO_END):
            skipping = False
            continue
        if not skipping:
            out.append(line)
    return "".join(out)


def sops_config_text(recipient: str, secrets_file: str) -> str:
    pattern = "(^|/)" + re.escape(Path(secrets_file).name) + "$"
    return (
        "# sops creation rules, written by clusterforge init\n"
        "creation_rules:\n"
        "  # the secrets file: every value is encrypted\n"
        f"  - path_regex: {pattern}\n"
        f"    age: {recipient}\n"
        "  # rendered Kubernetes Secrets: only data and stringData are encrypted, metadata stays readable\n"
        "  - path_regex: \\.sops\\.ya?ml$\n"
        "    encrypted_regex: ^(data|stringData)$\n"
        "    mac_only_encrypted: true\n"
        f"    age: {recipient}\n"
        "stores:\n"
        "  yaml:\n"
        "    indent: 2\n"
    )


def _create_text(path: Path, text: str, result: InitResult) -> None:
    if path.exists():
        result.kept.append(shown_path(path))
        return
    path.write_text(text, encoding="utf-8")
    result.created.append(shown_path(path))


def _gitignore(directory: Path, result: InitResult) -> None:
    path = directory / ".gitignore"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    missing = [entry for entry in GITIGNORE_LINES if entry not in lines]
    if not missing:
        result.kept.append(shown_path(path))
        return
    prefix = "" if not lines or path.read_text(encoding="utf-8").endswith("\n") else "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(
            prefix + "# clusterforge: the age key and local state never go to git\n" + "\n".join(missing) + "\n"
        )
    (result.created if not lines else result.kept).append(shown_path(path))


def init(directory: Path, config_name: str = "cluster.yaml") -> InitResult:
    directory = directory.absolute()
    result = InitResult()
    config = directory / config_name
    _create_text(config, without_demo_lines(example_text()), result)
    loaded = load_settings(config)
    sops_settings = loaded.settings.secrets.sops

    key_path = loaded.resolve(sops_settings.age_key_file)
    if key_path.exists():
        key = read_age_key(key_path, shown_path(key_path))
        result.kept.append(shown_path(key_path))
    else:
        key = create_age_key(key_path)
        result.created.append(shown_path(key_path))
    result.age_key = shown_path(key_path)

    _create_text(loaded.resolve(sops_settings.config), sops_config_text(key.recipient, sops_settings.file), result)
    _gitignore(directory, result)

    secrets_path = loaded.resolve(sops_settings.file)
    secrets_file = SecretsFile(secrets_path, Sops(loaded.resolve(sops_settings.config), key.path, loaded.base_dir))
    generatable = {need.name: need.generate for need in needed_secrets(loaded.settings) if need.generate is not None}
    if not secrets_file.exists():
        values = {name: make() for name, make in generatable.items()}
        secrets_file.create(values)
        result.created.append(secrets_file.shown)
        result.generated = list(values)
    else:
        present = secrets_file.read()
        for name, make in generatable.items():
            if name not in present:
                secrets_file.add(name, make())
                result.generated.append(name)
        result.kept.append(secrets_file.shown)
    return result


def sops_age_command(age_key: str) -> str:
    return f"kubectl create secret generic sops-age --namespace flux-system --from-file=age.agekey={age_key}"
