"""The invitation journey in a real browser (Debian's chromium driven by Playwright): the
owner invites by email, the invitee opens the emailed link, signs up there (no company
asked), confirms their email, signs in and accepts, and lands in the team as a member, with
no company of their own."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from tenants.models import Membership, Role, Tenant
from tenants.services.tenants import tenant_create_for_owner
from tests.conftest import make_user

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "Brea-d-Crumbs-2026"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(monkeypatch) -> Iterator[object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("chromium not found on PATH (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_load_state()


def test_an_invitee_signs_up_from_the_email_and_joins_as_a_member(
    live_server, browser, mailoutbox, settings, monkeypatch
):
    from orion.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)  # the Delivery path's send task
    settings.SITE_URL = live_server.url
    base = live_server.url
    owner = make_user("owner@bakery.test", password=PASSWORD)
    tenant = tenant_create_for_owner(name="Crumb Bakery", owner=owner)

    page = browser.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base}/accounts/login/")
    _sign_in(page, base, "owner@bakery.test", PASSWORD)
    page.goto(f"{base}/team/")
    page.fill("input[name=email]", "baker@bakery.test")
    page.select_option("select[name=role]", "member")
    page.click("button:has-text('Send invitation')")
    page.wait_for_selector("text=Invitation sent to baker@bakery.test")
    (invitation_mail,) = mailoutbox
    link = re.search(r"https?://\S+/invite/[^/\s]+/", invitation_mail.body).group(0)
    assert link.startswith(base), "the emailed link must reach this server"
    tenants_before = Tenant.objects.count()

    invitee = browser.new_context().new_page()
    invitee.set_default_timeout(20_000)
    invitee.goto(link)
    invitee.click("a:has-text('Create an account')")
    assert invitee.locator("input[name=company_name]").count() == 0
    assert invitee.input_value("input[name=email]") == "baker@bakery.test"
    invitee.fill("input[name=password1]", PASSWORD)
    invitee.fill("input[name=password2]", PASSWORD)
    invitee.click("button:has-text('Create account')")
    invitee.wait_for_load_state()
    confirm = re.search(r"/accounts/confirm-email/\S+", mailoutbox[-1].body).group(0)
    invitee.goto(base + confirm)
    invitee.click("form button[type=submit]")
    invitee.wait_for_url(link)
    invitee.click("a:has-text('Sign in to accept')")
    _sign_in(invitee, base, "baker@bakery.test", PASSWORD)
    invitee.wait_for_url(link)
    invitee.click("button:has-text('Accept invitation')")
    invitee.wait_for_selector("text=Welcome to Crumb Bakery")
    assert invitee.url.rstrip("/") == base

    baker = Membership.objects.get(user__email="baker@bakery.test")
    assert (baker.tenant_id, baker.role) == (tenant.pk, Role.MEMBER)
    assert Tenant.objects.count() == tenants_before  # no stray company
    invitee.goto(f"{base}/team/")
    assert invitee.locator("text=Leave Crumb Bakery").count() == 1
