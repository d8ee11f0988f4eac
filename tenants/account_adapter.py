"""allauth's adapter, with one change: the `next` a sign-up was given survives email
verification, because the emailed confirmation link carries it."""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailConfirmation
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


class AccountAdapter(DefaultAccountAdapter):
    def get_email_confirmation_url(
        self, request: HttpRequest, emailconfirmation: EmailConfirmation
    ) -> str:
        url = super().get_email_confirmation_url(request, emailconfirmation)
        next_url = request.POST.get("next", "") if request is not None else ""
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            url += ("&" if "?" in url else "?") + urlencode({"next": next_url})
        return url
