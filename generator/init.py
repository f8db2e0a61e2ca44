"""`clusterforge init`: create what a new repository is missing, never overwrite anything."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import generator
from generator.atomicfile import write_file
from generator.errors import UsageError
from generator.repolock import repository_folder, repository_lock
from generator.schema import schema_text
from generator.secrets.agekey import AgeKey, create_age_key, read_age_key
from generator.secrets.sops import Sops
from generator.secrets.store import SecretsFile, needed_secrets, set_command
from generator.settings.load import LoadedSettings, load_settings, shown_path

DEMO_START = "# demo-only:"
DEMO_END = "# end demo-only"
INIT_LINE = "# init: "
GITIGNORE_LINES = ("age.key", ".clusterforge/")


@dataclass
class InitResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    age_key: str = ""
    missing: list[str] = field(default_factory=list)  # how to store each secret still missing (API keys)


def example_text(name: str = "cluster.example.yaml") -> str:
    """A shipped example: inside the wheel, or at the top of a checkout."""
    package = Path(generator.__file__).parent
    for candidate in (package / name, package.parent / name):
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise UsageError(f"{name} is missing from this installation of clusterforge")


def without_demo_lines(text: str) -> str:
    """The example as a new repository gets it: demo-only blocks (which point at the demo key
    and example files) are dropped, and their `# init: ` lines take their place."""
    out: list[str] = []
    in_demo = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith(DEMO_START):
            in_demo = True
        elif in_demo and stripped.startswith(DEMO_END):
            in_demo = False
        elif in_demo and stripped.startswith(INIT_LINE):
            out.append(line.replace(INIT_LINE, "", 1))
        elif not in_demo:
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


def create_text(path: Path, text: str, result: InitResult) -> None:
    created = write_file(path, text.encode(), create=True)  # whole or not at all; never over a file
    (result.created if created else result.kept).append(shown_path(path))


def write_generated(path: Path, text: str, result: InitResult) -> None:
    """Editor schemas are generated, not edited: kept current with this clusterforge."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        result.kept.append(shown_path(path))
        return
    existed = path.exists()
    write_file(path, text.encode())
    (result.updated if existed else result.created).append(shown_path(path))


def ensure_gitignore(directory: Path, result: InitResult) -> None:
    path = directory / ".gitignore"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = old.splitlines()
    missing = [entry for entry in GITIGNORE_LINES if entry not in lines]
    if not missing:
        result.kept.append(shown_path(path))
        return
    prefix = "" if not lines or old.endswith("\n") else "\n"
    added = prefix + "# clusterforge: the age key and local state never go to git\n" + "\n".join(missing) + "\n"
    write_file(path, (old + added).encode())
    (result.created if not lines else result.kept).append(shown_path(path))


def init(directory: Path, config_name: str = "cluster.yaml") -> InitResult:
    """Create what the repository in ``directory`` lacks, holding its lock (generator.repolock)."""
    from generator.clusters.layout import is_repository  # noqa: PLC0415 - the clusters package imports this one

    directory = directory.absolute()
    if is_repository(directory):
        raise UsageError(
            f"{shown_path(directory / 'clusters' / 'common.yaml')} makes this a repository of several clusters: "
            "add one with `clusterforge init --cluster NAME`"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with repository_lock(repository_folder(directory / config_name), "init"):
        return _init(directory, config_name)


def _init(directory: Path, config_name: str) -> InitResult:
    result = InitResult()
    config = directory / config_name
    create_text(config, without_demo_lines(example_text()), result)
    create_text(directory / "models.yaml", example_text("models.example.yaml"), result)
    for name, text in (("cluster.schema.json", schema_text()), ("models.schema.json", schema_text(models_file=True))):
        write_generated(directory / name, text, result)
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

    create_text(loaded.resolve(sops_settings.config), sops_config_text(key.recipient, sops_settings.file), result)
    ensure_gitignore(directory, result)

    init_secrets(loaded, key, result)
    return result


def init_secrets(loaded: LoadedSettings, key: AgeKey, result: InitResult) -> None:
    """Create the secrets file with every secret clusterforge can generate, or add the ones it lacks; list
    the commands that store the rest (API keys)."""
    sops_settings = loaded.settings.secrets.sops
    secrets_path = loaded.resolve(sops_settings.file)
    secrets_file = SecretsFile(secrets_path, Sops(loaded.resolve(sops_settings.config), key.path, loaded.base_dir))
    generatable = {need.name: need.generate for need in needed_secrets(loaded.settings) if need.generate is not None}
    if not secrets_file.exists():
        values = {name: make() for name, make in generatable.items()}
        secrets_file.create(values)
        result.created.append(secrets_file.shown)
        result.generated = list(values)
        present = set(values)
    else:
        present = {name for name, value in secrets_file.read().items() if value.strip()}
        for name, make in generatable.items():
            if name not in present:
                secrets_file.add(name, make())
                result.generated.append(name)
                present.add(name)
        result.kept.append(secrets_file.shown)
    config_shown = shown_path(loaded.config_path)
    needs = needed_secrets(loaded.settings)
    result.missing = [set_command(need.name, config_shown) for need in needs if need.name not in present]


def sops_age_command(age_key: str) -> str:
    return f"kubectl create secret generic sops-age --namespace flux-system --from-file=age.agekey={age_key}"
