from __future__ import annotations

import pytest

from agents.providers import client_for
from agents.providers.anthropic import AnthropicClient
from agents.providers.openai_compat import OpenAICompatClient


def test_kinds():
    openai = client_for("openai", "https://open.bigmodel.cn/api/paas/v4/")
    assert isinstance(openai, OpenAICompatClient)
    assert openai.url == "https://open.bigmodel.cn/api/paas/v4/chat/completions"
    anthropic = client_for("anthropic", "https://api.anthropic.com", anthropic_version="2023-06-01")
    assert isinstance(anthropic, AnthropicClient)
    assert anthropic.url == "https://api.anthropic.com/v1/messages"


def test_options_reach_the_client():
    client = client_for("openai", "http://127.0.0.1:11434/v1", total_timeout=9.0)
    assert client.total_timeout == 9.0


@pytest.mark.parametrize("kind", ["gemini", "OpenAI", "", "bedrock"])
def test_unknown_kind_is_a_clear_value_error(kind):
    with pytest.raises(ValueError, match="unknown provider kind") as caught:
        client_for(kind, "https://example.invalid")
    assert "'anthropic'" in str(caught.value) and "'openai'" in str(caught.value)


def test_base_url_is_required():
    with pytest.raises(ValueError, match="base_url"):
        client_for("openai", "")
