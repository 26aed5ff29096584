"""Throttling of failed logins, counted per client address and email in the cache.

When the cache is down the throttle lets logins through (and logs it) rather than refusing every
login: the API survives a cache outage, and passwords are still checked.
"""

import logging

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


class LoginFailureThrottle(SimpleRateThrottle):
    """Refuses a login attempt once too many failures were recorded for this address and email.

    Only failures count: `allow_request` reads the history, `record_failure` adds to it.
    """

    scope = "login_failures"
    # Set by SimpleRateThrottle from the rate (read only when a rate is configured); not in the stubs.
    num_requests: int
    duration: int

    def get_cache_key(self, request: Request, view: APIView) -> str:
        data = getattr(request, "data", None)
        email = str(data.get("email", "")).strip().lower() if isinstance(data, dict) else ""
        return self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}:{email}"}

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        try:
            self.history = self.cache.get(self.key, [])
        except Exception as exc:  # the cache is only a counter: an outage must not refuse every login
            logger.warning("login throttle: cache unavailable (%s); not throttling", type(exc).__name__)
            self.history = []
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests

    def record_failure(self, request: Request, view: APIView) -> None:
        self.allow_request(request, view)
        self.history.insert(0, self.now)
        try:
            self.cache.set(self.key, self.history, self.duration)
        except Exception as exc:
            logger.warning("login throttle: cache unavailable (%s); failure not counted", type(exc).__name__)
