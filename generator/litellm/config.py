"""The proxy's config.yaml, built from the typed settings.

Only keys LiteLLM reads are written, none of them null: LiteLLM ignores unknown keys
silently and refuses some nulls, so what is here is exactly what the proxy will do.
"""

from __future__ import annotations

from typing import Any

from generator.litellm.deployments import credential_api_base, model_api_base, model_ids, shared_credential
from generator.litellm.providers import PROVIDERS, SecretRef, credential_refs
from generator.settings.models import Credential, Model, Settings

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
SALT_KEY_ENV = "LITELLM_SALT_KEY"
DATABASE_URL_ENV = "DATABASE_URL"
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"
REDIS_SENTINEL_PASSWORD_ENV = "REDIS_SENTINEL_PASSWORD"

TRIMMING_GUARDRAIL = "message-trimming"
GUARDRAILS_DIR = "custom_guardrails"  # beside config.yaml: LiteLLM imports custom guardrails relative to it
TRIMMING_MODULE = "message_trimming"
TRIMMING_CLASS = "MessageTrimmingGuardrail"


def _env(name: str) -> str:
    return f"os.environ/{name}"


def _region_params(provider: str, region: str | None, project: str | None) -> dict[str, Any]:
    if provider == "bedrock":
        return {"aws_region_name": region}
    if provider == "vertex_ai":
        return {"vertex_project": project, "vertex_location": region}
    return {}


