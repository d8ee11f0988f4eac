"""Bad configuration gets a clear error on the object that is wrong, never a crash."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from agents.models import AuthProfile, ChainCandidate, FailoverAttempt, ModelChain, ProfileCooldown
from agents.selectors import ChainConfigError
from agents.services.model_calls import model_call_run
from orion.core.secrets import Secret, encrypt

from .conftest import REQUEST

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_default_chain_is_a_clear_error(db, scoped):
    with pytest.raises(ChainConfigError, match="no default model chain"):
        model_call_run(request=REQUEST, key="c1")


def test_an_empty_chain_is_a_clear_error(setup, scoped):
    empty = ModelChain.objects.create(name="empty")
    with pytest.raises(ChainConfigError, match="'empty' has no candidates"):
        model_call_run(request=REQUEST, key="c1", chain=empty)


def test_a_key_that_does_not_decrypt_is_skipped_with_a_clear_message(setup, scoped, primary, clock):
    other_key = Fernet.generate_key().decode()
    with override_settings(ORION_SECRET_KEYS=[other_key]):
        token = encrypt("written-with-a-dropped-key")
    AuthProfile.objects.filter(pk=setup.k1.pk).update(secret=Secret(token))

    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "ok"
    assert primary.api_keys == ["key-two-2222"]  # k1 never reached the provider
    first = FailoverAttempt.objects.get(call__key="c1", seq=1)
    assert first.error_class == "auth_permanent"
    assert "does not decrypt" in first.message
    assert ProfileCooldown.objects.get(profile=setup.k1, scope="").disabled_until is not None


def test_context_overflow_moves_to_a_larger_context_model(setup, scoped, primary, fallback, clock):
    chain = setup.chain
    chain.candidates.all().delete()
    ChainCandidate.objects.create(
        chain=chain, position=1, provider=setup.zhipu, model="glm-4.7", context_window=128_000
    )
    ChainCandidate.objects.create(
        chain=chain, position=2, provider=setup.zhipu, model="glm-4-air", context_window=32_000
    )
    ChainCandidate.objects.create(
        chain=chain, position=3, provider=setup.backup, model="gemini-pro", context_window=1_000_000
    )
    primary.script_chat([primary.context_overflow()])
    result = model_call_run(request=REQUEST, key="c1", clock=clock, sleep=clock.sleep)
    assert result.content == "ok"
    assert primary.models == ["glm-4.7"]  # the smaller glm-4-air is skipped
    assert fallback.models == ["gemini-pro"]
