"""Forms of the tenants app: sign-up (creates the tenant), team and settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from tenants.models import Role
from tenants.models.tenant import validate_timezone


class SignupForm(forms.Form):
    """allauth's sign-up, plus the company name; the new user becomes its owner."""

    company_name = forms.CharField(max_length=120, label="Company name")

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not name:
            raise forms.ValidationError("Give your company a name.")
        return name

    def signup(self, request: HttpRequest, user: Any) -> None:
        from tenants.services.tenants import tenant_create_for_owner

        tenant_create_for_owner(name=self.cleaned_data["company_name"], owner=user)


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TenantSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.CharField(max_length=64, validators=[validate_timezone])
