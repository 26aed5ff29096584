"""Where the settings come from: the environment (.env), the project's folders, DEBUG and secrets."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[3]  # ledgerpay/settings/base/environment.py -> the project

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
