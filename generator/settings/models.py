"""pydantic models of cluster.yaml (and models.yaml).

Every model forbids unknown keys and is strict about types: YAML already gives typed
scalars, so a quoted "5" where a number belongs is a mistake worth reporting.
Field names follow LiteLLM's own keys where the setting is passed through to it.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from generator.litellm.providers import ModelMode, Provider
from generator.settings.apps import ChartApp
from generator.settings.diagnostics import describe_pattern as _p
from generator.settings.platform import Backup, Exposure, NetworkPolicies, Observability, Pooler, Scaling, Sso
from generator.settings.types import (
    DnsLabel,
    Duration,
    Hostname,
    HttpUrl,
    PositiveInt,
    PositiveNumber,
    ResourceList,
    Resources,
    SecretName,
    Storage,
    Strict,
)


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone such as Etc/UTC or Europe/Berlin") from None
    return value


KUBERNETES_VERSIONS = tuple(f"1.{minor}" for minor in range(25, 38))


def _kubernetes_version(value: object) -> object:
    if isinstance(value, float):
        raise ValueError(
            f'write the version as a quoted string such as "1.32": unquoted, YAML reads it as the number {value}'
        )
    if isinstance(value, str) and value not in KUBERNETES_VERSIONS:
        raise ValueError(
            f"'{value}' is not a supported Kubernetes version ({KUBERNETES_VERSIONS[0]} to {KUBERNETES_VERSIONS[-1]})"
        )
    return value


# ---------------------------------------------------------------- cluster and gitops


class ClusterSettings(Strict):
    name: DnsLabel = Field(description="Name of the cluster, used in labels and documentation.")
    domain: Hostname = Field(description="Base DNS domain of the cluster's services, e.g. example.com.")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        "Etc/UTC", description="IANA time zone for scheduled jobs such as backups."
    )
    kubernetes_version: Annotated[str, BeforeValidator(_kubernetes_version)] = Field(
        "1.32", description="Target Kubernetes minor version; selects the schemas used for validation."
    )


class ArgoCDSettings(Strict):
    """Where the rendered Applications live and what their AppProject allows (engine argocd only)."""

    namespace: DnsLabel = Field(
        "argocd", description="The namespace ArgoCD runs in; the Applications and their AppProject live there."
    )
    project: DnsLabel = Field(
        "clusterforge",
        description="The AppProject of every rendered Application; it allows this repository, the charts' "
        "repositories and the stack's namespaces only.",
    )
    destination: HttpUrl = Field(
        "https://kubernetes.default.svc",
        description="The API server the Applications deploy to (the cluster ArgoCD runs in by default).",
    )


class GitOpsSettings(Strict):
    engine: Literal["flux", "argocd"] = Field(
        "flux", description="GitOps engine that syncs the output: flux, or argocd (an app of apps)."
    )
    repository: Annotated[
        str,
        StringConstraints(
            pattern=_p(r"^(https://|ssh://|git@)\S+$", "a Git URL starting with https://, ssh:// or git@")
        ),
    ] = Field(description="Git URL of the repository Flux or ArgoCD pulls, https:// or ssh://.")
    branch: Annotated[str, StringConstraints(pattern=_p(r"^[A-Za-z0-9._/-]+$", "a Git branch name"))] = "main"
    path: Annotated[
        str,
        StringConstraints(
            pattern=_p(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", "a relative path such as output or clusters/prod")
        ),
    ] = Field("output", description="Where the rendered output lives inside the repository.")
    argocd: ArgoCDSettings = Field(ArgoCDSettings(), description="ArgoCD's namespace, project and cluster.")


# ---------------------------------------------------------------- secrets


class SopsSettings(Strict):
    file: str = Field("cluster.secrets.sops.yaml", description="The encrypted secrets file, relative to cluster.yaml.")
    age_key_file: str = Field("age.key", description="The repository's age key, relative to cluster.yaml (gitignored).")
    config: str = Field(".sops.yaml", description="The sops creation rules, relative to cluster.yaml.")


class SealedSettings(Strict):
    cert: str = Field(
        description="The controller's public certificate, relative to cluster.yaml "
        "(`kubeseal --fetch-cert --controller-namespace sealed-secrets > sealed-secrets.pem`)."
    )
    scope: Literal["strict", "namespace-wide", "cluster-wide"] = Field(
        "strict", description="strict: a sealed value opens only as the same Secret name and namespace."
    )


class VaultKubernetesAuth(Strict):
    role: str = Field(description="The Vault role bound to the External Secrets service account.")
    mount_path: str = "kubernetes"


class VaultStore(Strict):
    server: HttpUrl
    path: Annotated[
        str, StringConstraints(pattern=_p(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", "a Vault mount path such as secret"))
    ] = Field("secret", description="The KV secrets engine mount.")
    version: Literal["v1", "v2"] = "v2"
    namespace: str | None = Field(None, description="Vault Enterprise namespace.")
    auth: VaultKubernetesAuth


class ExternalSecretsSettings(Strict):
    store: DnsLabel = Field("vault", description="Name of the ClusterSecretStore clusterforge renders.")
    vault: VaultStore
    remote_key: Annotated[
        str,
        StringConstraints(
            pattern=_p(
                r"^[A-Za-z0-9_./-]*\{name\}[A-Za-z0-9_./-]*$", "a key template containing {name}, e.g. litellm/{name}"
            )
        ),
    ] = Field("litellm/{name}", description="The remote key of each secret; {name} is its secrets-file name.")
    property: str = Field("value", description="The property of the remote secret that holds the value.")
    refresh_interval: Duration = "1h"


class SecretsSettings(Strict):
    provider: Literal["sops", "sealed-secrets", "external-secrets"] = Field(
        "sops",
        description="How Secrets reach the cluster: sops (Flux decrypts; with ArgoCD, KSOPS in the repo-server), "
        "sealed-secrets, external-secrets. Unset: sops with engine flux, sealed-secrets with engine argocd.",
    )
    sops: SopsSettings = Field(
        SopsSettings(), description="The secrets file and its key; sealed-secrets reads its values from it too."
    )
    sealed: SealedSettings | None = None
    external: ExternalSecretsSettings | None = None


# ---------------------------------------------------------------- resources


# ---------------------------------------------------------------- LiteLLM


class Image(Strict):
    repository: str = "ghcr.io/berriai/litellm-database"
    tag: str | None = Field(None, description="Image tag; the pinned version in versions.yaml when unset.")


class GeneralSettings(Strict):
    """The subset of LiteLLM ``general_settings`` clusterforge types; LiteLLM ignores unknown keys silently."""

    background_health_checks: bool = Field(
        False, description="Call every model periodically; off because it exhausts the Prisma pool (seeds)."
    )
    health_check_interval: PositiveInt | None = None
    proxy_batch_write_at: PositiveInt = 60
    allow_requests_on_db_unavailable: bool = True
    disable_error_logs: bool = True
    database_connection_pool_limit: PositiveInt = Field(
        10, description="Prisma connections per worker; pool limit x workers x replicas must fit the database."
    )
    database_connection_timeout: PositiveInt = 60
    disable_spend_logs: bool = Field(False, description="Keep no per-request spend logs (the UI loses usage views).")
    store_prompts_in_spend_logs: bool = Field(False, description="Store prompts and responses in the spend logs.")
    maximum_spend_logs_retention_period: Duration | None = Field(
        "30d", description="Delete spend logs older than this (e.g. 30d); null keeps them forever."
    )
    maximum_spend_logs_retention_interval: Duration = Field("1d", description="How often old spend logs are deleted.")


class MessageTrimming(Strict):
    """The message-trimming guardrail of the seeds: oversized prompts are trimmed, not rejected upstream."""

    trim_ratio: Annotated[float, Field(gt=0, le=1)] = Field(
        0.75, description="Trim the messages to this share of the model's input token limit."
    )


class CacheParams(Strict):
    mode: Literal["default_off", "default_on"] = Field(
        "default_off",
        description="default_off: a request opts in with the X-LiteLLM-Cache header or cache={...}.",
    )
    ttl: PositiveInt = 600
    namespace: Annotated[str, StringConstraints(pattern=_p(r"^[A-Za-z0-9._:-]+$", "letters, digits and . _ : -"))] = (
        "litellm.caching"
    )


class LitellmSettings(Strict):
    """The subset of LiteLLM ``litellm_settings`` clusterforge types."""

    num_retries: Annotated[int, Field(ge=0)] = 2
    request_timeout: PositiveInt = 600
    json_logs: bool = True
    drop_params: bool = False
    turn_off_message_logging: bool = False
    cache: bool = Field(True, description="Response caching in the cache backend (needs cache.type other than none).")
    cache_params: CacheParams = CacheParams()


RoutingStrategy = Literal[
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "cost-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
    "provider-budget-routing",
    "lar1",
]


class AliasTarget(Strict):
    model: str
    hidden: bool = False


class RouterSettings(Strict):
    routing_strategy: RoutingStrategy = "simple-shuffle"
    enable_pre_call_checks: bool = True
    num_retries: Annotated[int, Field(ge=0)] | None = None
    timeout: PositiveNumber | None = None
    fallbacks: dict[str, list[str]] = Field(default_factory=dict, description="model group -> model groups tried next")
    context_window_fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    model_group_alias: dict[str, str | AliasTarget] = Field(default_factory=dict)
    allowed_fails: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Failures per minute before a deployment is cooled down."
    )
    cooldown_time: PositiveNumber | None = Field(None, description="Seconds a failing deployment is left out.")


class LiteLLMSettings(Strict):
    namespace: DnsLabel = "ai-system"
    replicas: Annotated[int, Field(ge=1, le=100)] = 2
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        1, description="Uvicorn worker processes per pod (--num_workers)."
    )
    image: Image = Image()
    resources: Resources = Resources(
        requests=ResourceList(cpu="200m", memory="512Mi"),
        limits=ResourceList(cpu="1", memory="1Gi"),
    )
    run_as_root: bool = Field(
        False, description="Run as UID 0 for images that need it; the default runs as a non-root user."
    )
    general_settings: GeneralSettings = GeneralSettings()
    litellm_settings: LitellmSettings = LitellmSettings()
    router_settings: RouterSettings = RouterSettings()
    message_trimming: MessageTrimming = MessageTrimming()
    scaling: Scaling = Scaling()
    service_account_annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Annotations of LiteLLM's ServiceAccount, e.g. eks.amazonaws.com/role-arn (Bedrock by role).",
    )


AzureResource = Annotated[
    str, StringConstraints(pattern=_p(r"^[a-z0-9][a-z0-9-]{1,62}$", "an Azure resource name such as my-openai-east"))
]
HealthCheckVoice = Annotated[str, StringConstraints(pattern=_p(r"^[a-z]+$", "a voice name such as alloy"))]


class Credential(Strict):
    """Connection settings several models share (LiteLLM credential_list); the API key is the secret `name`."""

    name: SecretName = Field(description="The credential's name, and the key of its API key in the secrets file.")
    provider: Provider
    api_base: HttpUrl | None = None
    api_version: str | None = None
    resource: AzureResource | None = Field(None, description="azure: the resource name, for the api_base.")
    region: str | None = None
    project: str | None = None


class KeySecret(Strict):
    name: DnsLabel = Field(description="The Secret the model server reads its API key from.")
    key: Annotated[str, StringConstraints(pattern=_p(r"^[-._a-zA-Z0-9]+$", "a Secret key such as VLLM_API_KEY"))] = (
        "VLLM_API_KEY"
    )


class Backend(Strict):
    """A model server inside the cluster, e.g. vLLM behind a KServe predictor."""

    namespace: DnsLabel
    predictor: DnsLabel | None = Field(None, description="A KServe InferenceService: its <name>-predictor Service.")
    service: DnsLabel | None = Field(None, description="Or any Service by name.")
    inference_gateway: DnsLabel | None = Field(
        None, description="Route through this gateway Service instead (KV-cache aware routing with an EPP)."
    )
    api_key_secret: KeySecret | None = Field(
        None,
        description="Render the server's own API key Secret in its namespace from the model's credential, "
        "so the key LiteLLM sends and the key the server expects are one secret.",
    )
    port: Annotated[int, Field(ge=1, le=65535)] = 80
    path: Annotated[str, StringConstraints(pattern=_p(r"^(/[A-Za-z0-9._-]+)*/?$", "a URL path such as /v1"))] = "/v1"

    def url(self) -> str:
        host = self.inference_gateway or self.service or f"{self.predictor}-predictor"
        port = "" if self.port == 80 else f":{self.port}"
        return f"http://{host}.{self.namespace}.svc.cluster.local{port}{self.path.rstrip('/')}"


class Model(Strict):
    name: Annotated[
        str,
        StringConstraints(
            pattern=_p(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$", "a model name: letters, digits and . _ : / -, no spaces")
        ),
    ] = Field(description="Public model name clients ask for (LiteLLM model_name); several entries may share one.")
    provider: Provider
    model: Annotated[
        str, StringConstraints(min_length=1, pattern=_p(r"^\S+$", "an upstream model id without spaces"))
    ] = Field(description="Upstream model id, without the provider prefix.")
    credential: SecretName | None = Field(None, description="Key of the API key in the secrets file.")
    api_base: HttpUrl | None = None
    api_version: str | None = None
    resource: AzureResource | None = Field(None, description="azure: the resource name; sets the api_base.")
    backend: Backend | None = Field(None, description="An in-cluster model server, instead of api_base.")
    region: str | None = Field(None, description="bedrock: aws_region_name; vertex_ai: vertex_location.")
    project: str | None = Field(None, description="vertex_ai: the Google Cloud project.")
    rpm: PositiveInt | None = None
    tpm: PositiveInt | None = None
    timeout: PositiveNumber | None = None
    stream_timeout: PositiveNumber | None = None
    mode: ModelMode | None = None
    id: (
        Annotated[
            str,
            StringConstraints(
                pattern=_p(
                    r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
                    "a model name: letters, digits and . _ : / -, no spaces",
                )
            ),
        ]
        | None
    ) = Field(None, description="Unique deployment id (model_info.id); the name, or name-N when names repeat.")
    access_groups: list[str] = Field(default_factory=list)
    base_model: str | None = None
    tags: list[str] = Field(default_factory=list)
    disable_background_health_check: bool = False
    health_check_voice: HealthCheckVoice | None = Field(None, description="audio_speech: the voice of health checks.")
    max_input_tokens: PositiveInt | None = Field(None, description="The model's input token limit (model_info).")
    input_type: Literal["text", "image", "search_document", "search_query", "classification", "clustering"] | None = (
        Field(None, description="Embedding input type (Cohere embeddings on Azure AI need text).")
    )
    message_trimming: bool = Field(False, description="Trim oversized prompts with the message-trimming guardrail.")


# ---------------------------------------------------------------- database and cache


class CloudNativePGDatabase(Strict):
    type: Literal["cloudnative-pg"] = "cloudnative-pg"
    instances: Annotated[int, Field(ge=1, le=9)] = 1
    database: DnsLabel = "litellm"
    owner: Annotated[
        str,
        StringConstraints(
            pattern=_p(r"^[a-z_][a-z0-9_]*$", "a PostgreSQL role name: lowercase letters, digits and '_'")
        ),
    ] = "litellm"
    storage: Storage = Storage()
    parameters: dict[str, Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]] = Field(
        default_factory=lambda: {"max_connections": "200", "shared_buffers": "256MB"},
        description="postgresql.conf parameters (CNPG wants strings; numbers are converted).",
    )
    image: str | None = Field(None, description="PostgreSQL image; the pinned one in versions.yaml when unset.")
    resources: Resources = Resources(
        requests=ResourceList(cpu="250m", memory="512Mi"),
        limits=ResourceList(memory="1Gi"),
    )
    pooler: Pooler = Pooler()
    pod_monitor: bool = Field(False, description="A PodMonitor for the instances' metrics (needs the operator's CRDs).")
    backup: Backup | None = Field(None, description="Backups through the barman-cloud plugin to S3.")


class ExternalDatabase(Strict):
    type: Literal["external"]
    host: Hostname
    port: Annotated[int, Field(ge=1, le=65535)] = 5432
    database: Annotated[
        str,
        StringConstraints(pattern=_p(r"^[A-Za-z0-9_-]+$", "a database name: letters, digits, '_' and '-'")),
    ] = "litellm"
    user: Annotated[
        str, StringConstraints(pattern=_p(r"^[A-Za-z0-9_.@-]+$", "a user name: letters, digits and _ . @ -"))
    ] = "litellm"
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = None


def _type_or(default: str) -> Any:
    # A section without `type:` takes the default kind, so `database: {instances: 3}` works.
    def pick(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get("type", default))
        return str(getattr(value, "type", default))

    return Discriminator(pick)


Database = Annotated[
    Annotated[CloudNativePGDatabase, Tag("cloudnative-pg")] | Annotated[ExternalDatabase, Tag("external")],
    _type_or("cloudnative-pg"),
]


class DragonflyCache(Strict):
    type: Literal["dragonfly"] = "dragonfly"
    namespace: DnsLabel | None = Field(
        None, description="Run the cache in its own namespace (a cache shared with other apps); LiteLLM's when unset."
    )
    acl: bool = Field(
        False,
        description="Dragonfly ACL: LiteLLM logs in as user litellm, limited to litellm:* keys (a shared cache).",
    )
    replicas: Annotated[int, Field(ge=1, le=9)] = 1
    image: str | None = None
    resources: Resources = Resources(
        requests=ResourceList(cpu="100m", memory="256Mi"),
        limits=ResourceList(memory="512Mi"),
    )


class ValkeyCache(Strict):
    type: Literal["valkey"]
    image: str | None = None
    storage: Storage | None = Field(None, description="Persist the cache on a volume; in memory when unset.")
    resources: Resources = Resources(
        requests=ResourceList(cpu="100m", memory="256Mi"),
        limits=ResourceList(memory="512Mi"),
    )


class Sentinel(Strict):
    nodes: Annotated[
        list[Annotated[str, StringConstraints(pattern=_p(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", "host:port"))]],
        Field(min_length=1),
    ]
    service_name: str = "mymaster"
    password: bool = Field(False, description="Sentinels need a password: the secret cache_sentinel_password.")


class ExternalCache(Strict):
    type: Literal["external"]
    host: Hostname | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 6379
    username: str | None = None
    password: bool = Field(True, description="The cache needs a password: the secret cache_password.")
    tls: bool = False
    sentinel: Sentinel | None = None


class NoCache(Strict):
    type: Literal["none"]


Cache = Annotated[
    Annotated[DragonflyCache, Tag("dragonfly")]
    | Annotated[ValkeyCache, Tag("valkey")]
    | Annotated[ExternalCache, Tag("external")]
    | Annotated[NoCache, Tag("none")],
    _type_or("dragonfly"),
]


# ---------------------------------------------------------------- root


# ArgoCD has no SOPS of its own (KSOPS needs a prepared repo-server): it decrypts nothing by default
DEFAULT_SECRETS_PROVIDER = {"flux": "sops", "argocd": "sealed-secrets"}


class Settings(Strict):
    cluster: ClusterSettings
    gitops: GitOpsSettings
    secrets: SecretsSettings = SecretsSettings()
    litellm: LiteLLMSettings = LiteLLMSettings()
    models: Annotated[list[Model], Field(min_length=1)] = Field(
        description="The models LiteLLM serves, inline or the path of a models.yaml beside cluster.yaml."
    )
    credentials: list[Credential] = Field(
        default_factory=list, description="Connection settings shared by models (also allowed in models.yaml)."
    )
    database: Database = CloudNativePGDatabase()
    cache: Cache = DragonflyCache()
    exposure: Exposure = Exposure()
    network_policies: NetworkPolicies = NetworkPolicies()
    observability: Observability = Observability()
    sso: Sso = Sso()
    apps: list[ChartApp] = Field(
        default_factory=list,
        description="Helm charts of your own, installed beside the gateway (README: Your own apps).",
    )

    @model_validator(mode="before")
    @classmethod
    def _engine_default_provider(cls, data: object) -> object:
        """``secrets.provider`` when cluster.yaml does not write it: the engine's own choice."""
        if not isinstance(data, dict):
            return data
        gitops, secrets = data.get("gitops"), data.get("secrets", {})
        engine = gitops.get("engine", "flux") if isinstance(gitops, dict) else "flux"
        default = DEFAULT_SECRETS_PROVIDER.get(engine) if isinstance(engine, str) else None
        if default is None or not isinstance(secrets, dict) or "provider" in secrets:
            return data
        return {**data, "secrets": {**secrets, "provider": default}}
