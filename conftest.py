"""Root fixtures: an API client, users, and a fast fail when a service the tests need is not running."""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

HOW_TO_START = "start it with: docker compose up -d rabbitmq redis"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def _embedded_database_ensure() -> None:
    """Without DATABASE_URL the settings point at the embedded PostgreSQL but never start it: the
    test run does, before any test touches the database (`make test` already exports its URL)."""
    if os.environ.get("DATABASE_URL"):
        return
    from ledgerpay.embedded_db import ensure_running

    server = ensure_running(Path(settings.DATA_DIR) / "postgres")
    # The same dict Django's connections were configured from, so they follow.
    settings.DATABASES["default"].update(HOST=server.host, PORT=server.port)


def pytest_sessionstart(session):
    _embedded_database_ensure()
    missing = []
    if not _reachable(settings.CELERY_BROKER_URL, 5672):
        missing.append(f"RabbitMQ at {settings.CELERY_BROKER_URL}")
    if not _reachable(settings.REDIS_URL, 6379):
        missing.append(f"Redis at {settings.REDIS_URL}")
    if missing:
        pytest.exit(
            f"The test suite needs {' and '.join(missing)}, unreachable: {HOW_TO_START}", returncode=3
        )


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user):
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    client.user = user
    return client


@pytest.fixture
def client_for():
    """A JWT-authenticated API client for any user."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        client.user = user
        return client

    return make
