"""Message-trimming guardrail for the LiteLLM proxy, shipped by clusterforge.

An oversized prompt makes the upstream reject the request. This guardrail trims the
chat messages (oldest first, keeping the system prompt) to a share of the model's input
token limit before the request leaves the proxy. It is off by default and turned on per
model: clusterforge lists it in `litellm_params.guardrails` of the models that set
`message_trimming: true`, and passes their limits as `max_input_tokens`.
"""

from __future__ import annotations

from typing import Any

from litellm.integrations.custom_guardrail import CustomGuardrail
from litellm.types.guardrails import GuardrailEventHooks
from litellm.utils import trim_messages


class MessageTrimmingGuardrail(CustomGuardrail):
    def __init__(
        self,
        trim_ratio: float = 0.75,
        max_input_tokens: dict[str, int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.trim_ratio = float(trim_ratio)
        self.limits = {str(name): int(limit) for name, limit in (max_input_tokens or {}).items()}
        super().__init__(**kwargs)

    async def async_pre_call_hook(
        self,
        user_api_key_dict: Any,
        cache: Any,
        data: dict[str, Any],
        call_type: Any,
    ) -> dict[str, Any]:
        if not self.should_run_guardrail(data=data, event_type=GuardrailEventHooks.pre_call):
            return data
        messages = data.get("messages")
        limit = self.limits.get(str(data.get("model")))
        if not isinstance(messages, list) or not messages or limit is None:
            return data
        trimmed = trim_messages(messages, max_tokens=max(1, int(limit * self.trim_ratio)))
        if isinstance(trimmed, list) and trimmed:
            data["messages"] = trimmed
        return data
