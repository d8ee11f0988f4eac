"""Every portal page with the fixed cast: owner, admin, member, viewer, outsider, anonymous."""

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.integration.portal.conftest import CAST, ROLES

pytestmark = pytest.mark.django_db

PAGES = ["/", "/team/", "/settings/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_members_see_their_tenant(client_as, role, path):
    response = client_as(role).get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme Plumbing" in body
    assert "Globex" not in body


@pytest.mark.parametrize("path", PAGES)
def test_outsider_sees_only_its_own_tenant(client_as, path):
    response = client_as("outsider").get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Globex Bakery" in body
    assert "Acme" not in body and "acme.test" not in body


@pytest.mark.parametrize("path", ["/team/", "/settings/", "/switch/"])
def test_anonymous_is_sent_to_sign_in(path):
    method = "post" if path == "/switch/" else "get"
    response = getattr(Client(), method)(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_signed_in_user_without_a_team_gets_the_no_team_page(db, path):
    client = Client()
    client.force_login(make_user("lonely@nowhere.test"))
    response = client.get(path)
    assert response.status_code == 404
    assert "No team yet" in response.content.decode()
    assert "lonely@nowhere.test" in response.content.decode()


def test_dashboard_has_honest_empty_states_and_recent_activity(client_as):
    body = client_as("viewer").get("/").content.decode()
    for thing in ("No agents yet", "No connections yet", "No budget yet"):
        assert thing in body
    assert body.count("Not set up yet") == 3
    assert "created the team" in body  # the tenant.created audit row
    assert "owner@acme.test" in body


def test_dashboard_shows_only_this_tenants_events(client_as, cast):
    from tenants.services.tenants import tenant_update_settings

    tenant_update_settings(
        tenant=cast.other_tenant, actor=cast.outsider, name="Globex Bread", timezone="UTC"
    )
    body = client_as("owner").get("/").content.decode()
    assert "changed the settings" not in body
    assert "Globex" not in body


@pytest.mark.parametrize("role", CAST)
def test_nav_links_sign_out_form_and_two_factor(client_as, role):
    body = client_as(role).get("/").content.decode()
    for link in ('href="/team/"', 'href="/settings/"', 'href="/accounts/2fa/"'):
        assert link in body
    assert 'action="/accounts/logout/"' in body and 'method="post"' in body
    assert 'action="/switch/"' not in body  # one membership: no switcher


@pytest.mark.parametrize("role", ROLES)
def test_switcher_only_to_tenants_the_user_belongs_to(client_as, cast, role):
    client = client_as(role)
    assert client.post("/switch/", {"tenant_id": cast.other_tenant.pk}).status_code == 404
    assert client.post("/switch/", {"tenant_id": "nope"}).status_code == 404
    assert client.post("/switch/", {}).status_code == 404
    assert client.post("/switch/", {"tenant_id": cast.tenant.pk}).status_code == 302
    assert "Acme Plumbing" in client.get("/").content.decode()


def test_outsider_cannot_switch_into_our_tenant(client_as, cast):
    client = client_as("outsider")
    assert client.post("/switch/", {"tenant_id": cast.tenant.pk}).status_code == 404
    assert "Globex Bakery" in client.get("/").content.decode()


def test_switching_between_two_memberships(cast):
    from tenants.middleware import SESSION_KEY
    from tenants.models import Membership, Role

    Membership.objects.create(tenant=cast.other_tenant, user=cast.member, role=Role.VIEWER)
    client = Client()
    client.force_login(cast.member)
    body = client.get("/").content.decode()
    assert 'action="/switch/"' in body  # two memberships: the switcher shows
    assert client.get("/switch/").status_code == 405
    response = client.post("/switch/", {"tenant_id": cast.other_tenant.pk})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session[SESSION_KEY] == cast.other_tenant.pk
    page = client.get("/team/").content.decode()
    assert "owner@globex.test" in page and "owner@acme.test" not in page
    assert "Send invitation" not in page  # a viewer there
    client.post("/switch/", {"tenant_id": cast.tenant.pk})
    assert "owner@acme.test" in client.get("/team/").content.decode()
