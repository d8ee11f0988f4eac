"""Small helpers of the portal's agent pages."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404

T = TypeVar("T")


def found(row: T | None, what: str) -> T:
    """The row, or a 404 (another tenant's row is not found either: reads are scoped)."""
    if row is None:
        raise Http404(f"No such {what} in this company.")
    return row
