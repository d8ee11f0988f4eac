"""Fake servers for tests and staff drills: real HTTP on 127.0.0.1, scripted faults."""

from orion.core.fakes.llm import FakeAnthropic, FakeLLMServer, FakeOpenAI
from orion.core.fakes.server import FakeServer, Headers, Reply, Request, Script

__all__ = [
    "FakeAnthropic",
    "FakeLLMServer",
    "FakeOpenAI",
    "FakeServer",
    "Headers",
    "Reply",
    "Request",
    "Script",
]
