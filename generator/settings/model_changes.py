"""`model_changes:` a cluster's own changes to the models it shares with others.

    model_changes:
      remove: [gpt-4o-mini]                 # every entry of that name
      override:
        claude-sonnet: {rpm: 100}           # fields set on every entry of that name
      add:
        - {name: llama, provider: ollama, model: llama3.1, api_base: http://ollama:11434}

Applied to the data before it is typed: the result is checked as if the models were written that way, and
a value that came from model_changes is reported at its place in the file that wrote it.
"""

from __future__ import annotations

from typing import Any

from generator.errors import KeyPath, Problem, SettingsError, dotted
from generator.settings.diagnostics import suggest
from generator.yamlsource import SourceMap, Sources

KEY = "model_changes"
PARTS = ("remove", "override", "add")


def apply_model_changes(data: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """``data`` with ``model_changes`` applied to ``models`` and taken out; positions mounted accordingly."""
    if KEY not in data:
        return data
    changes = data[KEY]
    rest = {k: v for k, v in data.items() if k != KEY}
    if changes is None:
        return rest
    problems: list[Problem] = []

    def problem(path: KeyPath, message: str, at_key: bool = False) -> None:
        file, pos = sources.locate(path, at_key=at_key)
        problems.append(Problem(file, pos.line if pos else None, pos.col if pos else None, dotted(path), message))

    if not isinstance(changes, dict):
        problem((KEY,), "a mapping with remove, override and add")
        raise SettingsError(problems)
    for key in changes:
        if key not in PARTS:
            hint = suggest(str(key), PARTS) or f"; allowed: {', '.join(PARTS)}"
            problem((KEY, key), f"unknown key{hint}", at_key=True)
    models = data.get("models")
    if not isinstance(models, list):
        problem((KEY,), "there are no models to change: `models:` names a models file or lists the models")
        raise SettingsError(problems)
    names = [m.get("name") for m in models if isinstance(m, dict)]
    known = sorted({n for n in names if isinstance(n, str)})
    removed = _names(changes.get("remove"), (KEY, "remove"), known, problem)
    overrides = _overrides(changes.get("override"), (KEY, "override"), known, removed, problem)
    added = changes.get("add", [])
    if not isinstance(added, list):
        problem((KEY, "add"), "a list of models, written as in models.yaml")
    if problems:
        raise SettingsError(problems)
    result: list[Any] = []
    mounts: dict[KeyPath, SourceMap] = {}
    for index, entry in enumerate(models):
        name = entry.get("name") if isinstance(entry, dict) else None
        if name in removed:
            continue
        at = ("models", len(result))
        mounts[at] = sources.view(("models", index))
        if isinstance(entry, dict) and name in overrides:
            fields = overrides[name]
            for field in fields:
                mounts[(*at, field)] = sources.view((KEY, "override", name, field))
                sources.renamed[(*at, field)] = (KEY, "override", name, field)
            result.append({**entry, **fields})
        else:
            result.append(entry)
    for index, entry in enumerate(added):
        mounts[("models", len(result))] = sources.view((KEY, "add", index))
        sources.renamed[("models", len(result))] = (KEY, "add", index)
        result.append(entry)
    for path in [p for p in sources.mounts if p[:1] == ("models",) and len(p) > 1]:
        del sources.mounts[path]  # positions of the entries as they were numbered before
    sources.mounts.update(mounts)
    return {**rest, "models": result}


def _names(value: Any, path: KeyPath, known: list[str], problem: Any) -> set[str]:
    if value is None:
        return set()
    if not isinstance(value, list):
        problem(path, "a list of model names")
        return set()
    found = set()
    for index, name in enumerate(value):
        if not isinstance(name, str) or name not in known:
            hint = suggest(str(name), known) or ""
            problem((*path, index), f"no model is named '{name}'{hint}")
            continue
        found.add(name)
    return found


def _overrides(
    value: Any, path: KeyPath, known: list[str], removed: set[str], problem: Any
) -> dict[str, dict[str, Any]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem(path, "a mapping of model names to the fields to set on them")
        return {}
    found = {}
    for name, fields in value.items():
        if name not in known:
            hint = suggest(str(name), known) or ""
            problem((*path, name), f"no model is named '{name}'{hint}", True)
        elif name in removed:
            problem((*path, name), f"'{name}' is also removed", True)
        elif not isinstance(fields, dict):
            problem((*path, name), "a mapping of the fields to set, e.g. {rpm: 100}")
        elif "name" in fields:
            problem((*path, name, "name"), "a model's name is not overridden: remove it and add another", True)
        else:
            found[name] = fields
    return found
