from integrations.kinds import Card
from integrations.models import ConnectionKind

CARD = Card(
    kind=ConnectionKind.DISCORD,
    label="Discord",
    template="integrations/discord/card.html",
    order=20,
)
