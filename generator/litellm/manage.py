"""`clusterforge models`: list, show, add and remove models in the file that holds them.

Every edit is checked as a whole before it is written: the settings with the edit must load
(every rule of configure applies), else the file stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.atomicfile import write_file
from generator.errors import KeyPath, Problem, Refused, SettingsError, UsageError
from generator.litellm.config import model_entry
from generator.litellm.deployments import model_ids
from generator.litellm.models_file import ModelsDocument
from generator.litellm.providers import credential_refs
from generator.render import to_yaml
from generator.repolock import repository_folder, repository_lock
from generator.secrets.store import secret_names
from generator.settings.diagnostics import suggest
from generator.settings.load import LoadedSettings, load_settings, shown_path
from generator.yamlsource import read_yaml_file


@dataclass(frozen=True)
class ModelRow:
    name: str
    target: str  # provider/model
    credential: str
    limits: str
    mode: str


def models_file(loaded: LoadedSettings) -> Path:
    """models.yaml when cluster.yaml names one, else cluster.yaml itself (an inline list)."""
    return loaded.models_file or loaded.config_path


def list_models(config: Path) -> list[ModelRow]:
    loaded = load_settings(config)
    rows = []
    for model in loaded.settings.models:
        limits = ", ".join(f"{k} {v}" for k, v in (("rpm", model.rpm), ("tpm", model.tpm)) if v is not None)
        rows.append(
            ModelRow(
                model.name,
                f"{model.provider}/{model.model}",
                model.credential or "-",
                limits or "-",
                model.mode or "chat",
            )
        )
    return rows


def table(rows: list[ModelRow]) -> str:
    header = ModelRow("NAME", "PROVIDER/MODEL", "CREDENTIAL", "LIMITS", "MODE")
    cells = [[r.name, r.target, r.credential, r.limits, r.mode] for r in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(5)]
    return "".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n" for row in cells)


def _indexes(loaded: LoadedSettings, name: str, model_id: str | None) -> list[int]:
    ids = model_ids(loaded.settings)
    found = [
        i
        for i, (m, mid) in enumerate(zip(loaded.settings.models, ids, strict=True))
        if m.name == name and (model_id is None or mid == model_id)
    ]
    if not found:
        names = sorted({m.name for m in loaded.settings.models})
        what = f"'{name}'" + (f" with id '{model_id}'" if model_id else "")
        raise UsageError(f"no model {what}{suggest(name, names)}")
    return found


def show_model(config: Path, name: str) -> str:
    """The model's settings entries and what LiteLLM gets for each."""
    loaded = load_settings(config)
    ids = model_ids(loaded.settings)
    parts = []
    for index in _indexes(loaded, name, None):
        model = loaded.settings.models[index]
        file, pos = loaded.sources.locate(("models", index), at_key=True)
        settings_view = model.model_dump(exclude_defaults=True, by_alias=True)
        parts.append(
            f"# {file}:{pos.line if pos else '?'}: models[{index}]\n{to_yaml(settings_view)}\n"
            f"# rendered into config.yaml model_list\n{to_yaml([model_entry(loaded.settings, model, ids[index])])}\n"
        )
    return "\n".join(parts)


def _save(config: Path, document: ModelsDocument) -> LoadedSettings:
    """Write the edited file only if the settings with the edit are valid; the settings with it."""
    new_text = document.dump()
    loaded = load_settings(config, {document.path.absolute(): new_text})
    write_file(document.path, new_text.encode())
    return loaded


def missing_secrets(loaded: LoadedSettings, entry: Mapping[str, Any]) -> list[str]:
    """Secrets a new model reads that the secrets file lacks (its key names are readable unencrypted)."""
    credential = entry.get("credential")
    if not isinstance(credential, str) or any(c.name == credential for c in loaded.settings.credentials):
        return []
    try:
        names = secret_names(loaded.resolve(loaded.settings.secrets.sops.file))
    except SettingsError:
        return []  # only a hint: a broken secrets file is reported by the command that reads it
    return [ref.secret for ref in credential_refs(str(entry["provider"]), credential) if ref.secret not in names]


@dataclass(frozen=True)
class Edit:
    file: str
    message: str
    hints: tuple[str, ...] = ()


def _list_file(config: Path) -> Path:
    """The file holding the models list, read without validating the settings (the edit is validated)."""
    data, _ = read_yaml_file(config, shown_path(config.absolute()))
    reference = data.get("models") if isinstance(data, dict) else None
    return (config.parent / reference).absolute() if isinstance(reference, str) else config.absolute()


def add_model(config: Path, entry: Mapping[str, Any]) -> Edit:
    with repository_lock(repository_folder(config), f"models add {entry.get('name', '')}".strip()):
        return _add_model(config, entry)


def _add_model(config: Path, entry: Mapping[str, Any]) -> Edit:
    document = ModelsDocument.read(_list_file(config))
    document.append(entry)
    loaded = _save(config, document)
    hints = tuple(
        f"add the secret '{name}' to {shown_path(loaded.resolve(loaded.settings.secrets.sops.file))} before configure"
        for name in missing_secrets(loaded, entry)
    )
    return Edit(shown_path(document.path), f"added model '{entry['name']}'", hints)


def _references(loaded: LoadedSettings, name: str) -> list[Problem]:
    router = loaded.settings.litellm.router_settings
    base: KeyPath = ("litellm", "router_settings")
    places: list[Problem] = []
    for field in ("fallbacks", "context_window_fallbacks"):
        for group, targets in getattr(router, field).items():
            if group == name:
                places.append(loaded.problem((*base, field, group), f"the {field} of '{name}'", at_key=True))
            for index, target in enumerate(targets):
                if target == name:
                    places.append(loaded.problem((*base, field, group, index), f"'{group}' falls back to '{name}'"))
    for alias, target in router.model_group_alias.items():
        if (target if isinstance(target, str) else target.model) == name:
            places.append(loaded.problem((*base, "model_group_alias", alias), f"alias '{alias}' names '{name}'"))
    return places


def remove_model(config: Path, name: str, model_id: str | None = None) -> Edit:
    with repository_lock(repository_folder(config), f"models remove {name}"):
        return _remove_model(config, name, model_id)


def _remove_model(config: Path, name: str, model_id: str | None) -> Edit:
    loaded = load_settings(config)
    indexes = _indexes(loaded, name, model_id)
    remaining = [m for i, m in enumerate(loaded.settings.models) if m.name == name and i not in indexes]
    if not remaining:
        places = _references(loaded, name)
        if places:
            raise Refused(
                f"model '{name}' is still named in the places above; change them first", [str(p) for p in places]
            )
    document = ModelsDocument.read(models_file(loaded))
    for index in sorted(indexes, reverse=True):
        document.remove(index)
    _save(config, document)
    count = f"{len(indexes)} deployments of" if len(indexes) > 1 else "model"
    return Edit(shown_path(document.path), f"removed {count} '{name}'")
