"""Rules that span several settings: checked once the shape of every setting is right."""

from __future__ import annotations

from dataclasses import dataclass

from generator.litellm.providers import PROVIDERS
from generator.settings.diagnostics import suggest
from generator.settings.models import Settings
from generator.yamlsource import KeyPath


@dataclass(frozen=True)
class RuleProblem:
    path: KeyPath
    message: str
    at_key: bool = False


def model_ids(settings: Settings) -> list[str]:
    """The deployment id of every model: its own, else its name, else name-N when names repeat."""
    counts: dict[str, int] = {}
    for model in settings.models:
        counts[model.name] = counts.get(model.name, 0) + 1
    seen: dict[str, int] = {}
    ids = []
    for model in settings.models:
        if model.id is not None:
            ids.append(model.id)
            continue
        if counts[model.name] == 1:
            ids.append(model.name)
        else:
            seen[model.name] = seen.get(model.name, 0) + 1
            ids.append(f"{model.name}-{seen[model.name]}")
    return ids


def check(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    problems += _check_models(settings)
    problems += _check_router(settings)
    if settings.cache.type == "none" and settings.litellm.litellm_settings.cache:
        problems.append(
            RuleProblem(
                ("litellm", "litellm_settings", "cache"),
                "response caching needs a cache backend: set cache.type, or set this to false",
            )
        )
    if settings.cache.type == "external" and settings.cache.host is None and settings.cache.sentinel is None:
        problems.append(RuleProblem(("cache",), "an external cache needs `host` or `sentinel`", at_key=True))
    return problems


def _check_models(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    first_index: dict[str, int] = {}
    for index, (model, model_id) in enumerate(zip(settings.models, model_ids(settings), strict=True)):
        at = ("models", index)
        if model_id in first_index:
            problems.append(
                RuleProblem(
                    (*at, "id") if model.id else (*at, "name"),
                    f"duplicate model id '{model_id}' (also models[{first_index[model_id]}]); "
                    "give each deployment a unique `id`",
                )
            )
        else:
            first_index[model_id] = index
        spec = PROVIDERS[model.provider]
        if spec.key == "required" and model.credential is None:
            problems.append(
                RuleProblem(
                    at,
                    f"provider {model.provider} needs an API key: set `credential` to a key of the secrets file",
                )
            )
        if spec.key == "none" and model.credential is not None:
            problems.append(RuleProblem((*at, "credential"), f"provider {model.provider} takes no API key; remove it"))
        hint = f" ({spec.hint})" if spec.hint else ""
        if spec.api_base and model.api_base is None:
            problems.append(RuleProblem(at, f"provider {model.provider} needs `api_base`{hint}"))
        if spec.api_version and model.api_version is None:
            problems.append(RuleProblem(at, f"provider {model.provider} needs `api_version`, e.g. 2025-01-01-preview"))
        if spec.region and model.region is None:
            problems.append(RuleProblem(at, f"provider {model.provider} needs `region`"))
        if spec.project and model.project is None:
            problems.append(RuleProblem(at, f"provider {model.provider} needs `project`"))
        if not spec.region and model.region is not None:
            problems.append(RuleProblem((*at, "region"), f"provider {model.provider} takes no `region`"))
        if not spec.project and model.project is not None:
            problems.append(RuleProblem((*at, "project"), f"provider {model.provider} takes no `project`"))
        if model.model.startswith(spec.prefix):
            problems.append(
                RuleProblem(
                    (*at, "model"),
                    f"write the upstream model without the '{spec.prefix}' prefix; "
                    "clusterforge adds it from `provider`",
                )
            )
    return problems


def _check_router(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    names = sorted({m.name for m in settings.models})
    router = settings.litellm.router_settings
    aliases = set(router.model_group_alias)

    def known(name: str, path: KeyPath, at_key: bool = False) -> None:
        if name not in names and name not in aliases:
            problems.append(RuleProblem(path, f"no model is named '{name}'{suggest(name, names)}", at_key))

    base = ("litellm", "router_settings")
    for field in ("fallbacks", "context_window_fallbacks"):
        for group, targets in getattr(router, field).items():
            known(group, (*base, field, group), at_key=True)
            for index, target in enumerate(targets):
                known(target, (*base, field, group, index))
    for alias, target in router.model_group_alias.items():
        name = target if isinstance(target, str) else target.model
        path = (
            (*base, "model_group_alias", alias)
            if isinstance(target, str)
            else (*base, "model_group_alias", alias, "model")
        )
        if name not in names:
            problems.append(RuleProblem(path, f"no model is named '{name}'{suggest(name, names)}"))
        if alias in names:
            problems.append(
                RuleProblem((*base, "model_group_alias", alias), f"'{alias}' is already a model name", True)
            )
    return problems
