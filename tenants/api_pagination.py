"""The API's pagination (its own module: DRF reads it while rest_framework.generics
imports)."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """`limit` is capped at max_limit and `offset` at the row count, so a huge value never
    reaches the database (SQLite overflows) and no call returns a whole table."""

    max_limit = 200

    def get_offset(self, request: Any) -> int:
        return min(super().get_offset(request), getattr(self, "count", 0))
