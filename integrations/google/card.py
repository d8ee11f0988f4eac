from typing import Any

from integrations.google.selectors import google_overview
from integrations.kinds import Card
from integrations.models import ConnectionKind


def _context(request: Any, connection: Any) -> dict[str, Any]:
    return {"google": google_overview(connection)}


CARD = Card(
    kind=ConnectionKind.GOOGLE,
    label="Google (Gmail, Calendar)",
    template="integrations/google/card.html",
    order=5,
    context=_context,
)
