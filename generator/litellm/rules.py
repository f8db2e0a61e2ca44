"""LiteLLM accepts almost anything and fails later; these rules refuse it at configure time.

Each rule names the setting to fix and, where there is one, the fix.
"""

from __future__ import annotations

from generator.errors import KeyPath
from generator.litellm.deployments import (
    chat_audio,
    credential_api_base,
    model_api_base,
    model_ids,
    realtime,
    shared_credential,
)
from generator.litellm.providers import PROVIDERS
from generator.settings.diagnostics import suggest
from generator.settings.models import Model, Settings
from generator.settings.rule import RuleProblem

BACKEND_PROVIDERS = ("hosted_vllm", "ollama", "openai")
HEALTH_CHECK_POOL_FLOOR = 20


def check(settings: Settings) -> list[RuleProblem]:
    return [*_credentials(settings), *_models(settings), *_router(settings), *_health_checks(settings)]


def _credentials(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    seen: dict[str, int] = {}
    used = {m.credential for m in settings.models}
    for index, cred in enumerate(settings.credentials):
        at: KeyPath = ("credentials", index)
        if cred.name in seen:
            problems.append(
                RuleProblem((*at, "name"), f"credential '{cred.name}' is also credentials[{seen[cred.name]}]")
            )
        seen.setdefault(cred.name, index)
        spec = PROVIDERS[cred.provider]
        if spec.key == "none":
            problems.append(RuleProblem((*at, "provider"), f"provider {cred.provider} takes no API key"))
        if cred.resource is not None and cred.provider != "azure":
            problems.append(RuleProblem((*at, "resource"), "`resource` is for provider azure only"))
        if cred.resource is not None and cred.api_base is not None:
            problems.append(RuleProblem((*at, "resource"), "set `resource` or `api_base`, not both"))
        if cred.name not in used:
            problems.append(RuleProblem((*at, "name"), f"no model uses credential '{cred.name}'", warning=True))
    return problems


def _models(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    first: dict[str, int] = {}
    for index, (model, model_id) in enumerate(zip(settings.models, model_ids(settings), strict=True)):
        at: KeyPath = ("models", index)
        if model_id in first:
            problems.append(
                RuleProblem(
                    (*at, "id") if model.id else (*at, "name"),
                    f"duplicate model id '{model_id}' (also models[{first[model_id]}]); "
                    "give each deployment a unique `id`",
                )
            )
        else:
            first[model_id] = index
        problems += _provider_needs(settings, model, at)
        problems += _model_shape(model, at)
        problems += _health_check_needs(model, at)
    return problems


def _provider_needs(settings: Settings, model: Model, at: KeyPath) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    spec = PROVIDERS[model.provider]
    cred = shared_credential(settings, model)
    if cred is not None and cred.provider != model.provider:
        problems.append(
            RuleProblem(
                (*at, "credential"), f"credential '{cred.name}' is for provider {cred.provider}, not {model.provider}"
            )
        )
    if spec.key == "required" and model.credential is None:
        problems.append(
            RuleProblem(
                at, f"provider {model.provider} needs an API key: set `credential` to a key of the secrets file"
            )
        )
    if spec.key == "none" and model.credential is not None:
        problems.append(RuleProblem((*at, "credential"), f"provider {model.provider} takes no API key; remove it"))
    hint = f" ({spec.hint})" if spec.hint else ""
    api_base = model_api_base(model) or (credential_api_base(cred) if cred else None)
    if spec.api_base and api_base is None:
        what = "`api_base` or `resource`" if model.provider == "azure" else "`api_base` or `backend`"
        problems.append(RuleProblem(at, f"provider {model.provider} needs {what}{hint}"))
    if spec.api_version and model.api_version is None and (cred is None or cred.api_version is None):
        problems.append(RuleProblem(at, f"provider {model.provider} needs `api_version`, e.g. 2025-01-01-preview"))
    for field, needed in (("region", spec.region), ("project", spec.project)):
        own = getattr(model, field)
        shared = getattr(cred, field) if cred else None
        if needed and own is None and shared is None:
            problems.append(RuleProblem(at, f"provider {model.provider} needs `{field}`"))
        if not needed and own is not None:
            problems.append(RuleProblem((*at, field), f"provider {model.provider} takes no `{field}`"))
    if model.resource is not None and model.provider != "azure":
        problems.append(RuleProblem((*at, "resource"), "`resource` is for provider azure only"))
    if model.backend is not None and model.provider not in BACKEND_PROVIDERS:
        problems.append(
            RuleProblem(
                (*at, "backend"), f"`backend` is for in-cluster servers: providers {', '.join(BACKEND_PROVIDERS)}"
            )
        )
    given = [name for name in ("api_base", "backend", "resource") if getattr(model, name) is not None]
    if len(given) > 1:
        problems.append(
            RuleProblem((*at, given[1]), f"set one of `{given[0]}` and `{given[1]}`, not both", at_key=True)
        )
    if model.provider == "cohere" and api_base is not None and ".azure.com" in api_base:
        problems.append(
            RuleProblem(
                (*at, "provider"),
                "Cohere models hosted on Azure AI 404 with the cohere/ prefix: use provider azure_ai",
            )
        )
    return problems


def _model_shape(model: Model, at: KeyPath) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    spec = PROVIDERS[model.provider]
    prefixes = sorted({p.prefix for p in PROVIDERS.values()} | {"vertexai/", "azure_openai/"})
    prefix = next((p for p in prefixes if model.model.startswith(p)), None)
    if prefix is not None:
        how = "clusterforge adds it from `provider`" if prefix == spec.prefix else f"the provider is `{model.provider}`"
        problems.append(RuleProblem((*at, "model"), f"write the upstream model without the '{prefix}' prefix; {how}"))
    backend = model.backend
    if backend is not None and (backend.predictor is None) == (backend.service is None):
        problems.append(RuleProblem((*at, "backend"), "name the server with one of `predictor` or `service`"))
    if model.input_type is not None and model.mode != "embedding":
        problems.append(RuleProblem((*at, "input_type"), "`input_type` is for embedding models (mode: embedding)"))
    if model.message_trimming:
        if model.max_input_tokens is None:
            problems.append(
                RuleProblem(
                    (*at, "message_trimming"),
                    "the trimming guardrail needs the model's limit: set `max_input_tokens`",
                )
            )
        if model.mode not in (None, "chat"):
            problems.append(RuleProblem((*at, "message_trimming"), "message trimming is for chat models"))
    return problems


def _health_check_needs(model: Model, at: KeyPath) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    fix = "add `disable_background_health_check: true`"
    if realtime(model) and not model.disable_background_health_check:
        problems.append(RuleProblem(at, f"realtime models cannot be health-checked in the background; {fix}"))
    elif chat_audio(model) and model.mode in (None, "chat") and not model.disable_background_health_check:
        problems.append(RuleProblem(at, f"audio chat models have no background health check mode in LiteLLM; {fix}"))
    if model.mode == "audio_speech" and chat_audio(model):
        problems.append(
            RuleProblem(
                (*at, "mode"),
                f"{model.model} is a chat model with audio modalities, not text to speech: use mode chat and {fix}",
            )
        )
    elif (
        model.mode == "audio_speech" and model.health_check_voice is None and not model.disable_background_health_check
    ):
        problems.append(
            RuleProblem(
                at, f"text-to-speech health checks need a voice: set `health_check_voice` (e.g. alloy) or {fix}"
            )
        )
    if model.health_check_voice is not None and model.mode != "audio_speech":
        problems.append(RuleProblem((*at, "health_check_voice"), "`health_check_voice` is for mode audio_speech"))
    return problems


def _router(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    names = sorted({m.name for m in settings.models})
    router = settings.litellm.router_settings
    aliases = set(router.model_group_alias)

    def known(name: str, path: KeyPath, at_key: bool = False) -> None:
        if name not in names and name not in aliases:
            problems.append(RuleProblem(path, f"no model is named '{name}'{suggest(name, names)}", at_key))

    base: KeyPath = ("litellm", "router_settings")
    for field in ("fallbacks", "context_window_fallbacks"):
        for group, targets in getattr(router, field).items():
            known(group, (*base, field, group), at_key=True)
            for index, target in enumerate(targets):
                known(target, (*base, field, group, index))
    for alias, target in router.model_group_alias.items():
        name = target if isinstance(target, str) else target.model
        path = (*base, "model_group_alias", alias) + (() if isinstance(target, str) else ("model",))
        if name not in names:
            problems.append(RuleProblem(path, f"no model is named '{name}'{suggest(name, names)}"))
        if alias in names:
            problems.append(
                RuleProblem((*base, "model_group_alias", alias), f"'{alias}' is already a model name", True)
            )
    return problems


def _health_checks(settings: Settings) -> list[RuleProblem]:
    general = settings.litellm.general_settings
    limit = general.database_connection_pool_limit
    if general.background_health_checks and limit < HEALTH_CHECK_POOL_FLOOR:
        return [
            RuleProblem(
                ("litellm", "general_settings", "background_health_checks"),
                f"background health checks with database_connection_pool_limit {limit} "
                "exhausted the Prisma pool in the seeds (httpcore.ConnectTimeout); raise the limit to at least "
                f"{HEALTH_CHECK_POOL_FLOOR} or turn them off",
                warning=True,
            )
        ]
    return []
