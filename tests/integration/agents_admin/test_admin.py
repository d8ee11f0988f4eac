"""Staff admin for model configuration: pages open for staff only, keys are write-only and
encrypted, chains must be usable, live state is readable, lists are not N+1."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import (
    Agent,
    AuthProfile,
    ChainCandidate,
    FailoverAttempt,
    ModelCall,
    ModelChain,
    ProfileCooldown,
    Provider,
    Run,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

KEY = "sk-live-ABCdef0123456789"
NEW_KEY = "sk-live-ZYXwvu9876543210"
NEEDS_KEY = "A new profile needs its API key or token."
BAD_KEY = "That does not look like an API key (no spaces, 8+ characters)."
NO_CANDIDATE = "A model chain needs at least one candidate (provider + model)."
SAME_POSITION = "Two candidates share a position; give each its own."
SECOND_DEFAULT = "is already the default chain"

A = "/admin/agents"
POLICY = {"retry_attempts": "3", "retry_floor_s": "0.3", "retry_cap_s": "30"}


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(make_user("ops@orion.test", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def provider() -> Provider:
    return Provider.objects.create(name="zhipu", kind="openai", base_url="https://api.z.test/v1")


@pytest.fixture
def backup() -> Provider:
    return Provider.objects.create(
        name="claude", kind="anthropic", base_url="https://api.anthropic.test"
    )


@pytest.fixture
def profile(provider) -> AuthProfile:
    return AuthProfile.objects.create(provider=provider, label="main", secret=KEY, priority=0)


@pytest.fixture
def chain(provider, backup) -> ModelChain:
    chain = ModelChain.objects.create(name="default", is_default=True)
    ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="glm-4.7")
    ChainCandidate.objects.create(
        chain=chain, position=2, provider=backup, model="claude-haiku", context_window=200_000
    )
    return chain


@pytest.fixture
def world(cast, profile, chain):
    """One row of every agents model, the tenant-owned ones in the cast's tenant."""
    cooldown = ProfileCooldown.objects.create(
        profile=profile,
        scope="glm-4.7",
        reason="rate_limit",
        error_count=1,
        cooldown_until=timezone.now() + timedelta(seconds=60),
    )
    agent = Agent.objects.unscoped().create(
        tenant=cast.tenant, name="Ada", role="admin", model_chain=chain
    )
    run = Run.objects.unscoped().create(tenant=cast.tenant, agent=agent)
    call = ModelCall.objects.unscoped().create(
        tenant=cast.tenant, key="run-1-step-1", agent=agent, run=run, chain=chain
    )
    return {
        "provider": profile.provider,
        "authprofile": profile,
        "profilecooldown": cooldown,
        "modelchain": chain,
        "agent": agent,
        "run": run,
        "modelcall": call,
    }


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _raw_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {AuthProfile._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _management(prefix: str, total: int, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _profile_data(provider, profile=None, **overrides) -> dict[str, str]:
    data = {
        "provider": str(provider.pk),
        "label": "main",
        "secret": KEY,
        "priority": "0",
        "enabled": "on",
        **_management("cooldowns", 0),
    }
    if profile is not None:
        cooldowns = list(profile.cooldowns.all())
        data.update(_management("cooldowns", len(cooldowns), len(cooldowns)))
        for i, cooldown in enumerate(cooldowns):
            data[f"cooldowns-{i}-id"] = str(cooldown.pk)
            data[f"cooldowns-{i}-profile"] = str(profile.pk)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _chain_data(name: str, candidates: list[dict], *, is_default=False, initial=0) -> dict:
    data = {"name": name, **_management("candidates", len(candidates), initial)}
    if is_default:
        data["is_default"] = "on"
    for i, candidate in enumerate(candidates):
        for field, value in candidate.items():
            data[f"candidates-{i}-{field}"] = str(value)
    return data


# --- who may open what ----------------------------------------------------------------

CHANGELISTS = [
    "provider",
    "authprofile",
    "profilecooldown",
    "modelchain",
    "agent",
    "run",
    "modelcall",
]
EDITABLE = ["provider", "authprofile", "modelchain", "agent"]
READ_ONLY = ["profilecooldown", "run", "modelcall"]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_staff_open_every_changelist(staff, world, model):
    response = staff.get(f"{A}/{model}/")
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", CHANGELISTS)
def test_staff_open_every_change_page(staff, world, model):
    response = staff.get(f"{A}/{model}/{world[model].pk}/change/")
    assert response.status_code == 200, _text(response)[:3000]


@pytest.mark.parametrize("model", EDITABLE)
def test_staff_open_every_add_page(staff, world, model):
    assert staff.get(f"{A}/{model}/add/").status_code == 200


@pytest.mark.parametrize("model", CHANGELISTS)
def test_non_staff_are_redirected_to_the_admin_login(client_as, world, model):
    for url in (f"{A}/{model}/", f"{A}/{model}/{world[model].pk}/change/"):
        response = client_as("owner").get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("model", READ_ONLY)
def test_state_and_history_are_read_only(staff, world, model):
    url = f"{A}/{model}/{world[model].pk}/change/"
    page = staff.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert staff.get(f"{A}/{model}/add/").status_code == 403
    assert staff.post(f"{A}/{model}/add/", {}).status_code == 403
    assert staff.post(url, {"status": "succeeded", "reason": "tampered"}).status_code == 403


def test_attempts_have_no_page_of_their_own(staff, world):
    assert staff.get(f"{A}/failoverattempt/").status_code == 404
    assert staff.get(f"{A}/failoverattempt/add/").status_code == 404


def test_read_only_rows_are_unchanged_after_a_refused_post(staff, world):
    call = world["modelcall"]
    staff.post(f"{A}/modelcall/{call.pk}/change/", {"status": "succeeded", "key": "x"})
    call.refresh_from_db()
    assert (call.status, call.key) == ("running", "run-1-step-1")


# --- auth profiles: keys are write-only and encrypted ----------------------------------


def test_adding_a_profile_stores_the_key_encrypted(staff, provider):
    response = staff.post(f"{A}/authprofile/add/", _profile_data(provider, label="second"))
    assert response.status_code == 302, _text(response)[:3000]
    profile = AuthProfile.objects.get(label="second")
    raw = _raw_secret(profile.pk)
    assert raw and raw != KEY and KEY not in raw
    assert profile.secret.reveal() == KEY


def test_adding_a_profile_in_the_provider_page_stores_it_encrypted(staff):
    data = {
        "name": "openai",
        "kind": "openai",
        "base_url": "https://api.openai.test/v1",
        "connect_timeout_s": "5",
        "attempt_timeout_s": "60",
        **POLICY,
        "enabled": "on",
        **_management("profiles", 1),
        "profiles-0-label": "k1",
        "profiles-0-secret": KEY,
        "profiles-0-priority": "0",
        "profiles-0-enabled": "on",
    }
    response = staff.post(f"{A}/provider/add/", data)
    assert response.status_code == 302, _text(response)[:3000]
    profile = AuthProfile.objects.get(provider__name="openai", label="k1")
    assert KEY not in _raw_secret(profile.pk)
    assert profile.secret.reveal() == KEY


def test_the_key_is_never_shown_back(staff, world):
    profile = world["authprofile"]
    token = _raw_secret(profile.pk)
    for url in (
        f"{A}/authprofile/",
        f"{A}/authprofile/{profile.pk}/change/",
        f"{A}/provider/{profile.provider_id}/change/",
        f"{A}/provider/",
        f"{A}/profilecooldown/{world['profilecooldown'].pk}/change/",
    ):
        response = staff.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert KEY not in body and token not in body, url
    body = staff.get(f"{A}/authprofile/{profile.pk}/change/").content.decode()
    assert 'type="password"' in body


def test_an_empty_key_on_edit_keeps_the_stored_key(staff, profile):
    before = _raw_secret(profile.pk)
    response = staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(profile.provider, profile, secret="", label="renamed", priority="3"),
    )
    assert response.status_code == 302, _text(response)[:3000]
    profile.refresh_from_db()
    assert (profile.label, profile.priority) == ("renamed", 3)
    assert _raw_secret(profile.pk) == before
    assert profile.secret.reveal() == KEY


def test_an_empty_key_in_the_provider_page_keeps_every_stored_key(staff, profile):
    provider = profile.provider
    before = _raw_secret(profile.pk)
    data = {
        "name": provider.name,
        "kind": provider.kind,
        "base_url": provider.base_url,
        "connect_timeout_s": "5",
        "attempt_timeout_s": "30",
        **POLICY,
        "enabled": "on",
        **_management("profiles", 1, 1),
        "profiles-0-id": str(profile.pk),
        "profiles-0-provider": str(provider.pk),
        "profiles-0-label": "main",
        "profiles-0-secret": "",
        "profiles-0-priority": "0",
        "profiles-0-enabled": "on",
    }
    response = staff.post(f"{A}/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, _text(response)[:3000]
    provider.refresh_from_db()
    assert provider.attempt_timeout_s == 30
    assert _raw_secret(profile.pk) == before


def test_an_untouched_key_is_not_logged_as_changed(staff, profile):
    from django.contrib.admin.models import LogEntry

    staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(profile.provider, profile, secret="", priority="2"),
    )
    entry = LogEntry.objects.get(object_id=str(profile.pk))
    assert "Priority" in entry.get_change_message()
    assert "API key" not in entry.get_change_message()


def test_a_new_key_replaces_the_stored_key(staff, profile):
    response = staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(profile.provider, profile, secret=f"  {NEW_KEY}  "),
    )
    assert response.status_code == 302, _text(response)[:3000]
    profile.refresh_from_db()
    assert profile.secret.reveal() == NEW_KEY
    assert NEW_KEY not in _raw_secret(profile.pk)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("", NEEDS_KEY),
        ("   ", NEEDS_KEY),
        ("sk live with spaces", BAD_KEY),
        ("sk-1234", BAD_KEY),
    ],
)
def test_a_new_profile_without_a_usable_key_is_refused(staff, provider, secret, message):
    response = staff.post(f"{A}/authprofile/add/", _profile_data(provider, secret=secret))
    assert response.status_code == 400
    assert message in _text(response)
    assert not AuthProfile.objects.exists()


