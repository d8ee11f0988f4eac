from integrations.kinds import Card
from integrations.models import ConnectionKind

CARD = Card(
    kind=ConnectionKind.EMAIL,
    label="Email",
    template="integrations/email/card.html",
    order=40,
)
