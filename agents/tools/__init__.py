"""The agent loop's tool registry. The control-plane tools register here on import; the
integrations' tools (Gmail, Calendar, website, messaging) plug in with `tool_register`."""

from __future__ import annotations

from agents.tools import control  # noqa: F401  (registers the control-plane tools)
from agents.tools.registry import (
    CONTROL_TOOLS,
    Tool,
    ToolContext,
    ToolError,
    tool_get,
    tool_names,
    tool_register,
    tools_for,
)

__all__ = [
    "CONTROL_TOOLS",
    "Tool",
    "ToolContext",
    "ToolError",
    "tool_get",
    "tool_names",
    "tool_register",
    "tools_for",
]
