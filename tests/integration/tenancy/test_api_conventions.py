"""The API's conventions: 401 with a challenge, one error shape, bounded pagination, JSON
404s, PATCH without a role, and the browsable docs served from this server."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Membership, Role
from tenants.scope import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership_of(cast):
    return lambda role: Membership.objects.get(tenant=cast.tenant, user=cast.user(role))


@pytest.mark.parametrize("path", ["/api/v1/team/", "/api/v1/audit/", "/api/v1/agents/"])
def test_unauthenticated_calls_are_401_with_a_challenge(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
    assert response.json()["code"] == "not_authenticated"


def test_errors_share_one_shape(api_as, membership_of):
    client = api_as("owner")
    owner = membership_of("owner")
    last_owner = client.delete(f"/api/v1/team/{owner.pk}/").json()
    assert set(last_owner) == {"detail", "code", "errors"}
    assert isinstance(last_owner["detail"], str) and "owner" in last_owner["detail"]
    bad_role = client.patch(
        f"/api/v1/team/{membership_of('viewer').pk}/", {"role": "emperor"}, format="json"
    ).json()
    assert bad_role["code"] == "invalid" and list(bad_role["errors"]) == ["role"]
    forbidden = api_as("viewer").delete(f"/api/v1/team/{membership_of('member').pk}/").json()
    assert set(forbidden) == {"detail", "code"} and forbidden["code"] == "permission_denied"
    missing = client.get("/api/v1/team/999999/").json()
    assert missing == {"detail": missing["detail"], "code": "not_found"}


@pytest.mark.parametrize("path", ["/api/v1/team/", "/api/v1/audit/"])
@pytest.mark.parametrize(
    "query", ["limit=99999999999999999999", "offset=99999999999999999999", "limit=100000"]
)
def test_pagination_is_bounded(api_as, cast, path, query):
    with tenant_scope(cast.tenant):
        for n in range(205):
            AuditEvent.objects.create(tenant=cast.tenant, verb="x.y", target_repr=str(n))
    response = api_as("owner").get(f"{path}?{query}")
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 200


def test_patch_without_a_role_changes_nothing(api_as, cast, membership_of):
    target = membership_of("viewer")
    response = api_as("owner").patch(f"/api/v1/team/{target.pk}/", {}, format="json")
    assert response.status_code == 200 and response.json()["role"] == Role.VIEWER
    assert Membership.objects.get(pk=target.pk).role == Role.VIEWER


@pytest.mark.parametrize("path", ["/api/v1/team/abc/", "/api/v1/agents/x/", "/api/v1/nothing/"])
def test_unknown_api_urls_are_json_404s(api_as, path):
    response = api_as("owner").get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_are_served_without_a_cdn(path):
    response = Client().get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in body
    assert "cdn." not in body and "unpkg" not in body


def test_the_schema_documents_errors_and_describes_operations(api_as):
    schema = api_as("owner").get("/api/schema/?format=json").json()
    team = schema["paths"]["/api/v1/team/{id}/"]
    for method in ("get", "patch", "delete"):
        assert {"400", "401", "403", "404"} <= set(team[method]["responses"]), method
        assert team[method].get("summary") or team[method].get("description")
    assert "Error" in schema["components"]["schemas"]
