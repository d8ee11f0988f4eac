from functools import partial

from integrations.kinds import Card
from integrations.models import ConnectionKind
from integrations.portal.channel_forms import card_context

CARD = Card(
    kind=ConnectionKind.SLACK,
    label="Slack",
    template="integrations/_channel_card.html",
    context=partial(card_context, kind=ConnectionKind.SLACK),
    order=30,
)
