"""The sandbox's HTTP side: `FakeOpenAI`'s real OpenAI wire format (bodies, error shapes,
headers, one write per response) answering with `scripted_turn`, plus a fault plan on the
primary model so a demo shows retries, key rotation and model fallback.

The fault plan works per logical call, recognised by its conversation (a retry, another key
or a resumed walk sends the same messages): every `every`-th new call to the primary model
is faulty, in turn with each kind of `kinds`:
* "429": a rate limit on the key the call came with, every try. The walker retries with
  Retry-After, cools that key for that model and rotates to the next key, which answers.
* "503": overloaded on every key. The walker retries, cools the model on every key and
  falls back to the chain's next model (sandbox-small), which answers.
Every failure carries `Retry-After`. Requests for other models never fail."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

from orion.core.fakes import FakeOpenAI, Reply, Request
from orion.sandbox.script import scripted_turn

logger = logging.getLogger("orion.sandbox")

PROVIDER_NAME = "sandbox"
PRIMARY_MODEL = "sandbox-large"
FALLBACK_MODEL = "sandbox-small"
KEY_PREFIX = "sandbox-"
FAULT_KINDS = ("429", "503")
REQUEST_LOG_LIMIT = 256  # a long-running server forgets older requests
CALLS_REMEMBERED = 1024


@dataclass(frozen=True)
class FaultPlan:
    """Which calls to the primary model fail: every `every`-th (0: none)."""

    every: int = 3
    kinds: tuple[str, ...] = FAULT_KINDS
    retry_after: float = 1.0
    primary: str = PRIMARY_MODEL

    def __post_init__(self) -> None:
        if self.every < 0:
            raise ValueError("every cannot be negative")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if not self.kinds or unknown:
            raise ValueError(f"fault kinds must be some of {FAULT_KINDS}, not {self.kinds}")
        if self.retry_after < 0:
            raise ValueError("retry_after cannot be negative")

    def fault_for(self, n: int) -> str | None:
        """The fault of the n-th new call to the primary (1-based), or None to answer."""
        if not self.every or n % self.every:
            return None
        return self.kinds[(n // self.every - 1) % len(self.kinds)]


@dataclass(frozen=True)
class _Call:
    fault: str | None
    first_key: str


def call_digest(body: dict) -> str:
    """What identifies one logical call across its retries: the conversation and tools."""
    raw = json.dumps([body.get("messages"), body.get("tools")], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


class SandboxServer(FakeOpenAI):
    """`with SandboxServer() as sandbox:` then point a provider at `sandbox.base_url`."""

    default_model = PRIMARY_MODEL
    id_prefix = "chatcmpl-sandbox-"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultPlan | None = None,
        models: tuple[str, ...] = (PRIMARY_MODEL, FALLBACK_MODEL),
    ) -> None:
        super().__init__(host=host, port=port)
        self.faults = faults if faults is not None else FaultPlan()
        self.model_names = tuple(models)
        self._calls_lock = threading.Lock()
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self.primary_calls = 0  # distinct calls to the primary model
        self.faults_sent = 0  # failed responses
        self.script_chat([], default=self._chat)
        self.script("GET", f"{self.prefix}/models", self._models)

    def _models(self, request: Request) -> Reply:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": PROVIDER_NAME}
            for m in self.model_names
        ]
        return Reply(json={"object": "list", "data": data})

    def _fault(self, model: str, body: dict, key: str) -> Reply | None:
        if model != self.faults.primary:
            return None
        digest = call_digest(body)
        with self._calls_lock:
            call = self._calls.get(digest)
            if call is None:
                self.primary_calls += 1
                call = _Call(self.faults.fault_for(self.primary_calls), key)
                self._calls[digest] = call
                while len(self._calls) > CALLS_REMEMBERED:
                    self._calls.popitem(last=False)
            fails = call.fault == "503" or (call.fault == "429" and key == call.first_key)
            if fails:
                self.faults_sent += 1
        if not fails:
            return None
        logger.info("sandbox: %s on %s, so failover shows", call.fault, model)
        after = self.faults.retry_after
        if call.fault == "429":
            return self.rate_limited(retry_after=after)
        reply = self.overloaded()
        return Reply(
            status=reply.status,
            json=reply.json,
            headers={**reply.headers, "retry-after": _seconds(after)},
        )

    def _chat(self, request: Request) -> Reply:
        if len(self.requests) > REQUEST_LOG_LIMIT:
            self.clear()
        key = self.api_key_of(request) or ""
        if not key.startswith(KEY_PREFIX):
            return self.unauthorized()
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._error(
                400, "'messages' is a required property", "invalid_request_error", None, "messages"
            )
        model = body.get("model")
        if model not in self.model_names:
            return self.model_not_found(str(model))
        fault = self._fault(model, body, key)
        if fault is not None:
            return fault
        turn = scripted_turn(body)
        return self.ok(turn.content, turn.tool_calls or None, usage=turn.usage)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
