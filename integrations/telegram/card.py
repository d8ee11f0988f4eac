from functools import partial

from integrations.kinds import Card
from integrations.models import ConnectionKind
from integrations.portal.channel_forms import card_context

CARD = Card(
    kind=ConnectionKind.TELEGRAM,
    label="Telegram",
    template="integrations/_channel_card.html",
    context=partial(card_context, kind=ConnectionKind.TELEGRAM),
    order=10,
)
