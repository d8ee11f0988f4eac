class GoogleError(Exception):
    """A Google call refused or failed; the message says what happened and what to do,
    in words an agent (and a person reading its run) can act on."""


class GoogleUnavailable(GoogleError):
    """Google cannot be used at all: not connected, needs reconnecting, scope missing."""


class GoogleNoAnswer(GoogleError):
    """The request may have reached Google but no answer came back (outcome unknown)."""


class GoogleRefused(GoogleError):
    """Google answered with an error status."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def definite(self) -> bool:
        """Google refused the request itself: nothing was done (unlike a 5xx or a 429/408
        answer, after which the action may or may not have happened)."""
        return self.status < 500 and self.status not in (408, 429)
