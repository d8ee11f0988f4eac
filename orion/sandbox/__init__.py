"""The sandbox model server: an OpenAI-compatible chat endpoint on 127.0.0.1 that `make run`
starts so the demo team works with no API key. It answers like a model that uses its tools
(scripted from the request, deterministic) and now and then fails, so failover shows.

    python -m orion.sandbox --port 8099          # base URL http://127.0.0.1:8099/v1
"""

from orion.sandbox.script import Turn, scripted_turn
from orion.sandbox.server import FaultPlan, SandboxServer

__all__ = ["FaultPlan", "SandboxServer", "Turn", "scripted_turn"]