@pytest.mark.parametrize("secret", ["sk live with spaces", "short"])
def test_a_bad_key_on_edit_is_refused_and_the_stored_key_kept(staff, profile, secret):
    before = _raw_secret(profile.pk)
    response = staff.post(
        f"{A}/authprofile/{profile.pk}/change/",
        _profile_data(profile.provider, profile, secret=secret, label="renamed"),
    )
    assert response.status_code == 400
    assert BAD_KEY in _text(response)
    profile.refresh_from_db()
    assert profile.label == "main"
    assert _raw_secret(profile.pk) == before


def test_a_new_profile_without_a_key_in_the_provider_page_is_refused(staff):
    data = {
        "name": "openai",
        "kind": "openai",
        "base_url": "https://api.openai.test/v1",
        "connect_timeout_s": "5",
        "attempt_timeout_s": "60",
        **POLICY,
        "enabled": "on",
        **_management("profiles", 1),
        "profiles-0-label": "k1",
        "profiles-0-secret": "",
        "profiles-0-priority": "0",
    }
    response = staff.post(f"{A}/provider/add/", data)
    assert response.status_code == 400
    assert NEEDS_KEY in _text(response)
    assert not Provider.objects.exists()
    assert not AuthProfile.objects.exists()


def test_a_duplicate_label_is_refused(staff, profile):
    response = staff.post(f"{A}/authprofile/add/", _profile_data(profile.provider))
    assert response.status_code == 400
    assert AuthProfile.objects.count() == 1


