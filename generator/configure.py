"""`clusterforge configure`: settings in, a validated tree out, written only when all is well."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from generator import state
from generator.engines import engine_for
from generator.errors import CheckFailed, SettingsError
from generator.keys import find_age_key
from generator.outputs import PlainFile, SecretFile
from generator.plan import Action, Plan, apply_plan, make_plan
from generator.render import header
from generator.secrets.providers import SopsProvider
from generator.secrets.store import SecretsFile, check_secrets
from generator.settings.load import LoadedSettings, load_settings, shown_path
from generator.stack import build_stack
from generator.validate.kustomize import build_dirs, kustomize_dirs


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
    return override.absolute() if override is not None else loaded.resolve(loaded.settings.gitops.path)


@dataclass(frozen=True)
class Rendered:
    tree: dict[str, bytes]  # every generated file's bytes by output path
    secret_paths: set[str]  # which of them hold secrets
    inputs: list[Path]  # the files the tree was made from
    age_key: Path


def render_tree(loaded: LoadedSettings, output: Path) -> Rendered:
    settings = loaded.settings
    age_key = find_age_key(loaded)
    secrets_file = SecretsFile.for_settings(loaded, age_key.path)
    values = secrets_file.read()
    problems = check_secrets(loaded, values, secrets_file.shown)
    if problems:
        raise SettingsError(problems)
    stack = build_stack(settings, values)
    provider = SopsProvider(secrets_file.sops, output)
    files = engine_for(settings.gitops.engine).layout(stack, settings, provider)
    top = header(loaded.config_path.name)
    tree: dict[str, bytes] = {}
    secret_files: list[SecretFile] = []
    for file in files:
        if isinstance(file, PlainFile):
            tree[file.path] = (top + file.text).encode()
        else:
            secret_files.append(file)

    def existing(path: str) -> bytes | None:
        target = output / path
        return target.read_bytes() if target.is_file() else None

    tree.update(provider.materialize(secret_files, top, existing))
    inputs = [loaded.config_path, *loaded.source_files, secrets_file.path, secrets_file.sops.config]
    return Rendered(tree, {f.path for f in secret_files}, inputs, age_key.path)


def validate_tree(plan: Plan, shown_output: str) -> None:
    """Build, in a scratch copy of the new tree, every kustomization the plan touches."""
    touched = [c.path for c in plan.pending]
    tree = plan.new_tree()
    directories = [d for d in kustomize_dirs(tree) if any(p == d or p.startswith(f"{d}/") for p in touched)]
    if not directories:
        return
    scratch = Path(tempfile.mkdtemp(prefix="clusterforge-"))
    try:
        for path, data in tree.items():
            target = scratch / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        problems = [b.problem for b in build_dirs(scratch, directories, shown_output) if b.problem]
    finally:
        shutil.rmtree(scratch)  # the scratch copy only, never the output
    if problems:
        raise CheckFailed("the rendered tree does not build; nothing was written", [str(p) for p in problems])


def configure(config: Path, output: Path | None = None, mode: Mode = Mode.WRITE) -> ConfigureResult:
    loaded = load_settings(config)
    target = output_dir(loaded, output)
    shown = shown_path(target)
    rendered = render_tree(loaded, target)
    plan = make_plan(target, rendered.tree, rendered.secret_paths)
    result = ConfigureResult(plan, shown, applied=False, notes=[str(w) for w in loaded.warnings])
    expected = loaded.resolve(loaded.settings.gitops.path)
    if target != expected:
        result.notes.append(
            f"note: writing to {shown}, but Flux reads the tree from gitops.path '{loaded.settings.gitops.path}'"
        )
    if mode is Mode.CHECK:
        if plan.pending:
            details = [f"{c.action.value}: {shown}/{c.path}" for c in plan.pending]
            raise CheckFailed(f"{shown} is not what {loaded.shown} renders: {plan.summary()}", details)
    else:
        if plan.pending:
            validate_tree(plan, shown)
        if mode is Mode.WRITE and plan.pending:
            apply_plan(plan)
            result.applied = True
    if not plan.pending or result.applied:
        state.record(config, target, rendered.inputs, [rendered.age_key])
    return result


def describe(plan: Plan, shown: str) -> list[str]:
    verbs = {Action.CREATE: "create", Action.CHANGE: "change", Action.REMOVE: "remove"}
    return [f"{verbs[c.action]:>6}  {shown}/{c.path}" for c in plan.pending]
