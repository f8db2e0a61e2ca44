"""An app's values against its chart's values schema, before anything is written.

The schema is ``charts/<chart>/<version>/values.schema.json`` under a schema location (the ones
configure's validation uses: CLUSTERFORGE_SCHEMA_LOCATION), found as ``clusterforge validate`` finds
it. Each violation is a problem at the setting: ``cluster.yaml:LINE:COL: apps[2].values.image.tag:``,
or in the values file the app names. A value from the secrets file (``secret_values``) is checked as
the string it will be, and a wrong path to it is reported at its ``secret_values`` key. Without a
schema, values are not checked here (Helm checks them against the chart's own schema at install).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.errors import KeyPath, Problem
from generator.settings.apps import ChartApp, secret_leaves
from generator.settings.load import LoadedSettings
from generator.validate.fetch import Fetcher, cache_dir
from generator.validate.locations import from_environment, parse_location
from generator.validate.model import DEFAULT_KUBERNETES_VERSION, Severity
from generator.validate.schemacheck import violations
from generator.validate.schemas import CoreSchemas, SchemaStore


def chart_schemas() -> SchemaStore:
    """The schema locations configure validates the tree with; only their chart values schemas are read here."""
    cache = cache_dir()
    locations = [parse_location(entry) for entry in from_environment()]
    return SchemaStore(CoreSchemas(DEFAULT_KUBERNETES_VERSION, cache), locations, Fetcher(cache))


def values_problems(loaded: LoadedSettings, store: SchemaStore | None = None) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of every app's values whose chart has a known values schema."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not loaded.settings.apps:
        return errors, warnings
    store = store or chart_schemas()
    for index, app in enumerate(loaded.settings.apps):
        at: KeyPath = ("apps", index)
        lookup = store.for_chart(app.chart.name, app.chart.version)
        if lookup.broken:
            errors.append(loaded.problem((*at, "chart", "version"), lookup.broken))
        if lookup.validator is None:
            continue
        schema = f"chart {app.chart.name} {app.chart.version} values schema"
        for path, severity, message in _violations(lookup.validator, app):
            if path == () and message.endswith("is a required property"):
                continue  # the chart's defaults give top-level keys; values are checked as written
            where, at_key = _setting(at, app, path, message)
            problem = loaded.problem(where, f"{message} ({schema})", at_key=at_key)
            (errors if severity is Severity.ERROR else warnings).append(problem)
    return errors, warnings


def _violations(validator: Any, app: ChartApp) -> Iterator[tuple[KeyPath, Severity, str]]:
    return violations(validator, with_secret_values(app))


def with_secret_values(app: ChartApp) -> dict[str, Any]:
    """The values as the chart gets them: each value from the secrets file stands in as a string."""
    merged: dict[str, Any] = _copy(app.values_map)
    for path, secret in secret_leaves(app.secret_values):
        node = merged
        for key in path[:-1]:
            child = node.get(str(key))
            if not isinstance(child, dict):
                child = node[str(key)] = {}
            node = child
        node[str(path[-1])] = f"<secret {secret}>"
    return merged


def _copy(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in values.items()}


def _setting(at: KeyPath, app: ChartApp, path: KeyPath, message: str) -> tuple[KeyPath, bool]:
    """Where a violation at ``path`` of the values is written in the settings; and whether at its key."""
    unknown = message.startswith("unknown field")
    for leaf, _ in secret_leaves(app.secret_values):
        if path[: len(leaf)] == leaf:
            return (*at, "secret_values", *leaf), unknown
        if leaf[: len(path)] == path and not _has(app.values_map, path):
            return (*at, "secret_values", *path), unknown  # a key only secret_values writes
    return (*at, "values", *path), unknown


def _has(values: Any, path: KeyPath) -> bool:
    for key in path:
        if not isinstance(values, dict) or key not in values:
            return False
        values = values[key]
    return True
