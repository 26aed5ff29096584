"""JWT authentication that keeps each authenticated user for a few seconds per process.

simplejwt SELECTs the user on every request to check that it still exists and is active. With
JWT_USER_CACHE_SECONDS > 0 a process reuses that answer for so many seconds: one statement and a
round trip less per request, at the price that a user deactivated meanwhile keeps access that much
longer (its access token stays valid for minutes anyway). Only successes are kept.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

MAX_CACHED_USERS = 10_000
_users: dict[Any, tuple[float, Any]] = {}


class CachedUserJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token) -> Any:
        ttl = getattr(settings, "JWT_USER_CACHE_SECONDS", 0)
        if ttl <= 0:
            return super().get_user(validated_token)
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        now = time.monotonic()
        hit = _users.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = super().get_user(validated_token)
        if len(_users) >= MAX_CACHED_USERS:
            _users.clear()
        _users[user_id] = (now + ttl, user)
        return user


def cached_users_clear() -> None:
    """Forget every cached user (tests; a process that must see a deactivation at once)."""
    _users.clear()


class CachedUserJWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same bearer JWT as simplejwt's."""

    target_class = "core.api.authentication.CachedUserJWTAuthentication"
