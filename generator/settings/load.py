"""Load cluster.yaml (and the models.yaml it points to) into typed, checked settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from generator.clusters.layers import check_name, merged_settings
from generator.clusters.layout import COMMON, common_file, root_of
from generator.errors import KeyPath, Problem, SettingsError, dotted
from generator.settings import rules
from generator.settings.apps import inline_values_files
from generator.settings.diagnostics import problems_from_validation, suggest
from generator.settings.model_changes import apply_model_changes
from generator.settings.models import Settings
from generator.yamlsource import SourceMap, Sources, read_yaml_file


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
    warnings: tuple[Problem, ...] = ()
    layers: tuple[Path, ...] = ()  # settings written under cluster.yaml (clusters/common.yaml)

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    @property
    def shown(self) -> str:
        return self.sources.root.file

    @property
    def repository(self) -> Path:
        """The folder gitops.path is relative to: the settings' folder, or above `clusters/` for a cluster of
        several."""
        return self.layers[0].parent.parent if self.layers else self.base_dir

    def output(self) -> Path:
        """Where gitops.path puts the rendered tree."""
        return (self.repository / self.settings.gitops.path).resolve()

    def resolve(self, relative: str) -> Path:
        """A path from the settings, which are relative to cluster.yaml's folder."""
        return (self.base_dir / relative).resolve() if not Path(relative).is_absolute() else Path(relative)

    @property
    def source_files(self) -> list[Path]:
        """Files besides cluster.yaml the settings were read from (models.yaml)."""
        found = {Path(m.file).absolute() for m in self.sources.mounts.values()}
        return sorted(found | {layer.absolute() for layer in self.layers} - {self.config_path})

    @property
    def models_file(self) -> Path | None:
        """The models.yaml that `models:` names, if it names one."""
        mount = self.sources.mounts.get(("models",))
        return Path(mount.file).absolute() if mount else None

    def problem(self, path: KeyPath, message: str, *, at_key: bool = False) -> Problem:
        file, pos = self.sources.locate(path, at_key=at_key)
        line, col = (pos.line, pos.col) if pos else (None, None)
        return Problem(file, line, col, dotted(self.sources.written_path(path)), message)


def load_settings(config_path: Path, texts: Mapping[Path, str] | None = None) -> LoadedSettings:
    """Typed settings, or a SettingsError listing every problem with its file, line and column.

    ``texts`` holds unsaved contents by absolute path: an edit is checked before it is written.
    """
    texts = texts or {}
    root = root_of(config_path)
    layers: tuple[Path, ...] = ()
    if root is None:
        data, sources = _read_settings_file(config_path, texts)
    else:
        check_name(config_path, config_path.absolute().parent.name, shown_path(config_path))
        layers = (common_file(root),)
        data, sources = merged_settings(config_path, layers[0], lambda p: _read_settings_file(p, texts))
    data = apply_model_changes(data, sources)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(problems_from_validation(exc, data, sources, Settings)) from None
    loaded = LoadedSettings(settings, config_path.absolute(), sources, layers=layers)
    found = rules.check(settings)
    errors = [loaded.problem(p.path, p.message, at_key=p.at_key) for p in found if not p.warning]
    if errors:
        raise SettingsError(errors)
    warnings = tuple(loaded.problem(p.path, f"warning: {p.message}", at_key=p.at_key) for p in found if p.warning)
    return LoadedSettings(settings, loaded.config_path, sources, warnings, layers)


def _read_settings_file(path: Path, texts: Mapping[Path, str]) -> tuple[dict[str, Any], Sources]:
    """A settings file's data with the models and values files it names read in, relative to its folder."""
    shown = shown_path(path)
    data, source_map = read_yaml_file(path, shown, texts.get(path.absolute()))
    sources = Sources(source_map)
    if data is None and path.name == COMMON:
        return {}, sources  # an empty common.yaml shares nothing
    if not isinstance(data, dict):
        raise SettingsError([Problem(shown, 1, 1, "", "the settings must be a YAML mapping of keys to values")])
    data = _inline_models_file(data, path.parent, sources, texts)
    data = inline_values_files(data, path.parent, sources, texts)
    return data, sources


MODELS_FILE_KEYS = ("models", "credentials")


def _inline_models_file(
    data: dict[str, Any], base_dir: Path, sources: Sources, texts: Mapping[Path, str]
) -> dict[str, Any]:
    """Replace ``models: models.yaml`` by that file's lists, keeping their positions for errors."""
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
    models_data, models_map = read_yaml_file(target, shown_path(target.absolute()), texts.get(target.absolute()))
    if not isinstance(models_data, dict) or "models" not in models_data:
        raise SettingsError([Problem(models_map.file, 1, 1, "", "a models file is a mapping with a `models:` list")])
    problems = []
    for key in sorted(set(models_data) - set(MODELS_FILE_KEYS)):
        line_col = models_map.keys[(key,)]
        hint = suggest(key, MODELS_FILE_KEYS) or f"; allowed: {', '.join(MODELS_FILE_KEYS)}"
        problems.append(Problem(models_map.file, line_col.line, line_col.col, key, f"unknown key{hint}"))
    if "credentials" in models_data and "credentials" in data:
        line_col = models_map.keys[("credentials",)]
        problems.append(
            Problem(
                models_map.file,
                line_col.line,
                line_col.col,
                "credentials",
                f"credentials are also in {sources.root.file}; keep them in one place",
            )
        )
    if problems:
        raise SettingsError(problems)
    merged = dict(data)
    for key in MODELS_FILE_KEYS:
        if key in models_data:
            sources.mounts[(key,)] = _rebase(models_map, (key,))
            merged[key] = models_data[key]
    return merged


def _rebase(source: SourceMap, prefix: KeyPath) -> SourceMap:
    """The positions under ``prefix`` of ``source``, with that prefix taken off their paths."""
    n = len(prefix)
    return SourceMap(
        source.file,
        {k[n:]: v for k, v in source.keys.items() if k[:n] == prefix},
        {k[n:]: v for k, v in source.values.items() if k[:n] == prefix},
    )
