"""Rules that span several settings: checked once the shape of every setting is right."""

from __future__ import annotations

from generator.litellm import rules as litellm_rules
from generator.settings.models import Settings
from generator.settings.rule import RuleProblem


def check(settings: Settings) -> list[RuleProblem]:
    problems = list(litellm_rules.check(settings))
    if settings.cache.type == "none" and settings.litellm.litellm_settings.cache:
        problems.append(
            RuleProblem(
                ("litellm", "litellm_settings", "cache"),
                "response caching needs a cache backend: set cache.type, or set this to false",
            )
        )
    if settings.cache.type == "external" and settings.cache.host is None and settings.cache.sentinel is None:
        problems.append(RuleProblem(("cache",), "an external cache needs `host` or `sentinel`", at_key=True))
    problems += _secrets(settings)
    return problems


def _secrets(settings: Settings) -> list[RuleProblem]:
    secrets = settings.secrets
    problems: list[RuleProblem] = []
    needs = {"sealed-secrets": "sealed", "external-secrets": "external"}
    for provider, section in needs.items():
        given = getattr(secrets, section) is not None
        if secrets.provider == provider and not given:
            problems.append(
                RuleProblem(("secrets", "provider"), f"provider {provider} needs a `secrets.{section}` section")
            )
        if secrets.provider != provider and given:
            problems.append(
                RuleProblem(("secrets", section), f"`{section}` is for provider {provider}; remove it", at_key=True)
            )
    for index, model in enumerate(settings.models):
        backend = model.backend
        if backend is not None and backend.api_key_secret is not None and model.credential is None:
            problems.append(
                RuleProblem(
                    ("models", index, "backend", "api_key_secret"),
                    "the server's key Secret is made from the model's `credential`: set one",
                    at_key=True,
                )
            )
    return problems
