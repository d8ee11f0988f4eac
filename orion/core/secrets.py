"""Secrets at rest: Fernet-encrypted with rotation (MultiFernet), never shown back.

ORION_SECRET_KEYS lists Fernet keys newest first: the first encrypts, all decrypt, so a
new key goes in front without downtime and `manage.py orion_rotate_secrets` re-encrypts.
A stored value comes back as a `Secret`: masked in repr/str/logs, decrypted only by an
explicit `reveal()`, which raises `SecretUndecryptable` (not a crash on load) when no
configured key opens it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

MASK = "••••••••"


class SecretUndecryptable(Exception):
    """No configured key decrypts this value (a key was dropped from ORION_SECRET_KEYS?)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    # The keys were validated when the settings loaded (orion/settings.py).
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ORION_SECRET_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


class Secret:
    """An encrypted value as loaded from the database."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def reveal(self) -> str:
        try:
            return fernet().decrypt(self.token.encode()).decode()
        except InvalidToken as exc:
            raise SecretUndecryptable(
                "the stored secret does not decrypt with any key in ORION_SECRET_KEYS; "
                "enter it again"
            ) from exc

    def rotated(self) -> Secret:
        try:
            return Secret(fernet().rotate(self.token.encode()).decode())
        except InvalidToken as exc:
            raise SecretUndecryptable("cannot re-encrypt: no configured key opens it") from exc

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


SERIALIZED_PREFIX = "fernet:"


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; assign plaintext (str) or a Secret; reads back a Secret.

    dumpdata writes the token (already ciphertext) as "fernet:<token>", which loaddata
    turns back into the same Secret, so fixtures never carry a plaintext key.
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        return None if value is None else Secret(value)

    def to_python(self, value: Any) -> Secret | str | None:
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return Secret(value.removeprefix(SERIALIZED_PREFIX))
        return value

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "":
            return None if value is None else ""
        if isinstance(value, Secret):
            return value.token
        return encrypt(str(value))

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        if value is None:
            return ""
        token = value.token if isinstance(value, Secret) else encrypt(str(value))
        return SERIALIZED_PREFIX + token
