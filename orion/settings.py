"""Orion settings, read from the environment (see README "Configuration").

With nothing set, Orion runs embedded: SQLite under var/, Celery on kombu's filesystem
transport under var/, a dev secret generated once into var/. With DEBUG off it refuses to
start without a real SECRET_KEY and ORION_SECRET_KEYS.
"""

from __future__ import annotations

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from orion.env import (
    BASE_DIR,
    VAR_DIR,
    dev_secret,
    env_bool,
    env_int,
    env_list,
    env_str,
)

DEBUG = env_bool("DEBUG", default=False)
# No "testing" switch here: a test run gets its keys from orion.settings_test, so nothing
# in the environment can make a production process (DEBUG off) start without them.
EMBEDDED = not env_str("DATABASE_URL")

SECRET_KEY = env_str("SECRET_KEY")
ORION_SECRET_KEYS = env_list("ORION_SECRET_KEYS", [])
if not SECRET_KEY or not ORION_SECRET_KEYS:
    if not DEBUG:
        missing = [
            n
            for n, v in (("SECRET_KEY", SECRET_KEY), ("ORION_SECRET_KEYS", ORION_SECRET_KEYS))
            if not v
        ]
        raise ImproperlyConfigured(
            f"{' and '.join(missing)} must be set when DEBUG is off "
            "(ORION_SECRET_KEYS: comma-separated Fernet keys, newest first)"
        )
    SECRET_KEY = SECRET_KEY or dev_secret("dev-secret-key")
    if not ORION_SECRET_KEYS:
        key_file = VAR_DIR / "dev-fernet-key"
        if not key_file.exists():
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(Fernet.generate_key().decode() + "\n")
            key_file.chmod(0o600)
        ORION_SECRET_KEYS = [key_file.read_text().strip()]
for _n, _key in enumerate(ORION_SECRET_KEYS, start=1):
    try:
        Fernet(_key.encode())
    except ValueError as _exc:
        raise ImproperlyConfigured(
            f"ORION_SECRET_KEYS: key {_n} is not a Fernet key (32 url-safe base64 bytes); "
            "generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from _exc

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "orion.core",
    "tenants",
    "integrations",
    "billing",
    "agents",
    "orion.monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "orion.core.middleware.InvalidFormStatusMiddleware",
    "tenants.middleware.TenantScopeMiddleware",
]

ROOT_URLCONF = "orion.urls"
WSGI_APPLICATION = "orion.wsgi.application"
ASGI_APPLICATION = "orion.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.tenant",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'orion.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Several processes (web, worker, beat) share the file: wait on a lock, don't fail.
    # IMMEDIATE: a transaction takes the write lock at BEGIN, so one that read first never
    # fails at once with "database is locked" when it comes to write (WAL snapshot upgrade).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and broker -----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = ("orion.celery.route_task",)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tenants with their own queue get work routed to "<queue>.t<tenant_id>" (see route_task).
ORION_DEDICATED_TENANT_QUEUES = {int(t) for t in env_list("ORION_DEDICATED_TENANT_QUEUES", [])}
# Agent heartbeats: a run's lease outlives the task's hard limit, so only a dead worker's
# run is taken over; a run with no progress for ORION_RUN_STUCK_AFTER_S is stuck.
ORION_RUN_LEASE_S = env_int("ORION_RUN_LEASE_S", CELERY_TASK_TIME_LIMIT + 30, minimum=30)
ORION_RUN_STUCK_AFTER_S = env_int("ORION_RUN_STUCK_AFTER_S", 1800, minimum=60)
if ORION_RUN_STUCK_AFTER_S <= ORION_RUN_LEASE_S:
    raise ImproperlyConfigured(
        f"ORION_RUN_STUCK_AFTER_S ({ORION_RUN_STUCK_AFTER_S}) must exceed ORION_RUN_LEASE_S "
        f"({ORION_RUN_LEASE_S}): a run working through a long model call is not stuck"
    )

# --- Auth and accounts ------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# A taken email gets a clear form error (a 400) rather than allauth's silent mail to the
# address owner: the customer asked for it, and sign-up is rate limited by allauth.
ACCOUNT_PREVENT_ENUMERATION = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SIGNUP_FORM_CLASS = "tenants.forms.SignupForm"
ACCOUNT_ADAPTER = "tenants.account_adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Orion] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Orion"

