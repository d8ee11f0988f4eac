"""The agent loop's tool registry. Every module of this package registers its tools on
import (control-plane tools in control.py; the integrations' tools — messaging, Gmail,
Calendar, website — each in its own module) with `tool_register`."""

from __future__ import annotations

import importlib
import pkgutil

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

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "registry":
        importlib.import_module(f"{__name__}.{_module.name}")