# --- model chains: must be usable -----------------------------------------------------


def _candidates(provider, backup):
    return [
        {"position": 1, "provider": provider.pk, "model": "glm-4.7", "context_window": 128000},
        {"position": 2, "provider": backup.pk, "model": "claude-haiku", "context_window": 0},
    ]


def test_a_valid_chain_saves_with_its_candidates(staff, provider, backup):
    response = staff.post(
        f"{A}/modelchain/add/", _chain_data("cheap", _candidates(provider, backup))
    )
    assert response.status_code == 302, _text(response)[:3000]
    chain = ModelChain.objects.get(name="cheap")
    assert [(c.position, c.provider.name, c.model) for c in chain.candidates.all()] == [
        (1, "zhipu", "glm-4.7"),
        (2, "claude", "claude-haiku"),
    ]


@pytest.mark.parametrize(
    "candidates",
    [
        [],
        [{"position": "", "provider": "", "model": "", "context_window": "0"}],
    ],
    ids=["no-rows", "blank-row"],
)
def test_a_chain_without_candidates_is_refused(staff, provider, candidates):
    response = staff.post(f"{A}/modelchain/add/", _chain_data("empty", candidates))
    assert response.status_code == 400
    assert NO_CANDIDATE in _text(response)
    assert not ModelChain.objects.exists()


