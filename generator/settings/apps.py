"""Settings of the apps a user installs from Helm charts beside the gateway (`apps:` in cluster.yaml).

An app's ``values`` are a mapping, or the name of a YAML file beside the settings; a file is read
here, while the settings load, and mounted at ``apps[N].values`` so that every error in it points
into that file. ``secrets`` and ``secret_values`` name keys of the secrets file, never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from typing_extensions import TypeAliasType

from generator.errors import KeyPath, Problem, SettingsError, dotted
from generator.settings.diagnostics import describe_pattern as _p
from generator.settings.types import DnsLabel, Duration, SecretName, Strict
from generator.yamlsource import Sources, read_yaml_file


def _quoted_version(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f'write the exact version as a quoted string such as "4.1.1": unquoted, YAML reads {value} as a number'
        )
    return value


ChartRepository = Annotated[
    str,
    StringConstraints(
        pattern=_p(
            r"^(oci://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)+|https://[^\s/?#]+(/[^\s?#]*)?)$",
            "an oci:// registry path such as oci://ghcr.io/bjw-s-labs/helm or an https:// Helm repository URL",
        )
    ),
]
ChartName = Annotated[
    str,
    StringConstraints(
        pattern=_p(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$", "a chart name such as app-template (no '/')"),
        max_length=250,
    ),
]
ChartVersion = Annotated[
    str,
    BeforeValidator(_quoted_version),
    StringConstraints(
        pattern=_p(
            r"^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$",
            "an exact chart version such as 4.1.1 (not a range: Renovate keeps it current)",
        )
    ),
]
SecretDataKey = Annotated[
    str, StringConstraints(pattern=_p(r"^[-._a-zA-Z0-9]+$", "a Secret key: letters, digits and - _ ."), max_length=253)
]
_VALUES_FILE = r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*\.ya?ml$"
ValuesFile = Annotated[
    str,
    StringConstraints(
        pattern=_p(
            _VALUES_FILE,
            "a values mapping, or a .yaml file beside the settings (a relative path inside their folder)",
        )
    ),
]

# values paths (keys as in the chart's values) ending in the secrets-file key that gives the value
SecretTree = TypeAliasType("SecretTree", "dict[str, SecretName | SecretTree]")


class ChartSource(Strict):
    """Where the chart comes from. Keep the three keys together in this order: Renovate's manager
    (README: Your own apps) reads them as one block."""

    repository: ChartRepository = Field(
        description="oci://<registry>/<path> (the chart is <path>/<name>) or an https:// Helm repository."
    )
    name: ChartName = Field(description="The chart's name, e.g. app-template.")
    version: ChartVersion = Field(description="The exact chart version, e.g. 4.1.1.")

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")


class ChartApp(Strict):
    """A Helm chart installed beside the gateway, as Flux or ArgoCD installs the operators."""

    name: DnsLabel = Field(
        description="The app's name: its Flux Kustomization, HelmRelease and Helm release, or ArgoCD Application."
    )
    namespace: DnsLabel = Field(description="Where the chart is installed.")
    chart: ChartSource
    values: dict[str, Any] | ValuesFile = Field(
        default_factory=dict,
        description="The chart's values: a mapping, or the name of a YAML file beside the settings. Checked "
        "against charts/<chart>/<version>/values.schema.json when a schema location has it.",
    )
    secrets: dict[DnsLabel, dict[SecretDataKey, SecretName]] = Field(
        default_factory=dict,
        description="Secrets made in the app's namespace by the secrets provider: Secret name -> {key: secret "
        "in the secrets file}. The chart reads them by name (existingSecret, envFrom, secretKeyRef).",
    )
    secret_values: SecretTree = Field(
        default_factory=dict,
        description="Engine flux: chart values taken from the secrets file, as a mapping shaped like `values` "
        "whose leaves name secrets; Flux merges them in from a Secret (valuesFrom).",
    )
    depends_on: list[DnsLabel] = Field(
        default_factory=list,
        description="Apps installed first: other apps, or what clusterforge generates (litellm, litellm-db, ...).",
    )
    crds: Literal["create-replace", "skip"] = Field(
        "create-replace",
        description="The chart's CRDs (its crds/ folder): create and update them with the chart, or skip them.",
    )
    create_namespace: bool = Field(
        True,
        description="Render the namespace with clusterforge's Pod Security labels (baseline enforced); false "
        "when it exists or needs others. kube-system, default and Flux's or ArgoCD's own are never rendered.",
    )
    timeout: Duration = Field("5m", description="How long an install or upgrade may take.")

    @property
    def values_map(self) -> dict[str, Any]:
        """The values as a mapping: a values file is read while the settings load."""
        return self.values if isinstance(self.values, dict) else {}


def secret_leaves(tree: Mapping[str, Any], prefix: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    """(values path, secret name) of every leaf of a ``secret_values`` mapping."""
    for key, value in tree.items():
        if isinstance(value, str):
            yield (*prefix, key), value
        elif isinstance(value, Mapping):
            yield from secret_leaves(value, (*prefix, key))


def app_secret_refs(app: ChartApp) -> Iterator[tuple[KeyPath, str]]:
    """(setting path under the app, secrets-file key) of every secret the app names."""
    for secret, data in app.secrets.items():
        for key, name in data.items():
            yield ("secrets", secret, key), name
    for path, name in secret_leaves(app.secret_values):
        yield ("secret_values", *path), name


def inline_values_files(
    data: dict[str, Any], base_dir: Path, sources: Sources, texts: Mapping[Path, str]
) -> dict[str, Any]:
    """Replace each ``values: <file>`` of an app by the file's mapping, keeping its positions for errors."""
    from generator.settings.load import shown_path  # noqa: PLC0415 - load imports this module

    apps = data.get("apps")
    if not isinstance(apps, list):
        return data
    problems: list[Problem] = []
    merged: list[Any] = []
    for index, app in enumerate(apps):
        reference = app.get("values") if isinstance(app, dict) else None
        path: KeyPath = ("apps", index, "values")
        if not isinstance(reference, str) or not re.match(_VALUES_FILE, reference):
            merged.append(app)  # not a file name: the settings model says what is wrong
            continue
        target = base_dir / reference
        if not target.is_file():
            file, pos = sources.locate(path, at_key=False)
            line, col = (pos.line, pos.col) if pos else (None, None)
            problems.append(Problem(file, line, col, dotted(path), f"file '{reference}' not found"))
            merged.append(app)
            continue
        values, source = read_yaml_file(target, shown_path(target.absolute()), texts.get(target.absolute()))
        if values is None:
            values = {}
        if not isinstance(values, dict):
            problems.append(Problem(source.file, 1, 1, "", "a values file is a YAML mapping of the chart's values"))
            merged.append(app)
            continue
        sources.mounts[path] = source
        merged.append({**app, "values": values})
    if problems:
        raise SettingsError(problems)
    return {**data, "apps": merged}
