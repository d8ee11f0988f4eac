"""allauth's adapter, with two changes:

- the `next` a sign-up was given survives email verification, because the emailed
  confirmation link carries it;
- allauth's mails (email verification, password reset, email change, notifications) go
  through the Delivery path like every other mail of the product: queued on the
  person's tenant and sent after commit, retried there, so a mail server that is down
  never turns a sign-up or a password reset into a 500. Someone with no tenant at all
  (no membership, no invitation) gets allauth's direct send, with a mail server failure
  told in words instead of a 500.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress, EmailConfirmation
from allauth.core import context as allauth_context
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMessage
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.http import url_has_allowed_host_and_scheme

from orion.core.outbound import Channel, Outbound, outbound_send
from tenants.models import Invitation, Membership
from tenants.services.invitations import InvitationInvalid, invitation_lookup

log = logging.getLogger(__name__)

# The Delivery path hides this purpose's body from the team and drops it once final: an
# account mail carries a one-time link (verification, password reset).
ACCOUNT_PURPOSE = "account"
NOT_SENT = (
    "We could not send the email just now: our mail server did not answer. "
    "Please try again in a few minutes."
)


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

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render as allauth does, then queue on the Delivery path (the text body: the
        email transport sends plain text only)."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        tenant_id = _tenant_for(email=email, user=context.get("user"), request=request)
        if tenant_id is None:
            _send_direct(message, template_prefix=template_prefix, request=request)
            return
        body = message.body
        if getattr(message, "content_subtype", "plain") == "html":  # an HTML-only template
            body = strip_tags(body)
        name = template_prefix.rsplit("/", 1)[-1]
        outbound_send(
            Outbound(
                tenant_id=tenant_id,
                channel=Channel.EMAIL,
                # Each of allauth's mails is a message of its own (a second reset is a
                # second mail), hence a fresh key every time.
                key=f"account:{name}:{uuid4().hex}",
                subject=message.subject,
                body=body,
                to=(email,),
                purpose=ACCOUNT_PURPOSE,
            )
        )


def _tenant_for(*, email: str, user: Any, request: HttpRequest | None) -> int | None:
    """The tenant an account mail is sent for: the person's first membership (a new owner's
    tenant is created by the sign-up form before allauth sends the verification); else the
    invitation being signed up from; else a pending invitation to the address."""
    if user is None or not getattr(user, "pk", None):
        user = _user_of(email)
    signed_in = getattr(request, "user", None)
    if user is None and signed_in is not None and signed_in.is_authenticated:
        user = signed_in  # e.g. a notification to an address just removed
    if user is not None:
        tenant_id = (
            Membership.objects.filter(user_id=user.pk)
            .order_by("created_at", "pk")
            .values_list("tenant_id", flat=True)
            .first()
        )
        if tenant_id is not None:
            return tenant_id
    tenant_id = _invitation_tenant(request)
    if tenant_id is not None:
        return tenant_id
    return (
        Invitation.objects.unscoped()
        .filter(
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at", "-pk")
        .values_list("tenant_id", flat=True)
        .first()
    )


def _user_of(email: str) -> Any:
    address = EmailAddress.objects.filter(email__iexact=email).select_related("user").first()
    if address is not None:
        return address.user
    return get_user_model().objects.filter(email__iexact=email).first()


def _invitation_tenant(request: HttpRequest | None) -> int | None:
    """The tenant of the invitation whose sign-up page this request is (the invitee may
    sign up with another address than the invited one)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name != "invitation_signup":
        return None
    try:
        return invitation_lookup(token=match.kwargs["token"]).tenant_id
    except (InvitationInvalid, KeyError):
        return None


def _send_direct(
    message: EmailMessage, *, template_prefix: str, request: HttpRequest | None
) -> None:
    """allauth's own send, for someone with no tenant: a mail server that is down is logged
    (without the address) and told to the person, never a 500."""
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning(
            "account mail %s not sent: %s (no tenant, so not on the Delivery path)",
            template_prefix.rsplit("/", 1)[-1],
            type(exc).__name__,
        )
        if request is not None:
            messages.error(request, NOT_SENT, fail_silently=True)