def test_deleting_every_candidate_is_refused(staff, chain):
    rows = [
        {"id": c.pk, "chain": chain.pk, "position": c.position, "provider": c.provider_id,
         "model": c.model, "context_window": c.context_window, "DELETE": "on"}
        for c in chain.candidates.all()
    ]  # fmt: skip
    response = staff.post(
        f"{A}/modelchain/{chain.pk}/change/",
        _chain_data("default", rows, is_default=True, initial=len(rows)),
    )
    assert response.status_code == 400
    assert NO_CANDIDATE in _text(response)
    assert chain.candidates.count() == 2


def test_duplicate_positions_are_refused(staff, provider, backup):
    candidates = _candidates(provider, backup)
    candidates[1]["position"] = 1
    response = staff.post(f"{A}/modelchain/add/", _chain_data("dup", candidates))
    assert response.status_code == 400
    assert SAME_POSITION in _text(response)
    assert not ModelChain.objects.exists()
    assert not ChainCandidate.objects.exists()


def test_a_candidate_without_a_position_is_refused_not_a_crash(staff, provider, backup):
    candidates = _candidates(provider, backup)
    candidates[1]["position"] = ""
    response = staff.post(f"{A}/modelchain/add/", _chain_data("nopos", candidates))
    assert response.status_code == 400
    assert "This field is required." in _text(response)
    assert not ModelChain.objects.exists()


def test_candidates_can_swap_positions(staff, chain):
    first, second = chain.candidates.all()
    rows = [
        {"id": first.pk, "chain": chain.pk, "position": 2, "provider": first.provider_id,
         "model": first.model, "context_window": first.context_window},
        {"id": second.pk, "chain": chain.pk, "position": 1, "provider": second.provider_id,
         "model": second.model, "context_window": second.context_window},
    ]  # fmt: skip
    response = staff.post(
        f"{A}/modelchain/{chain.pk}/change/",
        _chain_data("default", rows, is_default=True, initial=2),
    )
    assert response.status_code == 302, _text(response)[:3000]
    assert [c.model for c in chain.candidates.all()] == ["claude-haiku", "glm-4.7"]


def test_a_second_default_chain_is_refused_clearly(staff, chain, provider, backup):
    response = staff.post(
        f"{A}/modelchain/add/",
        _chain_data("other", _candidates(provider, backup), is_default=True),
    )
    assert response.status_code == 400
    assert SECOND_DEFAULT in _text(response)
    assert "default" in _text(response)
    assert list(ModelChain.objects.values_list("name", flat=True)) == ["default"]
    assert not ChainCandidate.objects.filter(chain__name="other").exists()


def test_the_default_chain_can_be_edited_and_stays_default(staff, chain):
    rows = [
        {"id": c.pk, "chain": chain.pk, "position": c.position, "provider": c.provider_id,
         "model": c.model, "context_window": c.context_window}
        for c in chain.candidates.all()
    ]  # fmt: skip
    response = staff.post(
        f"{A}/modelchain/{chain.pk}/change/",
        _chain_data("primary", rows, is_default=True, initial=len(rows)),
    )
    assert response.status_code == 302, _text(response)[:3000]
    chain.refresh_from_db()
    assert (chain.name, chain.is_default) == ("primary", True)


# --- agents: tenant-owned, edited by staff across tenants -----------------------------


def _agent_data(tenant, name="Bob", **overrides) -> dict[str, str]:
    data = {
        "tenant": str(tenant.pk),
        "name": name,
        "role": "marketing",
        "status": "active",
        "reports_to": "",
        "model_chain": "",
    }
    data.update(overrides)
    return data


