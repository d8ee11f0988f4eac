"""Create the demo tenant and a staff superuser for `make run`, and print how to sign in.

The passwords come from ORION_DEMO_OWNER_PASSWORD and ORION_DEMO_STAFF_PASSWORD (`make run`
keeps one of each under var/); without them each account gets a fresh random one."""

from __future__ import annotations

import os
import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants.models import Membership
from tenants.services.tenants import tenant_create_for_owner

STAFF_EMAIL = "staff@orion.local"
OWNER_EMAIL = "owner@demo.orion.local"


def _password(variable: str) -> str:
    return os.environ.get(variable) or secrets.token_urlsafe(12)


def _verified_user(email: str, password: str, **flags: Any):
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email, **flags})
    user.set_password(password)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create (or refresh) the demo tenant and the staff superuser; print the credentials."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        owner_password = _password("ORION_DEMO_OWNER_PASSWORD")
        staff_password = _password("ORION_DEMO_STAFF_PASSWORD")
        _verified_user(STAFF_EMAIL, staff_password, is_staff=True, is_superuser=True)
        owner = _verified_user(OWNER_EMAIL, owner_password)
        if not Membership.objects.filter(user=owner).exists():
            tenant_create_for_owner(name="Demo Bakery", owner=owner, timezone="Europe/Amsterdam")
        self.stdout.write(
            "Sign in at /accounts/login/ with\n"
            f"  customer (owner of Demo Bakery): {OWNER_EMAIL} / {owner_password}\n"
            f"  Orion staff (admin at /admin/): {STAFF_EMAIL} / {staff_password}\n"
        )
