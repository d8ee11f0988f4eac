"""Requests both provider clients' tests send."""

from agents.providers.base import ChatMessage, ChatRequest, ToolSpec

WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
HELLO = ChatRequest(messages=[ChatMessage(role="user", content="hi")])
