"""`orion_demo`: the demo owner and the staff user each get their own password."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from tenants.management.commands.orion_demo import OWNER_EMAIL, STAFF_EMAIL

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("orion_demo", stdout=out)
    return out.getvalue()


def test_the_owner_and_staff_get_the_passwords_make_run_keeps(monkeypatch):
    monkeypatch.setenv("ORION_DEMO_OWNER_PASSWORD", "owner-Pass-1234")
    monkeypatch.setenv("ORION_DEMO_STAFF_PASSWORD", "staff-Pass-5678")
    out = _run()
    assert f"{OWNER_EMAIL} / owner-Pass-1234" in out
    assert f"{STAFF_EMAIL} / staff-Pass-5678" in out
    assert authenticate(username=OWNER_EMAIL, password="owner-Pass-1234")
    assert authenticate(username=STAFF_EMAIL, password="staff-Pass-5678").is_staff
    assert authenticate(username=STAFF_EMAIL, password="owner-Pass-1234") is None


def test_without_configured_passwords_each_account_gets_its_own(monkeypatch):
    monkeypatch.delenv("ORION_DEMO_OWNER_PASSWORD", raising=False)
    monkeypatch.delenv("ORION_DEMO_STAFF_PASSWORD", raising=False)
    out = _run()
    owner = out.split(f"{OWNER_EMAIL} / ")[1].split()[0]
    staff = out.split(f"{STAFF_EMAIL} / ")[1].split()[0]
    assert owner != staff
    assert authenticate(username=OWNER_EMAIL, password=owner)
    assert authenticate(username=STAFF_EMAIL, password=staff)
