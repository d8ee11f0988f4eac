"""Per-provider retry policy in the admin (validated: nonsense is a 400, never a 500), and
staff edits of providers, keys, chains and cooldowns audited without secrets."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from agents.models import AuthProfile, ChainCandidate, ModelChain, ProfileCooldown, Provider
from agents.selectors import chain_load
from agents.services.model_calls import provider_policy
from orion.core.models import StaffAuditEvent
from tests.conftest import make_user

from .test_admin import (
    KEY,
    NEW_KEY,
    _chain_data,
    _management,
    _profile_data,
    _text,
)

pytestmark = pytest.mark.django_db
A = "/admin/agents"


@pytest.fixture
def ops() -> object:
    return make_user("ops@orion.test", is_staff=True, is_superuser=True)


@pytest.fixture
def staff(ops) -> Client:
    client = Client()
    client.force_login(ops)
    return client


@pytest.fixture
def provider() -> Provider:
    return Provider.objects.create(name="zhipu", kind="openai", base_url="https://api.z.test/v1")


def _provider_data(provider: Provider | None = None, **overrides: str) -> dict[str, str]:
    data = {
        "name": provider.name if provider else "openai",
        "kind": "openai",
        "base_url": provider.base_url if provider else "https://api.openai.test/v1",
        "connect_timeout_s": "5",
        "attempt_timeout_s": "60",
        "retry_attempts": "3",
        "retry_floor_s": "0.3",
        "retry_cap_s": "30",
        "enabled": "on",
        **_management("profiles", 0),
    }
    data.update(overrides)
    return data


def _events(verb: str | None = None) -> list[StaffAuditEvent]:
    events = StaffAuditEvent.objects.order_by("id")
    return list(events.filter(verb=verb) if verb else events)


# --- item 8: retry policy per provider ------------------------------------------------


def test_a_provider_overrides_its_retry_policy(staff, provider):
    data = _provider_data(
        provider,
        retry_attempts="5",
        retry_floor_s="1.5",
        retry_cap_s="20",
        attempt_timeout_s="45",
    )
    response = staff.post(f"{A}/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, _text(response)[:2000]
    provider.refresh_from_db()
    policy = provider_policy(provider)
    assert (policy.attempts, policy.floor_s, policy.cap_s) == (5, 1.5, 20.0)
    assert policy.retry_after_cap_s == 60.0  # the model policy's rule stays
    assert provider.attempt_timeout_s == 45


def test_defaults_are_the_architecture_numbers(provider):
    policy = provider_policy(provider)
    assert (policy.attempts, policy.floor_s, policy.cap_s, policy.jitter) == (3, 0.3, 30.0, 0.1)
    assert provider.attempt_timeout_s == 60.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retry_attempts", "0", "greater than or equal to 1"),
        ("retry_attempts", "-3", "greater than or equal to"),
        ("retry_attempts", "11", "less than or equal to 10"),
        ("retry_attempts", "three", "Enter a whole number."),
        ("retry_floor_s", "nan", "Enter a number."),
        ("retry_floor_s", "inf", "Enter a number."),
        ("retry_floor_s", "1e400", "Enter a number."),
        ("retry_floor_s", "0", "greater than or equal to 0.05"),
        ("retry_cap_s", "0.1", "The backoff cap must be at least the backoff floor."),
        ("retry_cap_s", "99999", "less than or equal to 300"),
        ("attempt_timeout_s", "0", "greater than or equal to 1"),
        ("attempt_timeout_s", "", "This field is required."),
        ("connect_timeout_s", "90", "less than or equal to 60"),
        ("connect_timeout_s", "10", "cannot exceed the per-attempt timeout"),
    ],
)
def test_nonsense_policy_is_a_clear_400(staff, provider, field, value, message):
    overrides = {field: value}
    if field == "connect_timeout_s" and value == "10":
        overrides["attempt_timeout_s"] = "5"
    before = StaffAuditEvent.objects.count()
    response = staff.post(
        f"{A}/provider/{provider.pk}/change/", _provider_data(provider, **overrides)
    )
    assert response.status_code == 400
    assert message in _text(response)
    stored = Provider.objects.get(pk=provider.pk)
    assert provider_policy(stored).attempts == 3 and stored.retry_cap_s == 30
    assert StaffAuditEvent.objects.count() == before  # nothing saved, nothing audited


# --- item 10: audited staff edits -----------------------------------------------------


def test_provider_edits_are_audited_with_who_and_what_changed(staff, ops, provider):
    staff.post(f"{A}/provider/{provider.pk}/change/", _provider_data(provider, retry_attempts="4"))
    (event,) = _events("provider.changed")
    assert event.actor_user == ops and event.actor_label == "ops@orion.test"
    assert (event.target_type, event.target_id) == ("agents.provider", str(provider.pk))
    assert event.before == {"retry_attempts": 3} and event.after == {"retry_attempts": 4}

    response = staff.post(f"{A}/provider/add/", _provider_data(None))
    assert response.status_code == 302
    (created,) = _events("provider.created")
    assert created.after["name"] == "openai" and created.before is None


def test_key_changes_are_audited_and_the_key_never_appears(staff, ops, provider):
    response = staff.post(f"{A}/authprofile/add/", _profile_data(provider))
    assert response.status_code == 302, _text(response)[:2000]
    profile = AuthProfile.objects.get(label="main")
    response = staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(provider, profile, secret=NEW_KEY, priority="2"),
    )
    assert response.status_code == 302, _text(response)[:2000]
    staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(provider, profile, secret="", priority="2"),
    )
    events = _events()
    assert [e.verb for e in events] == ["auth_profile.created", "auth_profile.changed"]
    assert events[0].after["key"] == "set"
    assert events[1].before == {"priority": 0, "key": "previous"}
    assert events[1].after == {"priority": 2, "key": "replaced"}
    dumped = json.dumps([[e.before, e.after, e.target_repr] for e in events])
    assert KEY not in dumped and NEW_KEY not in dumped
    assert all(e.actor_user == ops for e in events)


def test_keys_added_in_the_provider_page_are_audited_too(staff, provider):
    data = _provider_data(
        provider,
        **_management("profiles", 1),
        **{
            "profiles-0-label": "k1",
            "profiles-0-secret": KEY,
            "profiles-0-priority": "0",
            "profiles-0-enabled": "on",
        },
    )
    response = staff.post(f"{A}/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, _text(response)[:2000]
    (event,) = _events("auth_profile.created")
    assert event.after["label"] == "k1" and KEY not in json.dumps(event.after)


def test_chain_edits_are_audited_with_the_candidate_list(staff, ops, provider):
    backup = Provider.objects.create(name="claude", kind="anthropic", base_url="https://a.test")
    rows = [
        {"position": 1, "provider": provider.pk, "model": "glm-4.7", "context_window": 0},
        {"position": 2, "provider": backup.pk, "model": "claude-haiku", "context_window": 0},
    ]
    response = staff.post(f"{A}/modelchain/add/", _chain_data("cheap", rows))
    assert response.status_code == 302, _text(response)[:2000]
    chain = ModelChain.objects.get(name="cheap")
    first, second = chain.candidates.order_by("position")
    swapped = [
        {
            "id": first.pk,
            "chain": chain.pk,
            "position": 2,
            "provider": provider.pk,
            "model": "glm-4.7",
            "context_window": 0,
        },
        {
            "id": second.pk,
            "chain": chain.pk,
            "position": 1,
            "provider": backup.pk,
            "model": "claude-haiku",
            "context_window": 0,
        },
    ]
    response = staff.post(
        f"{A}/modelchain/{chain.pk}/change/", _chain_data("cheap", swapped, initial=2)
    )
    assert response.status_code == 302, _text(response)[:2000]
    assert [c.model for c in chain_load(chain=chain).candidates] == ["claude-haiku", "glm-4.7"]
    verbs = [e.verb for e in _events()]
    assert verbs == [
        "model_chain.created",
        "model_chain.candidates_changed",
        "model_chain.candidates_changed",
    ]
    swap = _events()[-1]
    assert swap.before == {"candidates": ["1. zhipu/glm-4.7 (0)", "2. claude/claude-haiku (0)"]}
    assert swap.after == {"candidates": ["1. claude/claude-haiku (0)", "2. zhipu/glm-4.7 (0)"]}
    assert swap.actor_user == ops


def test_deletes_and_cooldown_resets_are_audited(staff, provider):
    profile = AuthProfile.objects.create(provider=provider, label="main", secret=KEY)
    cooldown = ProfileCooldown.objects.create(profile=profile, scope="", reason="auth")
    response = staff.post(f"{A}/profilecooldown/{cooldown.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = staff.post(f"{A}/authprofile/{profile.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    chain = ModelChain.objects.create(name="solo")
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
    response = staff.post(f"{A}/modelchain/{chain.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert [e.verb for e in _events()] == [
        "cooldown.reset",
        "auth_profile.deleted",
        "model_chain.deleted",
    ]
    assert _events("model_chain.deleted")[0].before["candidates"] == ["1. zhipu/glm-4.7 (0)"]
    assert not ProfileCooldown.objects.exists() and not ModelChain.objects.exists()


def test_audit_rows_are_append_only(staff, provider):
    from orion.core.models import AppendOnly

    staff.post(f"{A}/provider/{provider.pk}/change/", _provider_data(provider, retry_attempts="4"))
    event = _events()[0]
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        StaffAuditEvent.objects.all().delete()


def test_staff_read_the_audit_log_and_cannot_edit_it(staff, provider):
    staff.post(f"{A}/provider/{provider.pk}/change/", _provider_data(provider, retry_attempts="4"))
    event = _events()[0]
    listing = staff.get("/admin/core/staffauditevent/")
    assert listing.status_code == 200 and "provider.changed" in _text(listing)
    page = staff.get(f"/admin/core/staffauditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert (
        staff.post(f"/admin/core/staffauditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert StaffAuditEvent.objects.filter(pk=event.pk).exists()
