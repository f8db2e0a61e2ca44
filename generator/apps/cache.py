"""The Redis-compatible cache: a Dragonfly instance (operator), a Valkey StatefulSet, or external."""

from __future__ import annotations

from generator.apps.names import CACHE_APP, CACHE_NAME, CACHE_SECRET, CACHE_USER, DRAGONFLY_OPERATOR, REDIS_PORT
from generator.secrets.values import FromSecret, SecretValue
from generator.settings.models import DragonflyCache, Settings, ValkeyCache
from generator.stack import App, Manifest, SecretSpec, labels, svc
from generator.versions import Versions


def cache_namespace(settings: Settings) -> str:
    cache = settings.cache
    if cache.type == "dragonfly" and cache.namespace:
        return cache.namespace
    return settings.litellm.namespace


def redis_endpoint(settings: Settings) -> tuple[str | None, int]:
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey"):
        return svc(CACHE_NAME, cache_namespace(settings)), REDIS_PORT
    if cache.type == "external":
        return cache.host, cache.port
    return None, REDIS_PORT


def cache_username(settings: Settings) -> str | None:
    cache = settings.cache
    if cache.type == "dragonfly" and cache.acl:
        return CACHE_USER
    if cache.type == "external":
        return cache.username
    return None


def cache_app(settings: Settings, cache: DragonflyCache | ValkeyCache, pins: Versions) -> App:
    ns = cache_namespace(settings)
    cache_labels = labels(CACHE_NAME, "cache")
    if cache.type == "dragonfly":
        image = cache.image or f"docker.dragonflydb.io/dragonflydb/dragonfly:{pins.dragonfly_image_tag}"
        data = {"password": SecretValue.of(FromSecret("cache_password"))}
        if cache.acl:
            # the default user is the operator's and the cache's administrator; LiteLLM gets a user that
            # can touch only its own keys, so one Dragonfly can serve several apps
            data["acl"] = SecretValue.of(
                "user default on >",
                FromSecret("cache_admin_password"),
                f" ~* &* +@all\nuser {CACHE_USER} on >",
                FromSecret("cache_password"),
                f" ~{CACHE_USER}:* &{CACHE_USER}:* +@all\n",
            )
            data["password"] = SecretValue.of(FromSecret("cache_admin_password"))
        return App(
            CACHE_APP,
            ns,
            manifests=(Manifest("dragonfly.yaml", "apps/cache/dragonfly.yaml.j2", {"cache": cache, "image": image}),),
            secrets=(SecretSpec("secret", CACHE_SECRET, ns, data, labels=cache_labels),),
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
        secrets=(SecretSpec("secret", CACHE_SECRET, ns, {"valkey.conf": conf}, labels=cache_labels),),
    )
