"""`clusterforge configure`: settings in, a validated tree out, written only when all is well."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from generator import state
from generator.apps import build_stack
from generator.apps.names import LITELLM_SECRET
from generator.engines import engine_for
from generator.errors import CheckFailed, Refused, SettingsError
from generator.litellm.config import SALT_KEY_ENV
from generator.outputs import PlainFile, SecretFile
from generator.owned import sweep
from generator.plan import Action, Plan, apply_plan, make_plan
from generator.render import header
from generator.repolock import repository_folder, repository_lock
from generator.secrets.agekey import find_age_key, identity_bytes
from generator.secrets.providers import SecretProvider
from generator.secrets.providers.external import ExternalProvider
from generator.secrets.providers.sealed import SealedProvider
from generator.secrets.providers.sops import SopsProvider
from generator.secrets.record import SealedRecord
from generator.secrets.sealing import Certificate, Sealer
from generator.secrets.store import SecretsFile, check_secrets
from generator.settings.load import LoadedSettings, load_settings, shown_path
from generator.transaction import recover
from generator.transaction.commit import commit
from generator.userapps.checks import check_apps
from generator.userapps.discover import HandWritten
from generator.validate.model import Severity
from generator.validate.rendered import check_tree, unchecked_note


class Mode(StrEnum):
    WRITE = "write"
    DRY_RUN = "dry-run"
    CHECK = "check"


@dataclass
class ConfigureResult:
    plan: Plan
    output_shown: str
    applied: bool
    notes: list[str] = field(default_factory=list)


def output_dir(loaded: LoadedSettings, override: Path | None) -> Path:
    return override.absolute() if override is not None else loaded.output()


@dataclass
class Rendered:
    tree: dict[str, bytes]  # every generated file's bytes by output path
    secret_paths: set[str]  # which of them hold secrets
    inputs: list[Path]  # the files the tree was made from
    secret_inputs: list[Path]  # inputs only ever hashed with a domain prefix (the age key)
    provider: SecretProvider
    salt_key_rotated: bool | None  # None: nothing rendered before, or not knowable


def secret_provider(loaded: LoadedSettings, output: Path) -> tuple[SecretProvider, list[Path], list[Path]]:
    """The provider the settings name, with the values it needs; and the files it read."""
    settings = loaded.settings
    if settings.secrets.provider == "external-secrets":
        assert settings.secrets.external is not None  # noqa: S101 - a settings rule guarantees it
        return ExternalProvider(settings.secrets.external), [], []
    age_key = find_age_key(loaded)
    secrets_file = SecretsFile.for_settings(loaded, age_key.path)
    values = secrets_file.read()
    problems = check_secrets(loaded, values, secrets_file.shown)
    if problems:
        raise SettingsError(problems)
    inputs = [secrets_file.path, secrets_file.sops.config]
    if settings.secrets.provider == "sealed-secrets":
        sealed = settings.secrets.sealed
        assert sealed is not None  # noqa: S101 - a settings rule guarantees it
        cert_path = loaded.resolve(sealed.cert)
        record = SealedRecord.load(
            state.state_path(loaded.config_path).with_name(f"{loaded.config_path.name}.sealed.json"),
            identity_bytes(age_key.path),
        )
        sealer = Sealer(Certificate(cert_path, shown_path(cert_path)), sealed.scope)
        return SealedProvider(sealer, record, values), [*inputs, cert_path, record.path], [age_key.path]
    return SopsProvider(secrets_file.sops, output, values), inputs, [age_key.path]


def render_tree(loaded: LoadedSettings, output: Path, handwritten: HandWritten | None = None) -> Rendered:
    settings = loaded.settings
    provider, inputs, secret_inputs = secret_provider(loaded, output)
    stack = replace(build_stack(settings, loaded.config_path.name), handwritten=handwritten or HandWritten())
    files = engine_for(settings.gitops.engine).layout(stack, settings, provider)
    top = header(loaded.config_path.name)
    tree: dict[str, bytes] = {}
    secret_files: list[SecretFile] = []
    for file in files:
        if isinstance(file, PlainFile):
            tree[file.path] = ((top if file.header else "") + file.text).encode()
        else:
            secret_files.append(file)

    def existing(path: str) -> bytes | None:
        target = output / path
        return target.read_bytes() if target.is_file() else None

    tree.update(provider.materialize(secret_files, top, existing))
    litellm = next(f for f in secret_files if f.spec.name == LITELLM_SECRET)
    rotated = provider.rotated(litellm, SALT_KEY_ENV, existing(litellm.path))
    return Rendered(
        tree,
        {f.path for f in secret_files},
        [loaded.config_path, *loaded.source_files, *inputs],
        secret_inputs,
        provider,
        rotated,
    )


KSOPS_NOTE = (
    "note: ArgoCD decrypts the *.sops.yaml Secrets with KSOPS: its repo-server needs the ksops plugin, "
    "kustomize.buildOptions '--enable-alpha-plugins --enable-exec' and the age key (README: ArgoCD)"
)

SALT_KEY_REFUSAL = (
    "the LiteLLM salt key would change. LiteLLM encrypts the provider credentials it stores in its database "
    "(models and keys added through the UI or API) with it; with a new salt key they can no longer be "
    "decrypted. Put the previous value of litellm_salt_key back in the secrets file, or, if the database "
    "holds nothing worth keeping, run configure again with --allow-salt-key-rotation"
)


def validate_tree(
    plan: Plan,
    shown_output: str,
    kubernetes_version: str,
    own_files: Mapping[str, bytes] | None = None,
    repository: str | None = None,
) -> list[str]:
    """Validate the new tree in a scratch copy before anything is written: kustomize builds, schemas and
    references between objects (generator.validate), with the user's own folders the tree takes in
    (``own_files``). Returns the warnings, among them one naming the kinds whose schema cannot be had
    (no CLUSTERFORGE_SCHEMA_LOCATION, offline); any error refuses the tree."""
    report = check_tree({**(own_files or {}), **plan.new_tree()}, shown_output, kubernetes_version, repository)
    note = unchecked_note(report)
    warnings = [str(f) for f in report.sorted_findings() if f.severity is Severity.WARNING]
    errors = [str(f) for f in report.sorted_findings() if f.severity is Severity.ERROR]
    if errors:
        raise CheckFailed(f"the rendered tree does not validate ({len(errors)} error(s)); nothing was written", errors)
    return [*warnings, *([note] if note else [])]


def lock_command(mode: Mode) -> str:
    """What other runs are told this one is doing while it holds the repository lock."""
    return "configure" if mode is Mode.WRITE else f"configure --{mode.value}"


def configure(
    config: Path, output: Path | None = None, mode: Mode = Mode.WRITE, *, allow_salt_key_rotation: bool = False
) -> ConfigureResult:
    """Render, plan, validate and (in WRITE mode) commit, holding the repository lock throughout, so the
    plan is made against what the previous run left and no other run writes in between."""
    with repository_lock(repository_folder(config), lock_command(mode), read_only=mode is not Mode.WRITE):
        return _configure(config, output, mode, allow_salt_key_rotation)


def _configure(config: Path, output: Path | None, mode: Mode, allow_salt_key_rotation: bool) -> ConfigureResult:
    prepared = prepare(config, output, mode, allow_salt_key_rotation)
    if mode is Mode.WRITE and prepared.result.plan.pending:
        apply_plan(prepared.result.plan, prepared.records)
        prepared.result.applied = True
    elif mode is Mode.WRITE:
        commit(prepared.target, {}, (), prepared.records)
    elif prepared.records:
        with suppress(OSError):  # --check or --dry-run in a read-only checkout: only the fast path is lost
            commit(prepared.target, {}, (), prepared.records)
    return prepared.result


@dataclass
class Prepared:
    """A rendered, planned and validated tree, and the records to commit with it; nothing written yet."""

    result: ConfigureResult
    target: Path
    records: dict[Path, bytes]  # local records (no-op state, sealed record) by absolute path


def prepare(config: Path, output: Path | None, mode: Mode, allow_salt_key_rotation: bool) -> Prepared:
    """Everything configure does before it commits, for one settings file (the caller holds the lock)."""
    loaded = load_settings(config)
    target = output_dir(loaded, output)
    recover(target)  # an interrupted commit is finished or undone before the output is read
    sweep(state.state_path(config).parent)  # records staged by runs that died before their commit point
    shown = shown_path(target)
    handwritten, app_warnings = check_apps(loaded, target, shown)
    rendered = render_tree(loaded, target, handwritten)
    if rendered.salt_key_rotated and not allow_salt_key_rotation:
        raise Refused(f"{loaded.shown}: {SALT_KEY_REFUSAL}" if loaded.layers else SALT_KEY_REFUSAL)
    plan = make_plan(target, rendered.tree, rendered.secret_paths)
    result = ConfigureResult(plan, shown, applied=False, notes=[str(w) for w in [*loaded.warnings, *app_warnings]])
    result.notes += handwritten.notes
    result.notes += rendered.provider.notes()
    if loaded.settings.gitops.engine == "argocd" and rendered.provider.name == "sops":
        result.notes.append(KSOPS_NOTE)
    expected = loaded.output()
    if target != expected:
        engine = {"flux": "Flux", "argocd": "ArgoCD"}[loaded.settings.gitops.engine]
        result.notes.append(
            f"note: writing to {shown}, but {engine} reads the tree from gitops.path '{loaded.settings.gitops.path}'"
        )
    if mode is Mode.CHECK:
        if plan.pending:
            details = [f"{c.action.value}: {shown}/{c.path}" for c in plan.pending]
            raise CheckFailed(f"{shown} is not what {loaded.shown} renders: {plan.summary()}", details)
    elif plan.pending:
        settings = loaded.settings
        own = handwritten.read(target)
        version = settings.cluster.kubernetes_version
        result.notes += validate_tree(plan, shown, version, own, settings.gitops.repository)
    writing = mode is Mode.WRITE
    records = rendered.provider.records() if writing else {}
    if writing or not plan.pending:
        new_tree = plan.new_tree()
        record = state.record_bytes(config, target, rendered.inputs, rendered.secret_inputs, new_tree, records)
        if record is not None:
            records[state.state_path(config)] = record
    return Prepared(result, target, records)


def describe(plan: Plan, shown: str) -> list[str]:
    verbs = {Action.CREATE: "create", Action.CHANGE: "change", Action.REMOVE: "remove"}
    return [f"{verbs[c.action]:>6}  {shown}/{c.path}" for c in plan.pending]
