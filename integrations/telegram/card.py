from integrations.kinds import Card
from integrations.models import ConnectionKind

CARD = Card(
    kind=ConnectionKind.TELEGRAM,
    label="Telegram",
    template="integrations/telegram/card.html",
    order=10,
)
