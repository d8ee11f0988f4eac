"""Short, secret-free, single-line messages for records, logs and summaries."""

from __future__ import annotations

import re

MESSAGE_LIMIT = 300

_SECRET_PATTERNS = (
    # Bearer / Basic credentials and key-looking query parameters.
    re.compile(r"(?i)\b(bearer|basic)\s+[^\s,;\"']+"),
    re.compile(r"(?i)\b((?:api[_-]?)?key|token|secret|password|x-api-key)=([^&\s\"']+)"),
    # Vendor key shapes: OpenAI / Anthropic / OpenRouter (sk-...), Google (AIza...).
    re.compile(r"\bsk-[A-Za-z0-9_\-*.]{6,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{10,}"),
    # Anything else long and opaque (32+ key-ish characters, e.g. Zhipu id.secret keys).
    re.compile(r"\b[A-Za-z0-9_\-]{32,}(?:\.[A-Za-z0-9_\-]{8,})?\b"),
)


def redact(text: str) -> str:
    """Replace credential-looking substrings with `[redacted]`."""
    for pattern in _SECRET_PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: f"{m.group(1)}=[redacted]", text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: f"{m.group(1)} [redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


def safe_message(text: str, *, limit: int = MESSAGE_LIMIT) -> str:
    """One line, redacted, at most `limit` characters (an ellipsis marks a cut)."""
    line = " ".join(redact(str(text)).split())
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line
