"""Test settings: the same stack, with the real RabbitMQ and Redis at their standard local ports."""

import os

os.environ["DEBUG"] = "false"  # tests run as production does, whatever .env says
# Every secret the settings require with DEBUG off, set to test-only values (in the environment, so that
# the workers, relays and servers the tests start inherit them).
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-hs256")
os.environ.setdefault("JWT_SIGNING_KEY", "test-only-jwt-signing-key-that-is-long-enough-for-hs256")
os.environ.setdefault("PAYMENTS_SANDBOX_API_KEY", "sk_test_sandbox")
os.environ.setdefault("PAYMENTS_SANDBOX_WEBHOOK_SECRET", "whsec_test_sandbox")
os.environ.setdefault("PAYMENTS_SANDBOX_SECONDARY_API_KEY", "sk_test_sandbox_secondary")
os.environ.setdefault("PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET", "whsec_test_sandbox_secondary")
os.environ.setdefault("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("LOG_JSON", "false")
# One queue namespace per test session (inherited by the workers it starts), so that test runs sharing a
# broker never take each other's messages.
os.environ.setdefault("CELERY_QUEUE_PREFIX", f"ledgerpay-test-{os.getpid()}.")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from .base import *
from .base import DATABASES, REST_FRAMEWORK

DATABASES["default"]["CONN_MAX_AGE"] = 0
CACHES["default"]["KEY_PREFIX"] = "ledgerpay-test"
# No collectstatic before the tests: the plain storage, not the manifest that `make run` builds, and
# WhiteNoise serves from the apps' static folders.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"login_failures": "5/min"}
# Lets two test runs share one server (e.g. a developer's run beside CI's) without dropping each other's database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_ledgerpay")}
if os.environ.get("TEST_WORKER"):
    # A worker, relay or server process started by the tests: it connects to the test database itself.
    DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]  # the test client and the live server for webhooks

# Every test request reads its user, as before the cache: a test that deactivates a user sees it at
# once (core/tests/test_authentication.py tests the cache itself).
JWT_USER_CACHE_SECONDS = 0
