"""Facts about the configured models that several parts need: ids, endpoints, credentials."""

from __future__ import annotations

from generator.settings.models import Credential, Model, Settings


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
        elif counts[model.name] == 1:
            ids.append(model.name)
        else:
            seen[model.name] = seen.get(model.name, 0) + 1
            ids.append(f"{model.name}-{seen[model.name]}")
    return ids


def azure_api_base(resource: str) -> str:
    return f"https://{resource}.openai.azure.com"


def model_api_base(model: Model) -> str | None:
    """The endpoint a model sets itself; a shared credential may set it instead."""
    if model.api_base is not None:
        return model.api_base
    if model.backend is not None:
        return model.backend.url()
    if model.resource is not None:
        return azure_api_base(model.resource)
    return None


def credential_api_base(credential: Credential) -> str | None:
    if credential.api_base is not None:
        return credential.api_base
    if credential.resource is not None:
        return azure_api_base(credential.resource)
    return None


def shared_credential(settings: Settings, model: Model) -> Credential | None:
    """The credentials entry a model names, when it names one rather than a bare secret."""
    if model.credential is None:
        return None
    return next((c for c in settings.credentials if c.name == model.credential), None)


def chat_audio(model: Model) -> bool:
    """gpt-audio and *-audio-preview: chat completions with audio modalities, not text to speech."""
    name = model.model.lower()
    return "audio" in name and not any(w in name for w in ("tts", "whisper", "transcribe"))


def realtime(model: Model) -> bool:
    return model.mode == "realtime" or "realtime" in model.model.lower()
