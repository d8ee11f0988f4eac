"""Tools an agent may call: name, description, JSON schema of the arguments, handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.models import Agent, Run, Task

_REGISTRY: dict[str, Tool] = {}
CONTROL_TOOLS: list[str] = []


class ToolError(Exception):
    """A tool refused or failed in a way the model should read and act on."""


@dataclass(frozen=True)
class ToolContext:
    """`call_key` names this one tool call (run, step, index) for good: a tool that acts
    outside the database uses it as its idempotency key, so a resumed run never acts twice."""

    agent: Agent
    run: Run
    task: Task | None
    call_key: str = ""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[[ToolContext, dict[str, Any]], str]
    control_plane: bool = False

    def check(self, arguments: Any) -> dict[str, Any]:
        """The arguments, checked against the schema's required keys and simple types."""
        if not isinstance(arguments, dict):
            raise ToolError(f"{self.name}: arguments must be a JSON object")
        props = self.parameters.get("properties", {})
        missing = [k for k in self.parameters.get("required", []) if k not in arguments]
        if missing:
            raise ToolError(f"{self.name}: missing {', '.join(missing)}")
        unknown = sorted(set(arguments) - set(props))
        if unknown:
            raise ToolError(f"{self.name}: unknown arguments {', '.join(unknown)}")
        types = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
        for key, value in arguments.items():
            want = props[key].get("type")
            if want in types and not isinstance(value, types[want]):
                raise ToolError(f"{self.name}: {key} must be a {want}")
            if "enum" in props[key] and value not in props[key]["enum"]:
                raise ToolError(f"{self.name}: {key} must be one of {props[key]['enum']}")
        return arguments


def tool_register(tool: Tool) -> Tool:
    if tool.name in _REGISTRY:
        raise ValueError(f"tool {tool.name!r} is registered twice")
    _REGISTRY[tool.name] = tool
    if tool.control_plane:
        CONTROL_TOOLS.append(tool.name)
    return tool


def tool_get(name: str) -> Tool | None:
    return _REGISTRY.get(name)


def tool_names() -> set[str]:
    return set(_REGISTRY)


def tools_for(agent: Agent) -> list[Tool]:
    """The agent's allowed tools, else the control-plane tools."""
    names = agent.allowed_tools or CONTROL_TOOLS
    return [_REGISTRY[n] for n in names if n in _REGISTRY]
