"""The charts users declare (`apps:`), as apps of the stack: each engine lays them out as it lays out
the operators (Flux: an OCIRepository or HelmRepository and a HelmRelease; ArgoCD: an Application
with the chart as its source, in the sync wave its dependsOn gives).

Their Secrets are SecretSpecs like the gateway's, so the configured provider (sops, sealed-secrets,
external-secrets) carries them: plain values never name a secret. ``secret_values`` (engine flux)
become one Secret per app holding a JSON document of the values, which the HelmRelease merges in
with ``valuesFrom``: exact for any text, where a ``targetPath`` would go through Helm's --set parser
(commas split a value, ``true`` or ``123`` change its type).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator.secrets.values import FromSecret, Part, SecretValue, json_string
from generator.settings.apps import ChartApp
from generator.settings.models import Settings
from generator.stack import App, Chart, SecretSpec

# namespaces that exist in every cluster or belong to the GitOps engine: never rendered (labelled) by clusterforge
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease", "flux-system"})
VALUES_KEY = "values.yaml"  # the key Flux's valuesFrom reads by default


def values_secret_name(app: ChartApp) -> str:
    return f"{app.name}-secret-values"


def declared_apps(settings: Settings) -> list[App]:
    return [chart_app(settings, app) for app in settings.apps]


def chart_app(settings: Settings, app: ChartApp) -> App:
    labels = {"app.kubernetes.io/name": app.name, "app.kubernetes.io/managed-by": "clusterforge"}
    secrets = [
        SecretSpec(
            name,
            name,
            app.namespace,
            {key: SecretValue.of(FromSecret(secret)) for key, secret in data.items()},
            labels=labels,
        )
        for name, data in sorted(app.secrets.items())
    ]
    values_from: tuple[str, ...] = ()
    if app.secret_values:
        name = values_secret_name(app)
        document = SecretValue(tuple(_merged(_json_parts(app.secret_values))))
        # helm-controller upgrades the release as soon as a Secret so labelled changes, not at its interval
        watched = {**labels, "reconcile.fluxcd.io/watch": "Enabled"}
        secrets.append(SecretSpec(name, name, app.namespace, {VALUES_KEY: document}, labels=watched))
        values_from = (name,)
    chart = Chart(
        app.chart.name,
        app.chart.repository.rstrip("/"),
        app.chart.version,
        app.values_map,
        crds=app.crds,
        values_from=values_from,
    )
    engine_namespaces = {settings.gitops.argocd.namespace} if settings.gitops.engine == "argocd" else set()
    owns = app.create_namespace and app.namespace not in SYSTEM_NAMESPACES | engine_namespaces
    return App(
        app.name,
        app.namespace,
        secrets=tuple(secrets),
        chart=chart,
        depends_on=tuple(app.depends_on),
        timeout=app.timeout,
        owns_namespace=owns,
    )


def _json_parts(tree: Mapping[str, Any]) -> list[Part]:
    """A JSON object whose leaves are secrets-file values: literal text around each reference."""
    parts: list[Part] = ["{"]
    for index, (key, value) in enumerate(tree.items()):
        parts.append(("," if index else "") + json_string(key) + ":")
        parts += [FromSecret(value, json=True)] if isinstance(value, str) else _json_parts(value)
    parts.append("}")
    return parts


def _merged(parts: list[Part]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str) and out and isinstance(out[-1], str):
            out[-1] += part
        else:
            out.append(part)
    return out
