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
    return problems
