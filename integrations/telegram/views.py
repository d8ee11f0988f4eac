"""Telegram's pages: the shared channel pages bound to Telegram's form (see
integrations/portal/channel_views.py)."""

from __future__ import annotations

from integrations.models import ConnectionKind
from integrations.portal.channel_views import ChannelPages
from integrations.telegram.forms import TelegramForm

PAGES = ChannelPages(kind=ConnectionKind.TELEGRAM, label="Telegram", form_class=TelegramForm)