def test_staff_add_an_agent_to_a_tenant(staff, cast, world):
    boss = world["agent"]
    response = staff.post(f"{A}/agent/add/", _agent_data(cast.tenant, reports_to=str(boss.pk)))
    assert response.status_code == 302, _text(response)[:3000]
    bob = Agent.objects.unscoped().get(name="Bob")
    assert (bob.tenant_id, bob.reports_to_id) == (cast.tenant.pk, boss.pk)


def test_a_duplicate_agent_name_is_refused_in_its_tenant_only(staff, cast, world):
    response = staff.post(f"{A}/agent/add/", _agent_data(cast.tenant, name="Ada"))
    assert response.status_code == 400
    assert "already exists" in _text(response)
    assert Agent.objects.unscoped().filter(name="Ada").count() == 1

    response = staff.post(f"{A}/agent/add/", _agent_data(cast.other_tenant, name="Ada"))
    assert response.status_code == 302, _text(response)[:3000]
    assert Agent.objects.unscoped().filter(name="Ada").count() == 2


def test_an_agent_cannot_report_to_another_tenants_agent(staff, cast, world):
    response = staff.post(
        f"{A}/agent/add/",
        _agent_data(cast.other_tenant, reports_to=str(world["agent"].pk)),
    )
    assert response.status_code == 400
    assert "Pick an agent of the same tenant." in _text(response)
    assert not Agent.objects.unscoped().filter(name="Bob").exists()


def test_staff_edit_an_agent_without_moving_it(staff, cast, world):
    ada = world["agent"]
    data = _agent_data(cast.other_tenant, name="Ada Lovelace", status="paused")
    response = staff.post(f"{A}/agent/{ada.pk}/change/", data)
    assert response.status_code == 302, _text(response)[:3000]
    ada.refresh_from_db()
    assert (ada.name, ada.status, ada.tenant_id) == ("Ada Lovelace", "paused", cast.tenant.pk)

    response = staff.post(f"{A}/agent/{ada.pk}/change/", {**data, "reports_to": str(ada.pk)})
    assert response.status_code == 400
    ada.refresh_from_db()
    assert ada.reports_to_id is None


# --- live state ----------------------------------------------------------------------


