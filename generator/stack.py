"""What runs in the cluster, independent of the GitOps engine that delivers it.

The stack is a list of apps: operators installed from their upstream charts, and the
plain manifests clusterforge designs itself (database, cache, LiteLLM). Engines only
decide how an app is laid out and ordered in git.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from generator.litellm import config as litellm_config
from generator.litellm.providers import CREDENTIAL_FILES_DIR
from generator.render import static_file, to_yaml
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
    """A Secret's content; the secrets provider decides what is written to git for it."""

    basename: str  # the file is <basename>.<provider suffix>
    name: str
    namespace: str
    string_data: Mapping[str, str]
    type: str = "Opaque"
    labels: Mapping[str, str] = field(default_factory=dict)


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


def database_url(settings: Settings, secrets: Mapping[str, str]) -> str:
    password = quote(secrets["database_password"], safe="")
    db = settings.database
    if db.type == "cloudnative-pg":
        host = _svc(f"{DATABASE_CLUSTER}-rw", settings.litellm.namespace)
        return f"postgresql://{db.owner}:{password}@{host}:5432/{db.database}"
    url = f"postgresql://{quote(db.user, safe='')}:{password}@{db.host}:{db.port}/{db.database}"
    return f"{url}?sslmode={db.sslmode}" if db.sslmode else url


def redis_endpoint(settings: Settings) -> tuple[str | None, int]:
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey"):
        return _svc(CACHE_NAME, settings.litellm.namespace), REDIS_PORT
    if cache.type == "external":
        return cache.host, cache.port
    return None, REDIS_PORT


def build_stack(settings: Settings, secrets: Mapping[str, str]) -> Stack:
    """Every app the settings ask for; ``secrets`` are the decrypted values of the secrets file."""
    pins = versions()
    apps: list[App] = []
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
        apps.append(_database_app(settings, db, secrets, pins))
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
        apps.append(_cache_app(settings, cache, secrets, pins))
        litellm_deps.append(CACHE_APP)
    apps.append(_litellm_app(settings, secrets, pins, tuple(litellm_deps)))
    return Stack(tuple(apps))


def _database_app(settings: Settings, db: CloudNativePGDatabase, secrets: Mapping[str, str], pins: Versions) -> App:
    owner = SecretSpec(
        "owner-secret",
        DATABASE_OWNER_SECRET,
        settings.litellm.namespace,
        {"username": db.owner, "password": secrets["database_password"]},
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


def _cache_app(
    settings: Settings, cache: DragonflyCache | ValkeyCache, secrets: Mapping[str, str], pins: Versions
) -> App:
    ns = settings.litellm.namespace
    password = secrets["cache_password"]
    if cache.type == "dragonfly":
        image = cache.image or f"docker.dragonflydb.io/dragonflydb/dragonfly:{pins.dragonfly_image_tag}"
        return App(
            CACHE_APP,
            ns,
            manifests=(Manifest("dragonfly.yaml", "apps/cache/dragonfly.yaml.j2", {"cache": cache, "image": image}),),
            secrets=(
                SecretSpec("secret", CACHE_SECRET, ns, {"password": password}, labels=labels(CACHE_NAME, "cache")),
            ),
            depends_on=(DRAGONFLY_OPERATOR,),
        )
    image = cache.image or f"docker.io/valkey/valkey:{pins.valkey_image_tag}"
    conf = "\n".join(
        [
            f"requirepass {password}",
            "appendonly no",
            'save ""' if cache.storage is None else "save 900 1",
            "dir /data",
            "maxmemory-policy allkeys-lru",
            "",
        ]
    )
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


def _litellm_app(settings: Settings, secrets: Mapping[str, str], pins: Versions, deps: tuple[str, ...]) -> App:
    ns = settings.litellm.namespace
    redis_host, redis_port = redis_endpoint(settings)
    proxy_config = litellm_config.proxy_config(settings, redis_host, redis_port)
    config_yaml = to_yaml(proxy_config) + "\n"
    data: dict[str, str] = {
        litellm_config.MASTER_KEY_ENV: secrets["litellm_master_key"],
        litellm_config.SALT_KEY_ENV: secrets["litellm_salt_key"],
        litellm_config.DATABASE_URL_ENV: database_url(settings, secrets),
    }
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey") or (cache.type == "external" and cache.password):
        data[litellm_config.REDIS_PASSWORD_ENV] = secrets["cache_password"]
    if cache.type == "external" and cache.sentinel is not None and cache.sentinel.password:
        data[litellm_config.REDIS_SENTINEL_PASSWORD_ENV] = secrets["cache_sentinel_password"]
    refs = litellm_config.secret_refs(settings)
    for ref in refs:
        data[ref.env] = secrets[ref.secret]
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
