"""What each LiteLLM provider needs, so a model is refused here rather than failing at request time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

KeyNeed = Literal["required", "optional", "none"]


@dataclass(frozen=True)
class ProviderSpec:
    name: Provider
    prefix: str  # LiteLLM's model prefix, e.g. "azure/"
    key: KeyNeed  # whether an API key (a `credential`) is needed
    api_base: bool = False  # an api_base is required
    api_version: bool = False  # an api_version is required
    region: bool = False
    project: bool = False
    hint: str = ""


# The providers and modes the settings accept; click's choices and the pydantic types both read these.
Provider = Literal[
    "openai",
    "azure",
    "azure_ai",
    "anthropic",
    "bedrock",
    "vertex_ai",
    "ollama",
    "mistral",
    "groq",
    "cohere",
    "hosted_vllm",
]

# what LiteLLM's model_info.mode takes
ModelMode = Literal[
    "chat",
    "embedding",
    "rerank",
    "image_generation",
    "audio_speech",
    "audio_transcription",
    "realtime",
]
MODEL_MODES: tuple[str, ...] = get_args(ModelMode)

PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("openai", "openai/", "required"),
        ProviderSpec(
            "azure",
            "azure/",
            "required",
            api_base=True,
            api_version=True,
            hint="api_base is https://<resource>.openai.azure.com",
        ),
        ProviderSpec("azure_ai", "azure_ai/", "required", api_base=True, hint="Azure AI Foundry endpoint"),
        ProviderSpec("anthropic", "anthropic/", "required"),
        ProviderSpec("bedrock", "bedrock/", "optional", region=True, hint="no credential: the pod's IAM role"),
        ProviderSpec("vertex_ai", "vertex_ai/", "optional", region=True, project=True),
        ProviderSpec("ollama", "ollama/", "none", api_base=True, hint="e.g. http://ollama.ollama:11434"),
        ProviderSpec("mistral", "mistral/", "required"),
        ProviderSpec("groq", "groq/", "required"),
        ProviderSpec("cohere", "cohere/", "required"),
        ProviderSpec("hosted_vllm", "hosted_vllm/", "optional", api_base=True, hint="the vLLM server's /v1 URL"),
    )
}


def credential_env(credential: str) -> str:
    """The env var the proxy reads a credential from: ``azure_us_east`` -> ``AZURE_US_EAST_API_KEY``."""
    return f"{credential.upper()}_API_KEY"


CREDENTIAL_FILES_DIR = "/etc/litellm/credentials"


@dataclass(frozen=True)
class SecretRef:
    """One secret a model reads: the secrets-file key, its key in litellm-secret, the litellm_params key.

    Most reach the proxy as an env var of that name (``os.environ/NAME`` in config.yaml); a
    credentials file (Vertex AI's service account JSON) is mounted as a file instead.
    """

    secret: str
    env: str
    param: str
    file: str | None = None  # mounted at CREDENTIAL_FILES_DIR/<file> instead of an env var

    @property
    def value(self) -> str:
        return f"{CREDENTIAL_FILES_DIR}/{self.file}" if self.file else f"os.environ/{self.env}"


def credential_refs(provider: str, credential: str) -> tuple[SecretRef, ...]:
    """The secrets a model with this provider and credential reads, and how."""
    base = credential.upper()
    if provider == "bedrock":
        return (
            SecretRef(f"{credential}_access_key_id", f"{base}_ACCESS_KEY_ID", "aws_access_key_id"),
            SecretRef(f"{credential}_secret_access_key", f"{base}_SECRET_ACCESS_KEY", "aws_secret_access_key"),
        )
    if provider == "vertex_ai":
        # the service account JSON, mounted as a file: kept out of the environment
        return (SecretRef(credential, f"{base}_CREDENTIALS", "vertex_credentials", file=f"{credential}.json"),)
    return (SecretRef(credential, credential_env(credential), "api_key"),)
