"""Discord's pages: the shared channel pages bound to Discord's form (see
integrations/portal/channel_views.py)."""

from __future__ import annotations

from integrations.discord.forms import DiscordForm
from integrations.models import ConnectionKind
from integrations.portal.channel_views import ChannelPages

PAGES = ChannelPages(kind=ConnectionKind.DISCORD, label="Discord", form_class=DiscordForm)
