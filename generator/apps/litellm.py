"""LiteLLM itself: the proxy, its migration Job, and what it needs around it.

The proxy's pods never migrate the database; a Job does, in an app the proxy's app depends on,
so the schema is current before a new version's pods start.
"""

from __future__ import annotations

import hashlib
from typing import Any

from generator.apps import monitoring
from generator.apps.cache import cache_username, redis_endpoint
from generator.apps.database import database_url
from generator.apps.names import (
    LITELLM,
    LITELLM_CONFIG,
    LITELLM_PORT,
    LITELLM_SECRET,
    METRICS_AUTH_SECRET,
    MIGRATE_APP,
    ROUTE_APP,
)
from generator.litellm import config as litellm_config
from generator.litellm.providers import CREDENTIAL_FILES_DIR
from generator.render import static_file, to_yaml
from generator.secrets.values import FromSecret, SecretValue
from generator.settings.models import Settings
from generator.stack import App, Manifest, SecretSpec, labels, selector
from generator.versions import Versions

MIGRATION_DIR = "/tmp/prisma-migrations"  # noqa: S108 - an emptyDir in the pod, the root filesystem is read-only


def _secret(name: str) -> SecretValue:
    return SecretValue.of(FromSecret(name))


def image(settings: Settings, pins: Versions) -> str:
    return f"{settings.litellm.image.repository}:{settings.litellm.image.tag or pins.litellm_image_tag}"


def public_url(settings: Settings) -> str | None:
    exposure = settings.exposure
    if exposure.type == "none":
        return None
    host = exposure.hostname or f"litellm.{settings.cluster.domain}"
    return f"https://{host}{exposure.path_prefix.rstrip('/')}"


def hostname(settings: Settings) -> str:
    return settings.exposure.hostname or f"litellm.{settings.cluster.domain}"