# --- Email ----------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Orion <noreply@orion.local>")

# --- Outside services -----------------------------------------------------------------
# Every base URL is a setting so tests and drills point the real clients at fakes on
# 127.0.0.1. Secrets come from the environment (or the admin where said), never the repo.
ORION_TELEGRAM_API_BASE = env_str("ORION_TELEGRAM_API_BASE", "https://api.telegram.org")
ORION_DISCORD_API_BASE = env_str("ORION_DISCORD_API_BASE", "https://discord.com")
ORION_SLACK_API_BASE = env_str("ORION_SLACK_API_BASE", "https://slack.com/api/")
ORION_GOOGLE_AUTH_URI = env_str(
    "ORION_GOOGLE_AUTH_URI", "https://accounts.google.com/o/oauth2/auth"
)
ORION_GOOGLE_TOKEN_URI = env_str("ORION_GOOGLE_TOKEN_URI", "https://oauth2.googleapis.com/token")
ORION_GOOGLE_REVOKE_URI = env_str("ORION_GOOGLE_REVOKE_URI", "https://oauth2.googleapis.com/revoke")
ORION_GOOGLE_API_BASE = env_str("ORION_GOOGLE_API_BASE", "https://www.googleapis.com/")
ORION_GOOGLE_CLIENT_ID = env_str("ORION_GOOGLE_CLIENT_ID")
ORION_GOOGLE_CLIENT_SECRET = env_str("ORION_GOOGLE_CLIENT_SECRET")
ORION_STRIPE_API_BASE = env_str("ORION_STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# The Delivery path: how long one request to a channel may take before a send that left is
# ambiguous, and how long a claim holds a delivery (0: ten request timeouts).
ORION_DELIVERY_TIMEOUT_S = env_int("ORION_DELIVERY_TIMEOUT_S", 20, minimum=1)
ORION_DELIVERY_LEASE_S = env_int("ORION_DELIVERY_LEASE_S", 0)
# Days a tenant whose payment failed keeps running before its heartbeats stop.
ORION_BILLING_GRACE_DAYS = env_int("ORION_BILLING_GRACE_DAYS", 7)
# The SSRF guard refuses private, loopback, link-local and metadata addresses. Loopback
# (127.0.0.0/8 only) is let through for the test suite and the local demo, never in
# production: settings_test and `make run` set it.
ORION_SSRF_ALLOW_LOOPBACK = env_bool("ORION_SSRF_ALLOW_LOOPBACK", default=False)

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["tenants.api_auth.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "tenants.api_conventions.ErrorDocumentingAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "tenants.api_pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tenants.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Orion API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "DESCRIPTION": "Orion's REST API. Errors share one shape: `detail` (a sentence), `code`, "
    "and for rejected input `errors` by field. Lists page with `limit` (at most 200) and "
    "`offset`.",
    # Swagger UI and Redoc from this server (drf-spectacular-sidecar), not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status` or `role` with their own choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "MembershipRoleEnum": "tenants.models.Role.choices",
        "TenantStatusEnum": "tenants.models.TenantStatus.choices",
        "AgentRoleEnum": "agents.models.AgentRole.choices",
        "AgentStatusEnum": "agents.models.AgentStatus.choices",
        "RunStatusEnum": "agents.models.RunStatus.choices",
        "GoalStatusEnum": "agents.models.GoalStatus.choices",
        "TaskStatusEnum": "agents.models.TaskStatus.choices",
        "MessageRoleEnum": "agents.models.MessageRole.choices",
        "MessageStatusEnum": "agents.models.MessageStatus.choices",
        "ToolCallStatusEnum": "agents.models.ToolCallStatus.choices",
        "ModelCallStatusEnum": "agents.models.ModelCallStatus.choices",
    },
}

# --- i18n, static ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# whitenoise serves the apps' static files from the process (no CDN, no collectstatic
# needed for `make run`); `collectstatic` into STATIC_ROOT works as well.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print each django.* line a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "INFO"},
        "httpx": {"level": "WARNING"},
    },
}