def _until(moment) -> str:
    """The time alone today, with the date on another day."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M:%S}"
    return f"{local:%Y-%m-%d %H:%M:%S}"


def test_state_now_shows_cooldowns_and_usable_profiles(staff, provider):
    now = timezone.now()
    cooling = AuthProfile.objects.create(provider=provider, label="cooling", secret=KEY)
    disabled = AuthProfile.objects.create(provider=provider, label="disabled", secret=KEY)
    expired = AuthProfile.objects.create(provider=provider, label="expired", secret=KEY)
    AuthProfile.objects.create(provider=provider, label="fresh", secret=KEY)
    revoked = AuthProfile.objects.create(provider=provider, label="revoked", secret=KEY)
    reset = AuthProfile.objects.create(provider=provider, label="reset", secret=KEY)
    soon = now + timedelta(seconds=60)
    ProfileCooldown.objects.create(
        profile=cooling, scope="glm-4.7", reason="rate_limit", error_count=2, cooldown_until=soon
    )
    ProfileCooldown.objects.create(
        profile=disabled,
        reason="billing",
        cooldown_until=now + timedelta(seconds=30),
        disabled_until=now + timedelta(minutes=50),
    )
    ProfileCooldown.objects.create(
        profile=expired, reason="overloaded", cooldown_until=now - timedelta(seconds=5)
    )
    ProfileCooldown.objects.create(profile=reset, reason="", error_count=0)
    tomorrow = now + timedelta(hours=30)
    ProfileCooldown.objects.create(
        profile=revoked, reason="auth_permanent", disabled_until=tomorrow
    )

    response = staff.get(f"{A}/authprofile/")
    assert response.status_code == 200
    admin = response.context["cl"].model_admin
    states = {p.label: admin.state(p) for p in response.context["cl"].result_list}
    assert states == {
        "cooling": f"glm-4.7: rate_limit until {_until(soon)}",
        "disabled": f"all models: billing until {_until(now + timedelta(minutes=50))}",
        "expired": "usable",
        "fresh": "usable",
        "reset": "usable",
        "revoked": f"all models: auth_permanent until {_until(tomorrow)}",
    }
    assert _until(tomorrow).startswith(f"{timezone.localtime(tomorrow):%Y-%m-%d} ")
    body = _text(response)
    assert f"glm-4.7: rate_limit until {_until(soon)}" in body
    assert "billing until" in body


def test_a_model_call_page_lists_its_attempts(staff, cast, world):
    call = world["modelcall"]
    other = ModelCall.objects.unscoped().create(tenant=cast.tenant, key="run-1-step-2")
    started = timezone.now()
    rows = [
        (call, 1, "zhipu", "glm-4.7", "failed", "rate_limit", 429, "slow down please"),
        (call, 2, "zhipu", "glm-4.7", "failed", "overloaded", 503, "engine overloaded"),
        (call, 3, "claude", "claude-haiku", "succeeded", "", 200, ""),
        (other, 1, "zhipu", "glm-4.7", "failed", "auth", 401, "not-this-call"),
    ]
    for owner, seq, prov, model, status, error_class, http_status, message in rows:
        FailoverAttempt.objects.unscoped().create(
            tenant=cast.tenant,
            call=owner,
            seq=seq,
            candidate_index=0 if prov == "zhipu" else 1,
            provider=prov,
            model=model,
            profile_key="p1",
            try_no=1,
            status=status,
            error_class=error_class,
            http_status=http_status,
            message=message,
            started_at=started,
        )
    response = staff.get(f"{A}/modelcall/{call.pk}/change/")
    assert response.status_code == 200
    body = _text(response)
    for text in ("slow down please", "engine overloaded", "rate_limit", "503", "claude-haiku"):
        assert text in body
    assert "not-this-call" not in body
    assert body.index("slow down please") < body.index("engine overloaded")


# --- query counts --------------------------------------------------------------------


def _populate(cast, n: int, offset: int = 0) -> None:
    for i in range(offset, offset + n):
        provider = Provider.objects.create(
            name=f"p{i}", kind="openai", base_url=f"https://p{i}.test/v1"
        )
        profile = AuthProfile.objects.create(provider=provider, label=f"k{i}", secret=KEY)
        ProfileCooldown.objects.create(
            profile=profile, reason="rate_limit", cooldown_until=timezone.now() + timedelta(60)
        )
        chain = ModelChain.objects.create(name=f"c{i}")
        ChainCandidate.objects.create(chain=chain, position=1, provider=provider, model="m")
        agent = Agent.objects.unscoped().create(
            tenant=cast.tenant, name=f"a{i}", role="admin", model_chain=chain
        )
        run = Run.objects.unscoped().create(tenant=cast.tenant, agent=agent)
        ModelCall.objects.unscoped().create(tenant=cast.tenant, key=f"k{i}", agent=agent, run=run)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_auth_profile_list_of_20_uses_a_bounded_number_of_queries(
    staff, cast, django_assert_max_num_queries
):
    _populate(cast, 20)
    with django_assert_max_num_queries(10):
        response = staff.get(f"{A}/authprofile/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 20


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_do_not_query_per_row(staff, cast, model):
    _populate(cast, 2)
    few = _queries(staff, f"{A}/{model}/")
    _populate(cast, 18, offset=2)
    assert _queries(staff, f"{A}/{model}/") == few


def test_staff_who_belong_to_a_tenant_edit_another_tenants_agent(staff, cast, world):
    """The admin runs outside the staff user's own tenant scope (no CrossTenantWrite)."""
    from tenants.models import Membership

    ops = Agent.objects.unscoped().get(pk=world["agent"].pk)
    staff_user = Membership.objects.create(
        tenant=cast.other_tenant,
        user=make_user("ops2@orion.test", is_staff=True, is_superuser=True),
    ).user
    client = Client()
    client.force_login(staff_user)
    data = _agent_data(cast.tenant, name="Ada Renamed")
    response = client.post(f"{A}/agent/{ops.pk}/change/", data)
    assert response.status_code == 302, _text(response)[:3000]
    assert Agent.objects.unscoped().get(pk=ops.pk).name == "Ada Renamed"
    response = client.post(f"{A}/agent/add/", _agent_data(cast.tenant, name="Eve"))
    assert response.status_code == 302
    assert Agent.objects.unscoped().get(name="Eve").tenant_id == cast.tenant.pk
