"""The price table: seeded defaults, provider-specific rows, unpriced models charged
conservatively (never free), staff edits validated and audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from billing.models import ModelPrice
from billing.services.prices import UNPRICED, cost_micros, price_for, prompt_tokens_estimate
from orion.core.models import StaffAuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_defaults_are_seeded_for_the_seeds_models_and_local_models_are_free():
    for model in ("glm-4.7", "gemini-2.5-flash-lite", "claude-sonnet-4-5", "sandbox-large"):
        price = price_for(provider="anyone", model=model)
        assert not price.unpriced and price.output > 0, model
    local = price_for(provider="ollama", model="llama3.1:8b")
    assert (local.input, local.output, local.unpriced) == (0, 0, False)


def test_a_providers_own_row_wins_over_the_any_provider_row():
    ModelPrice.objects.create(
        provider="zhipu-discount",
        model="glm-4.7",
        input_usd_per_mtok=Decimal("0.30"),
        output_usd_per_mtok=Decimal("1.10"),
        cached_input_usd_per_mtok=Decimal("0.05"),
    )
    assert price_for(provider="zhipu-discount", model="glm-4.7").output == Decimal("1.10")
    assert price_for(provider="zhipu", model="glm-4.7").output == Decimal("2.20")


def test_an_unpriced_model_is_flagged_and_charged_like_the_dearest_model():
    price = price_for(provider="acme", model="mystery-model-9000")
    assert price == UNPRICED and price.unpriced
    dearest = price_for(provider="", model="claude-opus-4-1")
    assert price.input >= dearest.input and price.output >= dearest.output
    assert cost_micros(price=price, input_tokens=1000, output_tokens=100) > 0


def test_cost_counts_cached_tokens_at_the_cached_price_rounded_up():
    price = price_for(provider="", model="claude-sonnet-4-5")  # 3 / 15 / 0.30
    # 800 fresh x 3 + 200 cached x 0.30 + 100 out x 15 = 2400 + 60 + 1500 micro-USD
    assert cost_micros(price=price, input_tokens=1000, cached_tokens=200, output_tokens=100) == 3960
    flash = price_for(provider="", model="gemini-2.5-flash-lite")  # 0.10 / 0.40
    assert cost_micros(price=flash, input_tokens=3, output_tokens=0) == 1  # 0.3 rounds up


def test_the_prompt_estimate_is_an_upper_bound_for_cjk_and_english():
    assert prompt_tokens_estimate(utf8_bytes=len("日本語のテキスト".encode()), messages=1) >= 8
    assert prompt_tokens_estimate(utf8_bytes=400, messages=2) >= 100


@pytest.fixture
def staff() -> Client:
    client = Client()
    client.force_login(make_user("ops@orion.test", is_staff=True, is_superuser=True))
    return client


def _form(**overrides: str) -> dict[str, str]:
    return {
        "provider": "zhipu",
        "model": "glm-5",
        "input_usd_per_mtok": "1.00",
        "output_usd_per_mtok": "3.00",
        "cached_input_usd_per_mtok": "0.20",
        **overrides,
    }


def test_staff_add_a_price_audited_and_used_at_once(staff):
    assert price_for(provider="zhipu", model="glm-5").unpriced
    response = staff.post("/admin/billing/modelprice/add/", _form())
    assert response.status_code == 302
    assert price_for(provider="zhipu", model="glm-5").output == Decimal("3.00")
    event = StaffAuditEvent.objects.get(verb="model_price.saved")
    assert event.after["model"] == "glm-5" and event.before is None


@pytest.mark.parametrize(
    "field,value", [("input_usd_per_mtok", "-1"), ("output_usd_per_mtok", "99999")]
)
def test_nonsense_prices_are_refused_next_to_the_field(staff, field, value):
    response = staff.post("/admin/billing/modelprice/add/", _form(**{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ModelPrice.objects.filter(model="glm-5").exists()


def test_outsiders_and_members_cannot_open_the_price_admin(cast):
    client = Client()
    client.force_login(cast.owner)
    assert client.get("/admin/billing/modelprice/").status_code == 302  # to the admin login
