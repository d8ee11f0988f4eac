"""Creating an account from an invitation link: the sign-up asks no company name, and
verification and sign-in lead back to the invitation."""

from __future__ import annotations

from typing import Any

from allauth.account.views import SignupView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from tenants.invitee_signup_form import InviteeSignupForm
from tenants.services.invitations import InvitationInvalid, invitation_lookup


class InvitationSignupView(SignupView):
    template_name = "portal/invitation_signup.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = kwargs["token"]
        try:
            self.invitation = invitation_lookup(token=token)
        except InvitationInvalid as exc:
            return render(
                request,
                "portal/invitation_invalid.html",
                {"reason": str(exc)},
                status=410 if exc.gone else 404,
            )
        self.accept_url = reverse("invitation_accept", args=[token])
        if request.user.is_authenticated:
            return redirect(self.accept_url)
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self) -> type[InviteeSignupForm]:
        return InviteeSignupForm

    def get_initial(self) -> dict:
        return {**super().get_initial(), "email": self.invitation.email}

    def get_success_url(self) -> str:
        return self.accept_url

    def get_context_data(self, **kwargs: Any) -> dict:
        return {
            **super().get_context_data(**kwargs),
            "invitation": self.invitation,
            "accept_url": self.accept_url,
        }


invitation_signup = InvitationSignupView.as_view()
