"""Settings for the test suite: the real settings, with fast hashing and outbox email.

The keys production requires are generated here, once per test run (child processes
inherit them through the environment), so the real settings need no test switch.
"""

import os
import secrets

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(48))
os.environ.setdefault("ORION_SECRET_KEYS", Fernet.generate_key().decode())

from orion.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http"
ACCOUNT_RATE_LIMITS = False
# The test client speaks plain HTTP.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The fakes of outside services listen on 127.0.0.1.
ORION_SSRF_ALLOW_LOOPBACK = True
