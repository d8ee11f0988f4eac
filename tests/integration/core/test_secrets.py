"""Secrets are encrypted at rest, masked everywhere, rotate without downtime, and a value
no key opens fails with a clear error on that object only."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from agents.models import AuthProfile, Provider
from orion.core.secrets import Secret, SecretUndecryptable

pytestmark = pytest.mark.django_db
KEY = "sk-live-abcdef0123456789"


@pytest.fixture
def profile():
    provider = Provider.objects.create(
        name="openai", kind="openai", base_url="http://127.0.0.1:1/v1"
    )
    return AuthProfile.objects.create(provider=provider, label="main", secret=KEY)


def _raw(profile) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM agents_authprofile WHERE id = %s", [profile.pk])
        return cursor.fetchone()[0]


def test_stored_encrypted_and_read_back_masked(profile):
    assert KEY not in _raw(profile)
    loaded = AuthProfile.objects.get(pk=profile.pk)
    assert isinstance(loaded.secret, Secret)
    assert KEY not in repr(loaded.secret) and KEY not in str(loaded.secret)
    assert loaded.secret.reveal() == KEY


def test_rotation_new_key_first_then_old_key_dropped(profile, settings):
    old = list(settings.ORION_SECRET_KEYS)
    new = Fernet.generate_key().decode()
    before = _raw(profile)
    with override_settings(ORION_SECRET_KEYS=[new, *old]):
        assert AuthProfile.objects.get(pk=profile.pk).secret.reveal() == KEY
        out = io.StringIO()
        call_command("orion_rotate_secrets", stdout=out)
        assert "agents.AuthProfile: 1 rows re-encrypted, 0 undecryptable" in out.getvalue()
    assert _raw(profile) != before
    with override_settings(ORION_SECRET_KEYS=[new]):
        assert AuthProfile.objects.get(pk=profile.pk).secret.reveal() == KEY


def test_a_value_no_key_opens_raises_a_clear_error(profile):
    with override_settings(ORION_SECRET_KEYS=[Fernet.generate_key().decode()]):
        loaded = AuthProfile.objects.get(pk=profile.pk)  # loading never fails
        with pytest.raises(SecretUndecryptable, match="enter it again"):
            loaded.secret.reveal()


def test_dumpdata_and_loaddata_keep_the_key_and_never_write_it_in_clear(profile, tmp_path):
    fixture = tmp_path / "profiles.json"
    call_command("dumpdata", "agents.authprofile", output=str(fixture))
    text = fixture.read_text()
    assert KEY not in text and "fernet:" in text
    AuthProfile.objects.all().delete()
    call_command("loaddata", str(fixture), verbosity=0)
    assert AuthProfile.objects.get(label="main").secret.reveal() == KEY


def test_a_malformed_key_stops_the_settings_at_start():
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "1", "ORION_SECRET_KEYS": "not-a-fernet-key"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.DEBUG"],
        env={**env, "DJANGO_SETTINGS_MODULE": "orion.settings"},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "ORION_SECRET_KEYS: key 1 is not a Fernet key" in done.stderr