def _present(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def model_entry(settings: Settings, model: Model, model_id: str) -> dict[str, Any]:
    spec = PROVIDERS[model.provider]
    params: dict[str, Any] = {"model": spec.prefix + model.model}
    cred = shared_credential(settings, model)
    if cred is not None:
        params["litellm_credential_name"] = cred.name
    elif model.credential is not None:
        params.update({ref.param: ref.value for ref in credential_refs(model.provider, model.credential)})
    params.update(
        _present(
            {
                "api_base": model_api_base(model),
                "api_version": model.api_version,
                **_region_params(model.provider, model.region, model.project),
                "rpm": model.rpm,
                "tpm": model.tpm,
                "timeout": model.timeout,
                "stream_timeout": model.stream_timeout,
                "input_type": model.input_type,
            }
        )
    )
    if model.tags:
        params["tags"] = list(model.tags)
    if model.message_trimming:
        params["guardrails"] = [TRIMMING_GUARDRAIL]
    info: dict[str, Any] = {"id": model_id}
    info.update(
        _present(
            {
                "mode": model.mode,
                "base_model": model.base_model,
                "max_input_tokens": model.max_input_tokens,
                "health_check_voice": model.health_check_voice,
            }
        )
    )
    if model.access_groups:
        info["access_groups"] = list(model.access_groups)
    if model.disable_background_health_check:
        info["disable_background_health_check"] = True
    return {"model_name": model.name, "litellm_params": params, "model_info": info}


def credential_entry(credential: Credential) -> dict[str, Any]:
    values: dict[str, Any] = {ref.param: ref.value for ref in credential_refs(credential.provider, credential.name)}
    values.update(
        _present(
            {
                "api_base": credential_api_base(credential),
                "api_version": credential.api_version,
                **_region_params(credential.provider, credential.region, credential.project),
            }
        )
    )
    # LiteLLM refuses to start when credential_info is missing, even empty
    return {"credential_name": credential.name, "credential_values": values, "credential_info": {}}


def cache_params(settings: Settings, redis_host: str | None, redis_port: int, username: str | None) -> dict[str, Any]:
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
    if username:
        params["username"] = username
    if cache.type == "external" and cache.tls:
        params["ssl"] = True
    params.update({"namespace": typed.namespace, "ttl": typed.ttl, "mode": typed.mode})
    return params


def trimming_models(settings: Settings) -> dict[str, int]:
    """model name -> input token limit, for every model the trimming guardrail is on for."""
    return {m.name: m.max_input_tokens for m in settings.models if m.message_trimming and m.max_input_tokens}


def guardrails(settings: Settings) -> list[dict[str, Any]]:
    limits = trimming_models(settings)
    if not limits:
        return []
    return [
        {
            "guardrail_name": TRIMMING_GUARDRAIL,
            "litellm_params": {
                "guardrail": f"{GUARDRAILS_DIR}.{TRIMMING_MODULE}.{TRIMMING_CLASS}",
                "mode": "pre_call",
                # on only for the models that list it in litellm_params.guardrails
                "default_on": False,
                "trim_ratio": settings.litellm.message_trimming.trim_ratio,
                "max_input_tokens": dict(sorted(limits.items())),
            },
        }
    ]


def callbacks(settings: Settings) -> list[str]:
    observability = settings.observability
    names = []
    if observability.metrics.enabled:
        names.append("prometheus")
    if observability.tracing is not None:
        names.append("otel")
    if observability.langfuse is not None:
        names.append("langfuse")
    return names


def proxy_config(
    settings: Settings, redis_host: str | None, redis_port: int, cache_username: str | None = None
) -> dict[str, Any]:
    lite = settings.litellm
    general: dict[str, Any] = {"master_key": _env(MASTER_KEY_ENV)}
    general.update(lite.general_settings.model_dump(exclude_none=True))

    litellm_settings: dict[str, Any] = lite.litellm_settings.model_dump(exclude={"cache", "cache_params"})
    if lite.litellm_settings.cache:
        litellm_settings["cache"] = True
        litellm_settings["cache_params"] = cache_params(settings, redis_host, redis_port, cache_username)
    if callbacks(settings):
        litellm_settings["callbacks"] = callbacks(settings)
    metrics = settings.observability.metrics
    if metrics.enabled:
        # Redis and PostgreSQL health as metrics too
        litellm_settings["service_callback"] = ["prometheus_system"]
        # without this, /metrics wants a key; it is kept off the route and limited by network policy instead
        litellm_settings["require_auth_for_metrics_endpoint"] = metrics.require_auth

    router = lite.router_settings
    router_settings: dict[str, Any] = {
        "routing_strategy": router.routing_strategy,
        "enable_pre_call_checks": router.enable_pre_call_checks,
    }
    router_settings.update(
        _present(
            {
                "num_retries": router.num_retries,
                "timeout": router.timeout,
                "allowed_fails": router.allowed_fails,
                "cooldown_time": router.cooldown_time,
            }
        )
    )
    if router.fallbacks:
        router_settings["fallbacks"] = [{k: list(v)} for k, v in router.fallbacks.items()]
    if router.context_window_fallbacks:
        router_settings["context_window_fallbacks"] = [{k: list(v)} for k, v in router.context_window_fallbacks.items()]
    if router.model_group_alias:
        router_settings["model_group_alias"] = {
            alias: target if isinstance(target, str) else target.model_dump()
            for alias, target in router.model_group_alias.items()
        }
    config: dict[str, Any] = {
        "model_list": [model_entry(settings, m, i) for m, i in zip(settings.models, model_ids(settings), strict=True)]
    }
    if settings.credentials:
        config["credential_list"] = [credential_entry(c) for c in settings.credentials]
    if guardrails(settings):
        config["guardrails"] = guardrails(settings)
    config.update(
        {"general_settings": general, "litellm_settings": litellm_settings, "router_settings": router_settings}
    )
    return config


def secret_refs(settings: Settings) -> list[SecretRef]:
    """Every credential secret the proxy reads, each once, by its key in litellm-secret."""
    refs: dict[str, SecretRef] = {}
    for cred in settings.credentials:
        for ref in credential_refs(cred.provider, cred.name):
            refs.setdefault(ref.env, ref)
    for model in settings.models:
        if model.credential is not None and shared_credential(settings, model) is None:
            for ref in credential_refs(model.provider, model.credential):
                refs.setdefault(ref.env, ref)
    return [refs[k] for k in sorted(refs)]
