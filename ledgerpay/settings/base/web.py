"""Django itself: apps, middleware, templates, the database, auth, static files, serving, the cache."""

import os

from .environment import *
from .environment import _secret  # noqa: F401

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
# Off (Django's default): a `SELECT 1` before each request cost 14 % of the transfer endpoint's
# throughput (docs/performance.md, levers). Without it, the one request that meets a connection the
# database dropped is a 503 with Retry-After and Django then closes that connection
# (tests/test_connection_drop.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=False)
DATABASES["default"].setdefault("OPTIONS", {})
if env.bool("DB_SERVER_SIDE_BINDING", default=True):
    # Parameters bound by the server, and statements prepared by psycopg after their fifth use on a
    # connection: +12 % for transfer_create in-process, neutral for the API (docs/performance.md).
    # Behind a transaction-pooling pgbouncer older than 1.21 turn it off (prepared statements are per
    # session there).
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
