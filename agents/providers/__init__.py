"""Model provider clients over httpx (no SDKs, no retries: the reliability stack retries)."""

from agents.providers.base import (
    ChatMessage,
    ChatRequest,
    ChatResult,
    ProviderClient,
    ProviderResponseError,
    ToolCall,
    ToolSpec,
    Usage,
)
from agents.providers.registry import client_for

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "ChatResult",
    "ProviderClient",
    "ProviderResponseError",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "client_for",
]
