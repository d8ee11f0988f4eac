"""Sign-up from an invitation: no company name and no tenant of one's own."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import SignupForm
from django.http import HttpRequest


class InviteeSignupForm(SignupForm):
    """allauth's sign-up without the company: the invitee joins the inviting team by
    accepting the invitation once signed in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["company_name"]

    def signup(self, request: HttpRequest, user: Any) -> None:
        """Creates no tenant (the plain sign-up makes its user the owner of a new one)."""
