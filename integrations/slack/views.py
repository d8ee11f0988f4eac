"""Slack's pages: the shared channel pages bound to Slack's form (see
integrations/portal/channel_views.py)."""

from __future__ import annotations

from integrations.models import ConnectionKind
from integrations.portal.channel_views import ChannelPages
from integrations.slack.forms import SlackForm

PAGES = ChannelPages(kind=ConnectionKind.SLACK, label="Slack", form_class=SlackForm)
