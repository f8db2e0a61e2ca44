"""The proxy's config.yaml, built from the typed settings.

Only keys LiteLLM reads are written, none of them null: LiteLLM ignores unknown keys
silently and refuses some nulls, so what is here is exactly what the proxy will do.
"""

from __future__ import annotations

from typing import Any

from generator.litellm.providers import PROVIDERS, credential_refs
from generator.settings.models import Model, Settings
from generator.settings.rules import model_ids

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
SALT_KEY_ENV = "LITELLM_SALT_KEY"
DATABASE_URL_ENV = "DATABASE_URL"
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"
REDIS_SENTINEL_PASSWORD_ENV = "REDIS_SENTINEL_PASSWORD"


def _env(name: str) -> str:
    return f"os.environ/{name}"


def model_entry(model: Model, model_id: str) -> dict[str, Any]:
    spec = PROVIDERS[model.provider]
    params: dict[str, Any] = {"model": spec.prefix + model.model}
    if model.credential is not None:
        for ref in credential_refs(model.provider, model.credential):
            params[ref.param] = _env(ref.env)
    optional_params: dict[str, Any] = {
        "api_base": model.api_base,
        "api_version": model.api_version,
        "rpm": model.rpm,
        "tpm": model.tpm,
        "timeout": model.timeout,
        "stream_timeout": model.stream_timeout,
    }
    if model.provider == "bedrock":
        optional_params["aws_region_name"] = model.region
    if model.provider == "vertex_ai":
        optional_params["vertex_project"] = model.project
        optional_params["vertex_location"] = model.region
    if model.tags:
        optional_params["tags"] = list(model.tags)
    params.update({k: v for k, v in optional_params.items() if v is not None})
    info: dict[str, Any] = {"id": model_id}
    if model.mode is not None:
        info["mode"] = model.mode
    if model.base_model is not None:
        info["base_model"] = model.base_model
    if model.access_groups:
        info["access_groups"] = list(model.access_groups)
    if model.disable_background_health_check:
        info["disable_background_health_check"] = True
    return {"model_name": model.name, "litellm_params": params, "model_info": info}


def cache_params(settings: Settings, redis_host: str | None, redis_port: int) -> dict[str, Any]:
    typed = settings.litellm.litellm_settings.cache_params
    params: dict[str, Any] = {"type": "redis"}
    cache = settings.cache
    if cache.type == "external" and cache.sentinel is not None:
        params["sentinel_nodes"] = [[n.rsplit(":", 1)[0], int(n.rsplit(":", 1)[1])] for n in cache.sentinel.nodes]
        params["service_name"] = cache.sentinel.service_name
        if cache.sentinel.password:
            params["sentinel_password"] = _env(REDIS_SENTINEL_PASSWORD_ENV)
    else:
        params["host"] = redis_host
        params["port"] = redis_port
    if cache.type != "external" or cache.password:
        params["password"] = _env(REDIS_PASSWORD_ENV)
    if cache.type == "external" and cache.username:
        params["username"] = cache.username
    if cache.type == "external" and cache.tls:
        params["ssl"] = True
    params.update({"namespace": typed.namespace, "ttl": typed.ttl, "mode": typed.mode})
    return params


def proxy_config(settings: Settings, redis_host: str | None, redis_port: int) -> dict[str, Any]:
    lite = settings.litellm
    general: dict[str, Any] = {"master_key": _env(MASTER_KEY_ENV)}
    general.update(lite.general_settings.model_dump(exclude_none=True))

    litellm_settings: dict[str, Any] = lite.litellm_settings.model_dump(exclude={"cache", "cache_params"})
    if lite.litellm_settings.cache:
        litellm_settings["cache"] = True
        litellm_settings["cache_params"] = cache_params(settings, redis_host, redis_port)

    router = lite.router_settings
    router_settings: dict[str, Any] = {
        "routing_strategy": router.routing_strategy,
        "enable_pre_call_checks": router.enable_pre_call_checks,
    }
    if router.num_retries is not None:
        router_settings["num_retries"] = router.num_retries
    if router.timeout is not None:
        router_settings["timeout"] = router.timeout
    if router.fallbacks:
        router_settings["fallbacks"] = [{k: list(v)} for k, v in router.fallbacks.items()]
    if router.context_window_fallbacks:
        router_settings["context_window_fallbacks"] = [{k: list(v)} for k, v in router.context_window_fallbacks.items()]
    if router.model_group_alias:
        router_settings["model_group_alias"] = {
            alias: target if isinstance(target, str) else target.model_dump()
            for alias, target in router.model_group_alias.items()
        }
    return {
        "model_list": [model_entry(m, i) for m, i in zip(settings.models, model_ids(settings), strict=True)],
        "general_settings": general,
        "litellm_settings": litellm_settings,
        "router_settings": router_settings,
    }


def credential_envs(settings: Settings) -> dict[str, str]:
    """env var -> secrets-file key, for every provider credential the models read."""
    envs: dict[str, str] = {}
    for model in settings.models:
        if model.credential is None:
            continue
        for ref in credential_refs(model.provider, model.credential):
            envs[ref.env] = ref.secret
    return dict(sorted(envs.items()))
