"""Email's pages: the shared channel pages bound to Email's form (see
integrations/portal/channel_views.py)."""

from __future__ import annotations

from integrations.email.forms import EmailForm
from integrations.models import ConnectionKind
from integrations.portal.channel_views import ChannelPages

PAGES = ChannelPages(kind=ConnectionKind.EMAIL, label="Email", form_class=EmailForm)
