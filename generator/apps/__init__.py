"""The apps clusterforge delivers, built from the settings: one module per part of the stack."""

from __future__ import annotations

from dataclasses import replace

from generator.apps import network
from generator.apps.cache import cache_app, cache_namespace
from generator.apps.database import bucket_policy, database_app
from generator.apps.litellm import litellm_app, migration_app, route_app
from generator.apps.names import (
    BARMAN_PLUGIN,
    CACHE_APP,
    CNPG_NAMESPACE,
    CNPG_OPERATOR,
    DATABASE_APP,
    DRAGONFLY_NAMESPACE,
    DRAGONFLY_OPERATOR,
    LITELLM,
    MIGRATE_APP,
)
from generator.apps.secrets import after_secret_provider, backend_key_apps, secret_provider_apps
from generator.settings.models import Settings
from generator.stack import App, Chart, Document, Stack
from generator.userapps.build import declared_apps
from generator.versions import versions


def build_stack(settings: Settings, settings_name: str = "cluster.yaml") -> Stack:
    """Every app the settings ask for. Secrets are described, not filled: no value is needed here."""
    pins = versions()
    apps: list[App] = [*secret_provider_apps(settings, pins)]
    documents: list[Document] = []
    litellm_deps: list[str] = [MIGRATE_APP]
    migrate_deps: list[str] = []
    db = settings.database
    if db.type == "cloudnative-pg":
        apps.append(
            App(
                CNPG_OPERATOR,
                CNPG_NAMESPACE,
                chart=Chart("cloudnative-pg", "oci://ghcr.io/cloudnative-pg/charts", pins.cloudnative_pg_chart),
            )
        )
        if db.backup is not None and db.backup.enabled:
            # the barman-cloud plugin talks to the operator over TLS: it needs cert-manager in the cluster
            apps.append(
                App(
                    BARMAN_PLUGIN,
                    CNPG_NAMESPACE,
                    chart=Chart(BARMAN_PLUGIN, "https://cloudnative-pg.github.io/charts", pins.barman_cloud_chart),
                    depends_on=(CNPG_OPERATOR,),
                )
            )
            documents.append(bucket_policy(db, settings_name))
        apps.append(database_app(settings, db, pins))
        migrate_deps.append(DATABASE_APP)
    cache = settings.cache
    if cache.type == "dragonfly":
        apps.append(
            App(
                DRAGONFLY_OPERATOR,
                DRAGONFLY_NAMESPACE,
                chart=Chart(
                    "dragonfly-operator",
                    "oci://ghcr.io/dragonflydb/dragonfly-operator/helm",
                    pins.dragonfly_operator_chart,
                ),
            )
        )
    if cache.type in ("dragonfly", "valkey"):
        apps.append(cache_app(settings, cache, pins))
        litellm_deps.append(CACHE_APP)
    apps.append(migration_app(settings, pins, tuple(migrate_deps)))
    apps.append(litellm_app(settings, pins, tuple(litellm_deps)))
    route = route_app(settings, pins)
    if route is not None:
        apps.append(route)
    apps += backend_key_apps(settings)
    apps += declared_apps(settings)
    if settings.network_policies.enabled:
        apps = [_with_network_policies(settings, app) for app in apps]
    return Stack(tuple(after_secret_provider(settings, app) for app in apps), tuple(documents))


def _with_network_policies(settings: Settings, app: App) -> App:
    """Each app carries the policies for its own pods; LiteLLM's also the namespace's default deny."""
    docs = []
    if app.name == LITELLM:
        docs += network.namespace_baseline(settings, app.namespace)
        docs += network.litellm_policies(settings) + network.cilium_egress(settings)
    elif app.name == DATABASE_APP:
        docs += network.database_policies(settings)
    elif app.name == MIGRATE_APP:
        docs += network.migration_policies(settings)
    elif app.name == CACHE_APP:
        if cache_namespace(settings) != settings.litellm.namespace:
            docs += network.namespace_baseline(settings, app.namespace)
        docs += network.cache_policies(settings)
    if not docs:
        return app
    return replace(app, manifests=(*app.manifests, network.manifest("networkpolicies.yaml", docs)))
