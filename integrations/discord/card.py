from integrations.kinds import Card
from integrations.models import ConnectionKind
from integrations.portal.channel_forms import card_context

CARD = Card(
    kind=ConnectionKind.DISCORD,
    label="Discord",
    template="integrations/discord/card.html",
    context=card_context,
    order=20,
)
