"""What runs in the cluster, independent of the GitOps engine that delivers it.

The stack is a list of apps: operators installed from their upstream charts, and the
plain manifests clusterforge designs itself (database, cache, LiteLLM). Engines only
decide how an app is laid out and ordered in git.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from generator.litellm import config as litellm_config
from generator.litellm.providers import CREDENTIAL_FILES_DIR
from generator.render import static_file, to_yaml
from generator.secrets.values import FromSecret, SecretValue
from generator.settings.models import CloudNativePGDatabase, DragonflyCache, Settings, ValkeyCache
from generator.versions import Versions, versions

LITELLM = "litellm"
LITELLM_SECRET = "litellm-secret"
LITELLM_CONFIG = "litellm-config"
DATABASE_APP = "litellm-db"
DATABASE_CLUSTER = "litellm-db"
DATABASE_OWNER_SECRET = "litellm-db-owner"
CACHE_APP = "litellm-cache"
CACHE_NAME = "litellm-cache"
CACHE_SECRET = "litellm-cache-auth"
CNPG_OPERATOR = "cloudnative-pg"
CNPG_NAMESPACE = "cnpg-system"
DRAGONFLY_OPERATOR = "dragonfly-operator"
DRAGONFLY_NAMESPACE = "dragonfly-operator-system"
LITELLM_PORT = 4000
REDIS_PORT = 6379


@dataclass(frozen=True)
class Chart:
    """An upstream Helm chart an operator comes from."""

    name: str
    repository: str  # oci://host/path (the chart is repository/name) or https:// Helm repository
    version: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")


@dataclass(frozen=True)
class Manifest:
    filename: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SecretSpec:
    """A Secret's content, made from the secrets file; the provider decides what reaches git for it."""

    basename: str  # the file is <basename>.<provider suffix>
    name: str
    namespace: str
    string_data: Mapping[str, SecretValue]
    type: str = "Opaque"
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def secret_names(self) -> list[str]:
        """The secrets-file keys this Secret is made from, each once."""
        return list(dict.fromkeys(n for v in self.string_data.values() for n in v.names))


@dataclass(frozen=True)
class App:
    name: str
    namespace: str
    manifests: tuple[Manifest, ...] = ()
    secrets: tuple[SecretSpec, ...] = ()
    chart: Chart | None = None
    depends_on: tuple[str, ...] = ()
    wait: bool = True
    timeout: str = "5m"


@dataclass(frozen=True)
class Stack:
    apps: tuple[App, ...]

    @property
    def namespaces(self) -> list[str]:
        return sorted({app.namespace for app in self.apps})

    def in_namespace(self, namespace: str) -> list[App]:
        return sorted((a for a in self.apps if a.namespace == namespace), key=lambda a: a.name)

    def app(self, name: str) -> App:
        return next(a for a in self.apps if a.name == name)


def labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "litellm",
        "app.kubernetes.io/managed-by": "clusterforge",
    }


def _svc(name: str, namespace: str) -> str:
    return f"{name}.{namespace}.svc.cluster.local"


def database_url(settings: Settings) -> SecretValue:
    password = FromSecret("database_password", url=True)
    db = settings.database
    if db.type == "cloudnative-pg":
        host = _svc(f"{DATABASE_CLUSTER}-rw", settings.litellm.namespace)
        return SecretValue.of(f"postgresql://{db.owner}:", password, f"@{host}:5432/{db.database}")
    tail = f"@{db.host}:{db.port}/{db.database}" + (f"?sslmode={db.sslmode}" if db.sslmode else "")
    return SecretValue.of(f"postgresql://{quote(db.user, safe='')}:", password, tail)


def redis_endpoint(settings: Settings) -> tuple[str | None, int]:
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey"):
        return _svc(CACHE_NAME, settings.litellm.namespace), REDIS_PORT
    if cache.type == "external":
        return cache.host, cache.port
    return None, REDIS_PORT


