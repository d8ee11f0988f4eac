"""What a transport says about one request. A transport returns the provider's message id
when the provider accepted the message, or raises one of these; the engine turns each
into the attempt's outcome and the delivery's next state."""

from __future__ import annotations


class DeliveryError(Exception):
    """`error` is in plain words (shown to the customer); `http_status` when one came back."""

    def __init__(self, error: str, *, http_status: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.http_status = http_status


class Transient(DeliveryError):
    """Nothing reached the provider, or it refused the work (connect error, 429, 503):
    retrying cannot duplicate. `retry_after`: the provider's own wait, in seconds."""

    def __init__(
        self, error: str, *, http_status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(error, http_status=http_status)
        self.retry_after = retry_after


class Permanent(DeliveryError):
    """The provider refused this message for good. `disable`: the channel itself is
    broken (revoked token, deleted webhook, bot removed) and is disabled with `error`."""

    def __init__(self, error: str, *, http_status: int | None = None, disable: bool = False):
        super().__init__(error, http_status=http_status)
        self.disable = disable


class Ambiguous(DeliveryError):
    """The request left and no clear answer came back (timeout after sending, 500/502/504,
    connection dropped): the provider may have accepted it."""


class ParseRejected(DeliveryError):
    """Telegram could not parse the message's HTML: send it once more as plain text."""


class ChatMoved(DeliveryError):
    """The Telegram group became a supergroup: send to `chat_id` and remember it."""

    def __init__(self, error: str, *, chat_id: str, http_status: int | None = None) -> None:
        super().__init__(error, http_status=http_status)
        self.chat_id = chat_id
