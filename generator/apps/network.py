"""Network policies: deny by default in the namespaces clusterforge owns, then allow exactly the
traffic the stack needs. With Cilium, LiteLLM's egress to providers is by DNS name (toFQDNs);
with any other CNI it is port 443 to addresses outside the private ranges."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from generator.apps.cache import cache_namespace
from generator.apps.database import POSTGRES_PORT, uses_pooler
from generator.apps.names import (
    CACHE_NAME,
    CNPG_NAMESPACE,
    DATABASE_CLUSTER,
    DATABASE_POOLER,
    DRAGONFLY_NAMESPACE,
    LITELLM,
    LITELLM_PORT,
    MIGRATE_APP,
    REDIS_PORT,
)
from generator.litellm.deployments import credential_api_base, model_api_base, shared_credential
from generator.settings.models import Settings
from generator.stack import Manifest, selector

PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16")
NAMESPACE_LABEL = "kubernetes.io/metadata.name"

# where each provider's API lives, for Cilium toFQDNs
PROVIDER_HOSTS: dict[str, tuple[str, ...]] = {
    "openai": ("api.openai.com",),
    "anthropic": ("api.anthropic.com",),
    "mistral": ("api.mistral.ai",),
    "groq": ("api.groq.com",),
    "cohere": ("api.cohere.com", "api.cohere.ai"),
    "azure": ("*.openai.azure.com",),
    "azure_ai": ("*.services.ai.azure.com", "*.models.ai.azure.com", "*.inference.ai.azure.com"),
}


def _ns(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: name}}}


def _pods(labels: dict[str, str], namespace: str | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": labels}}
    if namespace is not None:
        peer.update(_ns(namespace))
    return peer


def _ports(*ports: int, protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"protocol": protocol, "port": p} for p in ports]


def _internet(*ports: int) -> dict[str, Any]:
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}], "ports": _ports(*ports)}


def _anywhere(*ports: int) -> dict[str, Any]:
    # the Kubernetes API server has no selector a NetworkPolicy can name: allow its ports anywhere
    return {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _ports(*ports)}


def _policy(
    name: str, namespace: str, pods: dict[str, str], ingress: list[Any] | None, egress: list[Any] | None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": {"matchLabels": pods} if pods else {}, "policyTypes": []}
    if ingress is not None:
        spec["policyTypes"].append("Ingress")
        spec["ingress"] = ingress
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def in_cluster(url: str) -> tuple[str, int] | None:
    """(namespace, port) of a URL that names a Service, e.g. http://tempo.monitoring.svc.cluster.local:4317."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    labels = host.split(".")
    if len(labels) >= 3 and labels[2] == "svc":
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return labels[1], port
    return None


def _external_hosts(settings: Settings) -> tuple[set[str], set[tuple[str, int]]]:
    """Host names LiteLLM calls outside the cluster, and in-cluster (namespace, port) pairs."""
    hosts: set[str] = set(settings.network_policies.extra_egress_hosts)
    internal: set[tuple[str, int]] = set()
    urls: list[str] = []
    for model in settings.models:
        cred = shared_credential(settings, model)
        base = model_api_base(model) or (credential_api_base(cred) if cred else None)
        if base:
            urls.append(base)
        elif model.provider == "bedrock":
            region = model.region or (cred.region if cred else None)
            hosts.add(f"bedrock-runtime.{region}.amazonaws.com")
            hosts.add(f"sts.{region}.amazonaws.com")
        elif model.provider == "vertex_ai":
            region = model.region or (cred.region if cred else None)
            hosts.update({f"{region}-aiplatform.googleapis.com", "oauth2.googleapis.com"})
        else:
            hosts.update(PROVIDER_HOSTS.get(model.provider, ()))
    if settings.observability.tracing is not None:
        urls.append(settings.observability.tracing.endpoint)
    if settings.observability.langfuse is not None:
        urls.append(settings.observability.langfuse.host)
    oidc = settings.sso.oidc if settings.sso.type == "oidc" else None
    if oidc is not None:
        urls.append(oidc.internal_issuer or oidc.external_issuer)
    for url in urls:
        target = in_cluster(url)
        if target is not None:
            internal.add(target)
        else:
            hosts.add(urlsplit(url).hostname or "")
    hosts.discard("")
    return hosts, internal


