"""Which client speaks to a provider: `client_for(kind, base_url)`."""

from __future__ import annotations

from typing import Any

from agents.providers.anthropic import AnthropicClient
from agents.providers.base import ProviderClient
from agents.providers.openai_compat import OpenAICompatClient

__all__ = ["KINDS", "client_for"]

KINDS = {
    # OpenAI-compatible chat completions: OpenAI, Zhipu GLM, Gemini's OpenAI endpoint,
    # OpenRouter, Ollama's /v1.
    "openai": OpenAICompatClient,
    "anthropic": AnthropicClient,
}


def client_for(kind: str, base_url: str, **options: Any) -> ProviderClient:
    """A client for `kind` at `base_url`; `options` go to the client (timeouts, headers)."""
    try:
        factory = KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown provider kind {kind!r}: expected one of {sorted(KINDS)} "
            "(use 'openai' for any OpenAI-compatible endpoint: Zhipu, Gemini, OpenRouter, Ollama)"
        ) from None
    if not base_url:
        raise ValueError(f"provider kind {kind!r} needs a base_url")
    return factory(base_url, **options)
