"""Load cluster.yaml (and the models.yaml it points to) into typed, checked settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.errors import Problem, SettingsError
from generator.settings import rules
from generator.settings.diagnostics import problems_from_validation
from generator.settings.models import Settings
from generator.yamlsource import KeyPath, SourceMap, Sources, dotted, read_yaml_file


def shown_path(path: Path) -> str:
    """A path as a person would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if path.is_absolute() and Path.cwd() in path.parents else str(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    config_path: Path
    sources: Sources

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    @property
    def shown(self) -> str:
        return self.sources.root.file

    def resolve(self, relative: str) -> Path:
        """A path from the settings, which are relative to cluster.yaml's folder."""
        return (self.base_dir / relative).resolve() if not Path(relative).is_absolute() else Path(relative)

    @property
    def source_files(self) -> list[Path]:
        """Files besides cluster.yaml the settings were read from (models.yaml)."""
        return [Path(m.file).absolute() for m in self.sources.mounts.values()]

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> Problem:
        file, pos = self.sources.locate(path, at_key=at_key)
        return Problem(file, pos.line if pos else None, pos.col if pos else None, dotted(path), message)


def load_settings(config_path: Path) -> LoadedSettings:
    """Typed settings, or a SettingsError listing every problem with its file, line and column."""
    shown = shown_path(config_path)
    data, source_map = read_yaml_file(config_path, shown)
    sources = Sources(source_map)
    if not isinstance(data, dict):
        raise SettingsError([Problem(shown, 1, 1, "", "the settings must be a YAML mapping of keys to values")])
    data = _inline_models_file(data, config_path.parent, sources)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(problems_from_validation(exc, data, sources, Settings)) from None
    loaded = LoadedSettings(settings, config_path.absolute(), sources)
    found = rules.check(settings)
    if found:
        raise SettingsError(loaded.problem(p.path, p.message, at_key=p.at_key) for p in found)
    return loaded


def _inline_models_file(data: dict[str, Any], base_dir: Path, sources: Sources) -> dict[str, Any]:
    """Replace ``models: models.yaml`` by that file's list, keeping its positions for errors."""
    reference = data.get("models")
    if not isinstance(reference, str):
        return data
    target = base_dir / reference
    file, pos = sources.locate(("models",), at_key=False)
    if not target.is_file():
        raise SettingsError(
            [
                Problem(
                    file,
                    pos.line if pos else None,
                    pos.col if pos else None,
                    "models",
                    f"file '{reference}' not found",
                )
            ]
        )
    models_data, models_map = read_yaml_file(target, shown_path(target.absolute()))
    if not isinstance(models_data, dict) or "models" not in models_data:
        raise SettingsError([Problem(models_map.file, 1, 1, "", "a models file is a mapping with a `models:` list")])
    unknown = sorted(set(models_data) - {"models"})
    if unknown:
        problems = []
        for key in unknown:
            line_col = models_map.keys[(key,)]
            problems.append(Problem(models_map.file, line_col.line, line_col.col, key, "unknown key; allowed: models"))
        raise SettingsError(problems)
    sources.mounts[("models",)] = _rebase(models_map, ("models",))
    return {**data, "models": models_data["models"]}


def _rebase(source: SourceMap, prefix: KeyPath) -> SourceMap:
    """The positions under ``prefix`` of ``source``, with that prefix taken off their paths."""
    n = len(prefix)
    return SourceMap(
        source.file,
        {k[n:]: v for k, v in source.keys.items() if k[:n] == prefix},
        {k[n:]: v for k, v in source.values.items() if k[:n] == prefix},
    )
