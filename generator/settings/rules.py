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
    problems += _gitops(settings)
    problems += _platform(settings)
    problems += _pool_size(settings)
    return problems


def _gitops(settings: Settings) -> list[RuleProblem]:
    gitops = settings.gitops
    if gitops.engine != "argocd":
        if "argocd" in gitops.model_fields_set:
            return [RuleProblem(("gitops", "argocd"), "`argocd` is for engine argocd; remove it", at_key=True)]
        return []
    problems: list[RuleProblem] = []
    if gitops.argocd.project == "default":
        problems.append(
            RuleProblem(
                ("gitops", "argocd", "project"),
                "the default project is ArgoCD's own and allows everything; name a project clusterforge may manage",
            )
        )
    return problems


def _platform(settings: Settings) -> list[RuleProblem]:
    problems: list[RuleProblem] = []
    exposure = settings.exposure
    for kind in ("gateway", "ingress"):
        if exposure.type == kind and getattr(exposure, kind) is None:
            problems.append(
                RuleProblem(("exposure", "type"), f"exposure type {kind} needs an `exposure.{kind}` section")
            )
    metrics = settings.observability.metrics
    if exposure.type == "ingress" and metrics.enabled and not metrics.require_auth:
        problems.append(
            RuleProblem(
                ("exposure", "type"),
                "an Ingress cannot keep /metrics inside the cluster: set observability.metrics.require_auth: true, "
                "or use a gateway (its route answers /metrics with an error)",
            )
        )
    sso = settings.sso
    if sso.type == "oidc" and sso.oidc is None:
        problems.append(RuleProblem(("sso", "type"), "sso type oidc needs an `sso.oidc` section"))
    if sso.type == "oidc" and exposure.type == "none":
        problems.append(
            RuleProblem(("sso", "type"), "single sign-on redirects browsers back to LiteLLM: set `exposure` first")
        )
    if sso.type == "none" and sso.oidc is not None:
        problems.append(RuleProblem(("sso", "oidc"), "`oidc` is for sso type oidc; remove it", at_key=True))
    scaling = settings.litellm.scaling
    auto = scaling.autoscaling
    if auto.enabled and auto.min_replicas > auto.max_replicas:
        problems.append(
            RuleProblem(
                ("litellm", "scaling", "autoscaling", "min_replicas"),
                f"must be at most max_replicas ({auto.max_replicas})",
            )
        )
    least = auto.min_replicas if auto.enabled else settings.litellm.replicas
    if least > 1 and scaling.pdb_min_available >= least:
        problems.append(
            RuleProblem(
                ("litellm", "scaling", "pdb_min_available"),
                f"with {least} replicas a budget of {scaling.pdb_min_available} blocks every drain; "
                f"use at most {least - 1}",
            )
        )
    cache = settings.cache
    namespace = settings.litellm.litellm_settings.cache_params.namespace
    if cache.type == "dragonfly" and cache.acl and not (namespace == "litellm" or namespace.startswith("litellm:")):
        problems.append(
            RuleProblem(
                ("litellm", "litellm_settings", "cache_params", "namespace"),
                f"the cache ACL allows litellm:* keys only; '{namespace}' would be refused: use litellm",
            )
        )
    return problems


def _pool_size(settings: Settings) -> list[RuleProblem]:
    """The seeds' rule: every worker of every pod holds a Prisma pool; together they must fit the database."""
    db = settings.database
    if db.type != "cloudnative-pg":
        return []
    lite = settings.litellm
    auto = lite.scaling.autoscaling
    replicas = auto.max_replicas if auto.enabled else lite.replicas
    limit = lite.general_settings.database_connection_pool_limit
    total = limit * lite.workers * replicas
    kind = "max replica(s)" if auto.enabled else "replica(s)"
    how = f"pool limit {limit} x {lite.workers} worker(s) x {replicas} {kind} = {total}"
    if db.pooler.enabled:
        if total > db.pooler.max_client_conn:
            return [
                RuleProblem(
                    ("litellm", "general_settings", "database_connection_pool_limit"),
                    f"database connections: {how} exceeds the pooler's max_client_conn {db.pooler.max_client_conn}; "
                    "lower the pool limit, workers or replicas, or raise database.pooler.max_client_conn",
                )
            ]
        return []
    maximum = int(db.parameters.get("max_connections", "100"))
    usable = maximum - 3  # superuser_reserved_connections
    if total > usable:
        return [
            RuleProblem(
                ("litellm", "general_settings", "database_connection_pool_limit"),
                f"database connections: {how} exceeds max_connections {maximum} - 3 reserved = {usable}; "
                "lower the pool limit, workers or replicas, raise max_connections, or enable the pooler",
            )
        ]
    return []


def _secrets(settings: Settings) -> list[RuleProblem]:
    secrets = settings.secrets
    problems: list[RuleProblem] = []
    needs = {"sealed-secrets": "sealed", "external-secrets": "external"}
    for provider, section in needs.items():
        given = getattr(secrets, section) is not None
        if secrets.provider == provider and not given:
            message = f"provider {provider} needs a `secrets.{section}` section"
            if provider == "sealed-secrets" and settings.gitops.engine == "argocd":
                message += " (the default with engine argocd; or set provider: external-secrets, or sops for KSOPS)"
            problems.append(RuleProblem(("secrets", "provider"), message))
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