def _secret_env(key: str, secret: str = LITELLM_SECRET) -> dict[str, Any]:
    return {"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _value_env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def secret_data(settings: Settings) -> dict[str, SecretValue]:
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
    for ref in litellm_config.secret_refs(settings):
        data[ref.env] = _secret(ref.secret)
    data["UI_PASSWORD"] = _secret("ui_password")
    if settings.sso.type == "oidc":
        data["GENERIC_CLIENT_SECRET"] = _secret("oidc_client_secret")
    if settings.observability.langfuse is not None:
        data["LANGFUSE_PUBLIC_KEY"] = _secret("langfuse_public_key")
        data["LANGFUSE_SECRET_KEY"] = _secret("langfuse_secret_key")
    return data


def proxy_env(settings: Settings, secret_keys: list[str]) -> list[dict[str, Any]]:
    env = [_secret_env(key) for key in secret_keys]
    redis_host, redis_port = redis_endpoint(settings)
    if redis_host:
        env += [_value_env("REDIS_HOST", redis_host), _value_env("REDIS_PORT", str(redis_port))]
    username = cache_username(settings)
    if username:
        env.append(_value_env("REDIS_USERNAME", username))
    env += [
        # migrations run in the litellm-migrate Job, before new pods start
        _value_env("DISABLE_SCHEMA_UPDATE", "true"),
        _value_env("LITELLM_MIGRATION_DIR", MIGRATION_DIR),
        _value_env("UI_USERNAME", settings.sso.ui_username),
    ]
    url = public_url(settings)
    if url:
        env.append(_value_env("PROXY_BASE_URL", url))
    oidc = settings.sso.oidc if settings.sso.type == "oidc" else None
    if oidc is not None:
        env.append(_value_env("GENERIC_CLIENT_ID", oidc.client_id))
        env += [_value_env(k, v) for k, v in oidc.endpoints().items()]
        env.append(_value_env("GENERIC_SCOPE", oidc.scope))
    tracing = settings.observability.tracing
    if tracing is not None:
        env += [
            _value_env("OTEL_EXPORTER", "otlp_grpc" if tracing.protocol == "grpc" else "otlp_http"),
            _value_env("OTEL_ENDPOINT", tracing.endpoint),
            _value_env("OTEL_SERVICE_NAME", tracing.service_name),
        ]
    if settings.observability.langfuse is not None:
        env.append(_value_env("LANGFUSE_HOST", settings.observability.langfuse.host))
    health_port = settings.litellm.scaling.separate_health_port
    if health_port is not None:
        env += [_value_env("SEPARATE_HEALTH_APP", "1"), _value_env("SEPARATE_HEALTH_PORT", str(health_port))]
    return env


def litellm_app(settings: Settings, pins: Versions, deps: tuple[str, ...]) -> App:
    ns = settings.litellm.namespace
    redis_host, redis_port = redis_endpoint(settings)
    proxy_config = litellm_config.proxy_config(settings, redis_host, redis_port, cache_username(settings))
    config_yaml = to_yaml(proxy_config) + "\n"
    data = secret_data(settings)
    refs = litellm_config.secret_refs(settings)
    credential_files = {ref.env: ref.file for ref in refs if ref.file}
    guardrail_files = (
        {f"{litellm_config.TRIMMING_MODULE}.py": static_file("message_trimming.py")}
        if litellm_config.trimming_models(settings)
        else {}
    )
    secrets = [SecretSpec("secret", LITELLM_SECRET, ns, data, labels=labels(LITELLM, "proxy"))]
    metrics = settings.observability.metrics
    if metrics.enabled and metrics.require_auth:
        secrets.append(
            SecretSpec(
                "metrics-auth-secret",
                METRICS_AUTH_SECRET,
                ns,
                {"token": _secret("litellm_master_key")},
                labels=labels(LITELLM, "metrics"),
            )
        )
    scaling = settings.litellm.scaling
    context = {
        "lite": settings.litellm,
        "scaling": scaling,
        "image": image(settings, pins),
        "config_yaml": config_yaml,
        # the guardrail code is config too: a change of either rolls the pods
        "config_checksum": hashlib.sha256((config_yaml + "".join(guardrail_files.values())).encode()).hexdigest(),
        "env": proxy_env(settings, [k for k in data if k not in credential_files]),
        "credential_files": credential_files,
        "credential_files_dir": CREDENTIAL_FILES_DIR,
        "guardrail_files": guardrail_files,
        "guardrails_dir": f"/app/{litellm_config.GUARDRAILS_DIR}",
        "labels": labels(LITELLM, "proxy"),
        "selector": selector(LITELLM, "proxy"),
        "port": LITELLM_PORT,
        "config_name": LITELLM_CONFIG,
        "secret_name": LITELLM_SECRET,
    }
    manifests = [
        Manifest("configmap.yaml", "apps/litellm/configmap.yaml.j2", context),
        *(
            [Manifest("guardrails-configmap.yaml", "apps/litellm/guardrails-configmap.yaml.j2", context)]
            if guardrail_files
            else []
        ),
        Manifest("serviceaccount.yaml", "apps/litellm/serviceaccount.yaml.j2", context),
        Manifest("deployment.yaml", "apps/litellm/deployment.yaml.j2", context),
        Manifest("service.yaml", "apps/litellm/service.yaml.j2", context),
    ]
    if scaling.autoscaling.enabled:
        manifests.append(Manifest("hpa.yaml", "apps/litellm/hpa.yaml.j2", context))
    min_replicas = scaling.autoscaling.min_replicas if scaling.autoscaling.enabled else settings.litellm.replicas
    if min_replicas > 1 and scaling.pdb_min_available > 0:
        manifests.append(Manifest("pdb.yaml", "apps/litellm/pdb.yaml.j2", context))
    manifests += monitoring.litellm_monitoring(settings, context)
    manifests += exposure_manifests(settings, context, in_gateway_namespace=False)
    return App(LITELLM, ns, manifests=tuple(manifests), secrets=tuple(secrets), depends_on=deps, timeout="10m")


def route_in_gateway_namespace(settings: Settings) -> bool:
    gateway = settings.exposure.gateway
    return settings.exposure.type == "gateway" and gateway is not None and gateway.route_in_gateway_namespace


def exposure_manifests(settings: Settings, context: dict[str, Any], *, in_gateway_namespace: bool) -> list[Manifest]:
    """The route or Ingress; with the route in the gateway's namespace, LiteLLM's side gets a ReferenceGrant."""
    exposure = settings.exposure
    ctx = {
        **context,
        "exposure": exposure,
        "hostname": hostname(settings),
        "litellm_namespace": settings.litellm.namespace,
    }
    if exposure.type == "ingress" and not in_gateway_namespace:
        return [Manifest("ingress.yaml", "apps/litellm/ingress.yaml.j2", ctx)]
    if exposure.type != "gateway":
        return []
    elsewhere = route_in_gateway_namespace(settings)
    if in_gateway_namespace:
        return [Manifest("httproute.yaml", "apps/litellm/httproute.yaml.j2", ctx)] if elsewhere else []
    if elsewhere:
        return [Manifest("referencegrant.yaml", "apps/litellm/referencegrant.yaml.j2", ctx)]
    return [Manifest("httproute.yaml", "apps/litellm/httproute.yaml.j2", ctx)]


def route_app(settings: Settings, pins: Versions) -> App | None:
    """The HTTPRoute, when it lives in the gateway's namespace (which another stack owns)."""
    if not route_in_gateway_namespace(settings):
        return None
    gateway = settings.exposure.gateway
    assert gateway is not None  # noqa: S101 - checked by route_in_gateway_namespace
    context = {"port": LITELLM_PORT, "labels": labels(LITELLM, "route")}
    manifests = exposure_manifests(settings, context, in_gateway_namespace=True)
    return App(ROUTE_APP, gateway.namespace, manifests=tuple(manifests), depends_on=(LITELLM,), owns_namespace=False)


def migration_app(settings: Settings, pins: Versions, deps: tuple[str, ...]) -> App:
    """A Job that migrates the database schema; its name changes with what it runs, so Flux runs it once
    per version (a Job cannot be changed in place) and prunes the previous one."""
    ns = settings.litellm.namespace
    secret = SecretSpec(
        "migrate-secret",
        MIGRATE_APP,
        ns,
        {litellm_config.DATABASE_URL_ENV: database_url(settings, direct=True)},
        labels=labels(MIGRATE_APP, "migration"),
    )
    spec = {"image": image(settings, pins), "resources": settings.litellm.resources.model_dump(exclude_none=True)}
    digest = hashlib.sha256(to_yaml(spec).encode()).hexdigest()[:10]
    context = {
        "lite": settings.litellm,
        "image": spec["image"],
        "job_name": f"{MIGRATE_APP}-{digest}",
        "secret_name": MIGRATE_APP,
        "migration_dir": MIGRATION_DIR,
        "labels": labels(MIGRATE_APP, "migration"),
    }
    return App(
        MIGRATE_APP,
        ns,
        manifests=(Manifest("job.yaml", "apps/litellm/migration-job.yaml.j2", context, hook="pre-sync"),),
        secrets=(secret,),
        depends_on=deps,
        timeout="15m",
    )