def _secret(name: str) -> SecretValue:
    return SecretValue.of(FromSecret(name))


def build_stack(settings: Settings) -> Stack:
    """Every app the settings ask for. Secrets are described, not filled: no value is needed here."""
    pins = versions()
    apps: list[App] = [*_secret_provider_apps(settings, pins)]
    litellm_deps: list[str] = []
    db = settings.database
    if db.type == "cloudnative-pg":
        apps.append(
            App(
                CNPG_OPERATOR,
                CNPG_NAMESPACE,
                chart=Chart("cloudnative-pg", "oci://ghcr.io/cloudnative-pg/charts", pins.cloudnative_pg_chart),
            )
        )
        apps.append(_database_app(settings, db, pins))
        litellm_deps.append(DATABASE_APP)
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
        apps.append(_cache_app(settings, cache, pins))
        litellm_deps.append(CACHE_APP)
    apps.append(_litellm_app(settings, pins, tuple(litellm_deps)))
    apps += _backend_key_apps(settings)
    return Stack(tuple(_after_secret_provider(settings, app) for app in apps))


SEALED_SECRETS = "sealed-secrets"
SEALED_SECRETS_NAMESPACE = "sealed-secrets"
SEALED_SECRETS_CONTROLLER = "sealed-secrets-controller"
EXTERNAL_SECRETS = "external-secrets"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
SECRET_STORE_APP = "external-secrets-store"


def _secret_provider_apps(settings: Settings, pins: Versions) -> list[App]:
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


def _after_secret_provider(settings: Settings, app: App) -> App:
    """Apps holding secrets wait for the controller (and its CRDs) that makes their Secrets."""
    if not app.secrets:
        return app
    provider = {"sealed-secrets": SEALED_SECRETS, "external-secrets": SECRET_STORE_APP}.get(settings.secrets.provider)
    if provider is None or provider in app.depends_on:
        return app
    return replace(app, depends_on=(*app.depends_on, provider))


def _backend_key_apps(settings: Settings) -> list[App]:
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
        apps.append(App(f"{namespace}-model-keys", namespace, secrets=specs))
    return apps


def _database_app(settings: Settings, db: CloudNativePGDatabase, pins: Versions) -> App:
    owner = SecretSpec(
        "owner-secret",
        DATABASE_OWNER_SECRET,
        settings.litellm.namespace,
        {"username": SecretValue.of(db.owner), "password": _secret("database_password")},
        type="kubernetes.io/basic-auth",
        labels=labels(DATABASE_CLUSTER, "database"),
    )
    image = db.image or f"ghcr.io/cloudnative-pg/postgresql:{pins.postgresql_image_tag}"
    context = {"db": db, "image": image}
    return App(
        DATABASE_APP,
        settings.litellm.namespace,
        manifests=(
            Manifest("cluster.yaml", "apps/database/cluster.yaml.j2", context),
            Manifest("database.yaml", "apps/database/database.yaml.j2", context),
        ),
        secrets=(owner,),
        depends_on=(CNPG_OPERATOR,),
        timeout="10m",
    )