def _database_egress(settings: Settings) -> list[dict[str, Any]]:
    db = settings.database
    if db.type == "cloudnative-pg":
        target = (
            {"cnpg.io/poolerName": DATABASE_POOLER} if uses_pooler(settings) else {"cnpg.io/cluster": DATABASE_CLUSTER}
        )
        return [{"to": [_pods(target)], "ports": _ports(POSTGRES_PORT)}]
    target_ns = in_cluster(f"postgresql://{db.host}:{db.port}")
    if target_ns is not None:
        return [{"to": [_ns(target_ns[0])], "ports": _ports(db.port)}]
    return [_anywhere(db.port)]


def _cache_egress(settings: Settings) -> list[dict[str, Any]]:
    cache = settings.cache
    if cache.type in ("dragonfly", "valkey"):
        ns = cache_namespace(settings)
        peer = _pods(selector(CACHE_NAME, "cache"), ns if ns != settings.litellm.namespace else None)
        return [{"to": [peer], "ports": _ports(REDIS_PORT)}]
    if cache.type == "external":
        ports = (
            [cache.port]
            if cache.sentinel is None
            else sorted({int(n.rsplit(":", 1)[1]) for n in cache.sentinel.nodes} | {cache.port})
        )
        return [_anywhere(*ports)]
    return []


def namespace_baseline(settings: Settings, namespace: str) -> list[dict[str, Any]]:
    """Deny everything in the namespace, then allow DNS to every pod in it."""
    policies = settings.network_policies
    dns = {
        "to": [_pods(dict(policies.dns_labels), policies.dns_namespace)],
        "ports": [*_ports(53, protocol="UDP"), *_ports(53)],
    }
    return [
        _policy("default-deny", namespace, {}, [], []),
        _policy("allow-dns", namespace, {}, None, [dns]),
    ]


def litellm_policies(settings: Settings) -> list[dict[str, Any]]:
    ns = settings.litellm.namespace
    pods = selector(LITELLM, "proxy")
    exposure = settings.exposure
    ports = [LITELLM_PORT]
    health = settings.litellm.scaling.separate_health_port
    ingress: list[dict[str, Any]] = []
    sources = []
    if exposure.type == "gateway" and exposure.gateway is not None:
        sources.append(_ns(exposure.gateway.namespace))
    if exposure.type == "ingress" and exposure.ingress is not None:
        sources.append(_ns(exposure.ingress.namespace))
    if sources:
        ingress.append({"from": sources, "ports": _ports(*ports)})
    if settings.observability.metrics.enabled:
        ingress.append({"from": [_ns(settings.network_policies.monitoring_namespace)], "ports": _ports(LITELLM_PORT)})
    if health is not None:
        # the kubelet probes from the node; its address is not selectable, so the health port is open in the cluster
        ingress.append({"ports": _ports(health)})
    egress = [*_database_egress(settings), *_cache_egress(settings)]
    hosts, internal = _external_hosts(settings)
    for namespace, port in sorted(internal):
        egress.append({"to": [_ns(namespace)], "ports": _ports(port)})
    for model in settings.models:
        if model.backend is not None:
            egress.append({"to": [_ns(model.backend.namespace)], "ports": _ports(model.backend.port)})
    if hosts and settings.network_policies.cni == "generic":
        egress.append(_internet(443))
    unique = []
    for rule in egress:
        if rule not in unique:
            unique.append(rule)
    return [_policy(LITELLM, ns, pods, ingress, unique)]


