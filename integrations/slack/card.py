from integrations.kinds import Card
from integrations.models import ConnectionKind

CARD = Card(
    kind=ConnectionKind.SLACK,
    label="Slack",
    template="integrations/slack/card.html",
    order=30,
)