def _cache_app(settings: Settings, cache: DragonflyCache | ValkeyCache, pins: Versions) -> App:
    ns = settings.litellm.namespace
    if cache.type == "dragonfly":
        image = cache.image or f"docker.dragonflydb.io/dragonflydb/dragonfly:{pins.dragonfly_image_tag}"
        return App(
            CACHE_APP,
            ns,
            manifests=(Manifest("dragonfly.yaml", "apps/cache/dragonfly.yaml.j2", {"cache": cache, "image": image}),),
            secrets=(
                SecretSpec(
                    "secret",
                    CACHE_SECRET,
                    ns,
                    {"password": _secret("cache_password")},
                    labels=labels(CACHE_NAME, "cache"),
                ),
            ),
            depends_on=(DRAGONFLY_OPERATOR,),
        )
    image = cache.image or f"docker.io/valkey/valkey:{pins.valkey_image_tag}"
    rest = [
        "appendonly no",
        'save ""' if cache.storage is None else "save 900 1",
        "dir /data",
        "maxmemory-policy allkeys-lru",
        "",
    ]
    # the password lives in this config file, never on a command line
    conf = SecretValue.of("requirepass ", FromSecret("cache_password"), "\n" + "\n".join(rest))
    context = {"cache": cache, "image": image}
    return App(
        CACHE_APP,
        ns,
        manifests=(
            Manifest("statefulset.yaml", "apps/cache/valkey-statefulset.yaml.j2", context),
            Manifest("service.yaml", "apps/cache/valkey-service.yaml.j2", context),
        ),
        secrets=(SecretSpec("secret", CACHE_SECRET, ns, {"valkey.conf": conf}, labels=labels(CACHE_NAME, "cache")),),
        depends_on=(),
    )


def _litellm_app(settings: Settings, pins: Versions, deps: tuple[str, ...]) -> App:
    ns = settings.litellm.namespace
    redis_host, redis_port = redis_endpoint(settings)
    proxy_config = litellm_config.proxy_config(settings, redis_host, redis_port)
    config_yaml = to_yaml(proxy_config) + "\n"
    data: dict[str, SecretValue] = {
        litellm_config.MASTER_KEY_ENV: _secret("litellm_master_key"),
        litellm_config.SALT_KEY_ENV: _secret("litellm_salt_key"),
        litellm_config.DATABASE_URL_ENV: database_url(settings),
    }
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey") or (cache.type == "external" and cache.password):
        data[litellm_config.REDIS_PASSWORD_ENV] = _secret("cache_password")
    if cache.type == "external" and cache.sentinel is not None and cache.sentinel.password:
        data[litellm_config.REDIS_SENTINEL_PASSWORD_ENV] = _secret("cache_sentinel_password")
    refs = litellm_config.secret_refs(settings)
    for ref in refs:
        data[ref.env] = _secret(ref.secret)
    secret_spec = SecretSpec("secret", LITELLM_SECRET, ns, data, labels=labels(LITELLM, "proxy"))
    credential_files = {ref.env: ref.file for ref in refs if ref.file}
    guardrail_files = (
        {f"{litellm_config.TRIMMING_MODULE}.py": static_file("message_trimming.py")}
        if litellm_config.trimming_models(settings)
        else {}
    )
    image = f"{settings.litellm.image.repository}:{settings.litellm.image.tag or pins.litellm_image_tag}"
    context = {
        "lite": settings.litellm,
        "image": image,
        "config_yaml": config_yaml,
        # the guardrail code is config too: a change of either rolls the pods
        "config_checksum": hashlib.sha256((config_yaml + "".join(guardrail_files.values())).encode()).hexdigest(),
        "env_keys": [key for key in data if key not in credential_files],
        "credential_files": credential_files,
        "credential_files_dir": CREDENTIAL_FILES_DIR,
        "guardrail_files": guardrail_files,
        "guardrails_dir": f"/app/{litellm_config.GUARDRAILS_DIR}",
        "redis_host": redis_host,
        "redis_port": redis_port,
        "labels": labels(LITELLM, "proxy"),
    }
    return App(
        LITELLM,
        ns,
        manifests=(
            Manifest("configmap.yaml", "apps/litellm/configmap.yaml.j2", context),
            *(
                [Manifest("guardrails-configmap.yaml", "apps/litellm/guardrails-configmap.yaml.j2", context)]
                if guardrail_files
                else []
            ),
            Manifest("serviceaccount.yaml", "apps/litellm/serviceaccount.yaml.j2", context),
            Manifest("deployment.yaml", "apps/litellm/deployment.yaml.j2", context),
            Manifest("service.yaml", "apps/litellm/service.yaml.j2", context),
        ),
        secrets=(secret_spec,),
        depends_on=deps,
        timeout="10m",
    )
