"""Settings for what surrounds the proxy: exposure, network policies, observability, SSO,
the database's pooler and backups, and scaling. Each has a safe default: off, or the seeds' choice."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from generator.settings.diagnostics import describe_pattern as _p
from generator.settings.types import DnsLabel, Duration, Hostname, HttpUrl, PositiveInt, Strict

Percent = Annotated[int, Field(ge=1, le=100)]
UrlPath = Annotated[str, StringConstraints(pattern=_p(r"^/([A-Za-z0-9._~-]+/?)*$", "a URL path such as / or /llm"))]
LabelMap = dict[str, str]

# ---------------------------------------------------------------- exposure


class GatewayRef(Strict):
    name: DnsLabel = Field(description="The Gateway (Gateway API) the route attaches to.")
    namespace: DnsLabel
    section_name: DnsLabel | None = Field(None, description="The Gateway listener, e.g. https.")
    route_in_gateway_namespace: bool = Field(
        False,
        description="Put the HTTPRoute in the gateway's namespace (a ReferenceGrant then lets it reach LiteLLM).",
    )


class IngressSettings(Strict):
    class_name: DnsLabel = Field("traefik", description="The IngressClass, e.g. traefik or nginx.")
    namespace: DnsLabel = Field("traefik", description="Where the ingress controller runs (for network policies).")
    annotations: LabelMap = Field(default_factory=dict)
    tls_secret: DnsLabel | None = Field(
        None, description="A TLS Secret in LiteLLM's namespace; the controller's default when unset."
    )


class Exposure(Strict):
    type: Literal["none", "gateway", "ingress"] = Field(
        "none", description="How LiteLLM is reached from outside: a Gateway API HTTPRoute, an Ingress, or not at all."
    )
    hostname: Hostname | None = Field(None, description="The public host name; litellm.<cluster.domain> when unset.")
    path_prefix: UrlPath = "/"
    gateway: GatewayRef | None = None
    ingress: IngressSettings | None = None


# ---------------------------------------------------------------- network policies


class NetworkPolicies(Strict):
    enabled: bool = False
    cni: Literal["cilium", "generic"] = Field(
        "generic", description="cilium: egress to providers by DNS name (toFQDNs); generic: port 443 to the internet."
    )
    monitoring_namespace: DnsLabel = Field("monitoring", description="Where Prometheus runs (may scrape metrics).")
    dns_namespace: DnsLabel = "kube-system"
    dns_labels: LabelMap = Field(default_factory=lambda: {"k8s-app": "kube-dns"})
    extra_egress_hosts: list[Hostname] = Field(
        default_factory=list,
        description="More hosts LiteLLM may call (cilium), e.g. an SSO provider outside the cluster.",
    )


# ---------------------------------------------------------------- observability


class ServiceMonitorSettings(Strict):
    enabled: bool = Field(False, description="Needs the Prometheus operator's CRDs.")
    labels: LabelMap = Field(
        default_factory=lambda: {"release": "kube-prometheus-stack"},
        description="Labels the Prometheus serviceMonitorSelector selects on.",
    )
    interval: Duration = "30s"


class Metrics(Strict):
    enabled: bool = Field(True, description="The prometheus callback and /metrics.")
    require_auth: bool = Field(
        False,
        description="Keep /metrics behind the master key (the ServiceMonitor then sends it); "
        "off by default: /metrics is reachable only from the monitoring namespace and never through the route.",
    )
    service_monitor: ServiceMonitorSettings = ServiceMonitorSettings()
    rules: bool = Field(
        False,
        description="PrometheusRules: proxy down, error rate, latency p95, database and cache down (operator CRDs).",
    )
    rule_labels: LabelMap = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    error_rate_threshold: Annotated[float, Field(gt=0, lt=1)] = 0.05
    latency_p95_seconds: Annotated[float, Field(gt=0)] = 30.0


class Dashboards(Strict):
    enabled: bool = Field(False, description="A dashboard ConfigMap for Grafana's sidecar.")
    folder: str = Field("LLM Platform", description="The Grafana folder (sidecar folder annotation).")
    label: str = Field("grafana_dashboard", description="The label the Grafana sidecar watches.")
    label_value: str = "1"
    folder_annotation: str = "grafana_folder"


class Tracing(Strict):
    endpoint: HttpUrl = Field(description="OTLP endpoint, e.g. http://tempo.monitoring.svc.cluster.local:4317.")
    protocol: Literal["grpc", "http"] = "grpc"
    service_name: str = "litellm"


class Langfuse(Strict):
    host: HttpUrl = Field(
        "https://cloud.langfuse.com", description="Keys: the secrets langfuse_public_key and langfuse_secret_key."
    )


class Observability(Strict):
    metrics: Metrics = Metrics()
    dashboards: Dashboards = Dashboards()
    tracing: Tracing | None = None
    langfuse: Langfuse | None = None


# ---------------------------------------------------------------- SSO


class Oidc(Strict):
    client_id: str = "litellm"
    external_issuer: HttpUrl = Field(
        description="The issuer as browsers reach it (authorization endpoint), e.g. https://auth.example.com/realms/main."
    )
    internal_issuer: HttpUrl | None = Field(
        None,
        description="The issuer as pods reach it (token and userinfo endpoints), e.g. "
        "http://keycloak.identity.svc.cluster.local:8080/realms/main; the external one when unset.",
    )
    scope: str = "openid email profile"
    # Keycloak's paths under the issuer; set these for another provider
    authorization_path: UrlPath = "/protocol/openid-connect/auth"
    token_path: UrlPath = "/protocol/openid-connect/token"
    userinfo_path: UrlPath = "/protocol/openid-connect/userinfo"

    def endpoints(self) -> dict[str, str]:
        """Browsers are sent to the external issuer; pods call the internal one (split-horizon DNS)."""
        internal = (self.internal_issuer or self.external_issuer).rstrip("/")
        return {
            "GENERIC_AUTHORIZATION_ENDPOINT": self.external_issuer.rstrip("/") + self.authorization_path,
            "GENERIC_TOKEN_ENDPOINT": internal + self.token_path,
            "GENERIC_USERINFO_ENDPOINT": internal + self.userinfo_path,
        }


class Sso(Strict):
    type: Literal["none", "oidc"] = Field("none", description="oidc: Keycloak or any generic OIDC provider.")
    oidc: Oidc | None = None
    ui_username: str = Field("admin", description="The UI login without SSO; its password is the secret ui_password.")


# ---------------------------------------------------------------- database extras


class Pooler(Strict):
    enabled: bool = True
    instances: Annotated[int, Field(ge=1, le=9)] = 2
    max_client_conn: PositiveInt = 1000
    default_pool_size: PositiveInt = 50


class Backup(Strict):
    enabled: bool = False
    endpoint_url: HttpUrl = Field(description="The S3-compatible endpoint, e.g. https://s3.eu-central-1.amazonaws.com.")
    bucket: Annotated[str, StringConstraints(pattern=_p(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name"))]
    path: Annotated[
        str, StringConstraints(pattern=_p(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", "a key prefix such as litellm"))
    ] = "litellm"
    region: str | None = None
    retention: Annotated[
        str, StringConstraints(pattern=_p(r"^[1-9][0-9]*[dwm]$", "a retention such as 30d, 4w or 6m"))
    ] = "30d"
    schedule: str = Field("0 0 3 * * *", description="ScheduledBackup cron (six fields, seconds first).")
    wal_compression: Literal["gzip", "bzip2", "snappy", "lz4", "xz", "zstd"] = "gzip"


# ---------------------------------------------------------------- scaling


class Autoscaling(Strict):
    enabled: bool = False
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 10
    target_cpu: Percent = 80
    target_memory: Percent | None = None


class Scaling(Strict):
    autoscaling: Autoscaling = Autoscaling()
    pdb_min_available: Annotated[int, Field(ge=0)] = Field(
        1, description="PodDisruptionBudget minAvailable (with 2+ replicas)."
    )
    topology_spread: bool = Field(True, description="Spread LiteLLM pods across nodes.")
    termination_grace_period_seconds: Annotated[int, Field(ge=1, le=3600)] = Field(
        90, description="Time for in-flight streams to finish on shutdown."
    )
    separate_health_port: Annotated[int, Field(ge=1024, le=65535)] | None = Field(
        None, description="Serve probes on their own port (SEPARATE_HEALTH_APP), e.g. 8001."
    )
