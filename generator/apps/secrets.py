"""The controllers that make Secrets from what is in git, and Secrets for other stacks' servers."""

from __future__ import annotations

from dataclasses import replace

from generator.apps.names import (
    EXTERNAL_SECRETS,
    EXTERNAL_SECRETS_NAMESPACE,
    SEALED_SECRETS,
    SEALED_SECRETS_CONTROLLER,
    SEALED_SECRETS_NAMESPACE,
    SECRET_STORE_APP,
)
from generator.secrets.values import FromSecret, SecretValue
from generator.settings.models import Settings
from generator.stack import App, Chart, Manifest, SecretSpec, labels
from generator.versions import Versions


def _secret(name: str) -> SecretValue:
    return SecretValue.of(FromSecret(name))


def secret_provider_apps(settings: Settings, pins: Versions) -> list[App]:
    """The controller that turns what is in git into Secrets, when it is not Flux itself."""
    secrets = settings.secrets
    if secrets.provider == "sealed-secrets":
        return [
            App(
                SEALED_SECRETS,
                SEALED_SECRETS_NAMESPACE,
                chart=Chart(
                    "sealed-secrets",
                    "https://bitnami-labs.github.io/sealed-secrets",
                    pins.sealed_secrets_chart,
                    # kubeseal looks for this name by default
                    {"fullnameOverride": SEALED_SECRETS_CONTROLLER},
                ),
            )
        ]
    if secrets.provider == "external-secrets" and secrets.external is not None:
        return [
            App(
                EXTERNAL_SECRETS,
                EXTERNAL_SECRETS_NAMESPACE,
                chart=Chart(
                    "external-secrets",
                    "https://charts.external-secrets.io",
                    pins.external_secrets_chart,
                    {"installCRDs": True},
                ),
            ),
            App(
                SECRET_STORE_APP,
                EXTERNAL_SECRETS_NAMESPACE,
                manifests=(
                    Manifest(
                        "clustersecretstore.yaml",
                        "secrets/clustersecretstore.yaml.j2",
                        {"external": secrets.external, "service_account": EXTERNAL_SECRETS},
                    ),
                ),
                depends_on=(EXTERNAL_SECRETS,),
            ),
        ]
    return []


def after_secret_provider(settings: Settings, app: App) -> App:
    """Apps holding secrets wait for the controller (and its CRDs) that makes their Secrets."""
    if not app.secrets:
        return app
    provider = {"sealed-secrets": SEALED_SECRETS, "external-secrets": SECRET_STORE_APP}.get(settings.secrets.provider)
    if provider is None or provider in app.depends_on:
        return app
    return replace(app, depends_on=(*app.depends_on, provider))


def backend_key_apps(settings: Settings) -> list[App]:
    """The API key Secret of each in-cluster model server, made from the same secret LiteLLM sends."""
    by_namespace: dict[str, dict[tuple[str, str], str]] = {}
    for model in settings.models:
        backend = model.backend
        if backend is None or backend.api_key_secret is None or model.credential is None:
            continue
        target = (backend.api_key_secret.name, backend.api_key_secret.key)
        by_namespace.setdefault(backend.namespace, {})[target] = model.credential
    apps = []
    for namespace, secrets in sorted(by_namespace.items()):
        grouped: dict[str, dict[str, SecretValue]] = {}
        for (name, secret_key), credential in sorted(secrets.items()):
            grouped.setdefault(name, {})[secret_key] = _secret(credential)
        specs = tuple(
            SecretSpec(f"{name}-secret", name, namespace, data, labels=labels(name, "model-server-key"))
            for name, data in grouped.items()
        )
        # the model server's namespace belongs to its own stack: only the Secret is ours
        apps.append(App(f"{namespace}-model-keys", namespace, secrets=specs, owns_namespace=False))
    return apps
