"""JWT authentication with the per-process user cache: one SELECT less, a deactivation seen after the TTL."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.api.authentication import cached_users_clear

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cached_users_clear()
    yield
    cached_users_clear()


def user_selects(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/accounts").status_code == 200
    return sum('FROM "accounts_user"' in q["sql"] for q in captured.captured_queries)


def test_without_a_ttl_every_request_reads_the_user_and_sees_a_deactivation_at_once(auth_client, settings):
    settings.JWT_USER_CACHE_SECONDS = 0
    assert user_selects(auth_client) == 1
    assert user_selects(auth_client) == 1
    auth_client.user.is_active = False
    auth_client.user.save()
    assert auth_client.get("/api/v1/accounts").status_code == 401


def test_with_a_ttl_the_user_is_read_once_per_process(auth_client, settings):
    settings.JWT_USER_CACHE_SECONDS = 60
    assert user_selects(auth_client) == 1
    assert user_selects(auth_client) == 0
    auth_client.user.is_active = False
    auth_client.user.save()
    assert auth_client.get("/api/v1/accounts").status_code == 200  # within the TTL: the trade-off
    cached_users_clear()
    assert auth_client.get("/api/v1/accounts").status_code == 401


def test_a_refused_token_is_never_cached(api_client, settings, user):
    settings.JWT_USER_CACHE_SECONDS = 60
    user.is_active = False
    user.save()
    from rest_framework_simplejwt.tokens import AccessToken

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    assert api_client.get("/api/v1/accounts").status_code == 401
    user.is_active = True
    user.save()
    assert api_client.get("/api/v1/accounts").status_code == 200
