"""No environment switch weakens production settings: with DEBUG off, Orion refuses to
start without its keys and sets secure cookies, whatever ORION_TESTING says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _settings_in_child(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "ORION_SECRET_KEYS", "DJANGO_SETTINGS_MODULE", "DEBUG")
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_orion_testing_does_not_let_production_start_without_keys(tmp_path):
    result = _settings_in_child(
        {"DEBUG": "0", "ORION_TESTING": "1", "ORION_VAR_DIR": str(tmp_path)},
        "import orion.settings",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY and ORION_SECRET_KEYS must be set when DEBUG is off" in result.stderr
    assert not (tmp_path / "dev-fernet-key").exists()


def test_orion_testing_does_not_turn_off_secure_cookies(tmp_path):
    from cryptography.fernet import Fernet

    result = _settings_in_child(
        {
            "DEBUG": "0",
            "ORION_TESTING": "1",
            "ORION_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "k" * 50,
            "ORION_SECRET_KEYS": Fernet.generate_key().decode(),
        },
        "import orion.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_the_test_settings_bring_their_own_keys(tmp_path):
    result = _settings_in_child(
        {"DEBUG": "0", "ORION_VAR_DIR": str(tmp_path)},
        "import orion.settings_test as s; print(len(s.ORION_SECRET_KEYS), bool(s.SECRET_KEY))",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]
