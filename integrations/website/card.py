from integrations.kinds import Card
from integrations.models import ConnectionKind

CARD = Card(
    kind=ConnectionKind.WEBSITE,
    label="Website",
    template="integrations/website/card.html",
    order=7,
)