def cilium_egress(settings: Settings) -> list[dict[str, Any]]:
    """LiteLLM's egress to providers by name: Cilium resolves them through its DNS proxy."""
    policies = settings.network_policies
    hosts, _ = _external_hosts(settings)
    if policies.cni != "cilium" or not hosts:
        return []
    fqdns = [{"matchPattern": h} if "*" in h else {"matchName": h} for h in sorted(hosts)]
    dns_pods = {f"k8s:{k}": v for k, v in policies.dns_labels.items()}
    dns_pods["k8s:io.kubernetes.pod.namespace"] = policies.dns_namespace
    return [
        {
            "apiVersion": "cilium.io/v2",
            "kind": "CiliumNetworkPolicy",
            "metadata": {"name": f"{LITELLM}-providers", "namespace": settings.litellm.namespace},
            "spec": {
                "endpointSelector": {"matchLabels": selector(LITELLM, "proxy")},
                "egress": [
                    {
                        "toEndpoints": [{"matchLabels": dns_pods}],
                        "toPorts": [
                            {"ports": [{"port": "53", "protocol": "ANY"}], "rules": {"dns": [{"matchPattern": "*"}]}}
                        ],
                    },
                    {"toFQDNs": fqdns, "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
                ],
            },
        }
    ]


def database_policies(settings: Settings) -> list[dict[str, Any]]:
    ns = settings.litellm.namespace
    monitoring = settings.network_policies.monitoring_namespace
    instances = {"cnpg.io/cluster": DATABASE_CLUSTER, "cnpg.io/podRole": "instance"}
    clients = [_pods({"cnpg.io/cluster": DATABASE_CLUSTER}), _pods(selector(MIGRATE_APP, "migration"))]
    if uses_pooler(settings):
        clients.append(_pods({"cnpg.io/poolerName": DATABASE_POOLER}))
    else:
        clients.append(_pods(selector(LITELLM, "proxy")))
    api = _anywhere(443, 6443)
    policies = [
        _policy(
            DATABASE_CLUSTER,
            ns,
            instances,
            [
                {"from": clients, "ports": _ports(POSTGRES_PORT)},
                {"from": [_ns(CNPG_NAMESPACE), _pods({"cnpg.io/cluster": DATABASE_CLUSTER})], "ports": _ports(8000)},
                {"from": [_ns(monitoring)], "ports": _ports(9187)},
            ],
            # replicas stream from the primary; the instance manager talks to the API server; backups go to S3
            [{"to": [_pods({"cnpg.io/cluster": DATABASE_CLUSTER})], "ports": _ports(POSTGRES_PORT, 8000)}, api],
        )
    ]
    if uses_pooler(settings):
        policies.append(
            _policy(
                DATABASE_POOLER,
                ns,
                {"cnpg.io/poolerName": DATABASE_POOLER},
                [
                    {"from": [_pods(selector(LITELLM, "proxy"))], "ports": _ports(POSTGRES_PORT)},
                    {"from": [_ns(CNPG_NAMESPACE)]},
                    {"from": [_ns(monitoring)], "ports": _ports(9127)},
                ],
                [{"to": [_pods(instances)], "ports": _ports(POSTGRES_PORT)}, api],
            )
        )
    return policies


def migration_policies(settings: Settings) -> list[dict[str, Any]]:
    return [
        _policy(
            MIGRATE_APP,
            settings.litellm.namespace,
            selector(MIGRATE_APP, "migration"),
            [],
            _database_egress_direct(settings),
        )
    ]


def _database_egress_direct(settings: Settings) -> list[dict[str, Any]]:
    db = settings.database
    if db.type == "cloudnative-pg":
        return [{"to": [_pods({"cnpg.io/cluster": DATABASE_CLUSTER})], "ports": _ports(POSTGRES_PORT)}]
    return _database_egress(settings)


def cache_policies(settings: Settings) -> list[dict[str, Any]]:
    ns = cache_namespace(settings)
    cache = settings.cache
    pods = selector(CACHE_NAME, "cache")
    litellm = _pods(
        selector(LITELLM, "proxy"), settings.litellm.namespace if ns != settings.litellm.namespace else None
    )
    ingress: list[dict[str, Any]] = [{"from": [litellm], "ports": _ports(REDIS_PORT)}]
    egress: list[dict[str, Any]] = []
    if cache.type == "dragonfly":
        # the operator promotes and points replicas; replicas sync from the master
        ingress.append({"from": [_ns(DRAGONFLY_NAMESPACE)]})
        ingress.append({"from": [_pods(pods)], "ports": _ports(REDIS_PORT)})
        egress.append({"to": [_pods(pods)], "ports": _ports(REDIS_PORT)})
    return [_policy(CACHE_NAME, ns, pods, ingress, egress)]


def manifest(filename: str, docs: list[dict[str, Any]]) -> Manifest:
    return Manifest(filename, "apps/documents.yaml.j2", {"documents": docs})
