"""The admin login lockout (django-axes), out of the way of logins that have no request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class AdminLoginLockoutBackend(AxesStandaloneBackend):
    """Axes' backend, except for authentications without a request (the API's JWT login calls
    `authenticate` without one): those pass on to the next backend, and the API's own
    LoginFailureThrottle limits them. Axes itself only counts the admin site's failures."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
