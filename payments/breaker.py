"""One circuit breaker per provider, its state shared by every worker through Redis.

pybreaker keeps the state; with Redis configured (REDIS_URL) it lives there, so when
one worker sees the provider fail `fail_max` times in a row, every worker stops calling
it for `reset_timeout` seconds. Only transient failures (unavailable, timeout) count:
a declined card is the provider working.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pybreaker
from django.conf import settings

from .providers import ProviderError, ProviderUnavailable

_T = TypeVar("_T")
_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()


def _not_a_provider_outage(exc: BaseException) -> bool:
    return not (isinstance(exc, ProviderError) and exc.transient)


def _storage(name: str) -> pybreaker.CircuitBreakerStorage:
    if settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
        from django_redis import get_redis_connection

        prefix = settings.CACHES["default"].get("KEY_PREFIX", "") or "ledgerpay"
        return pybreaker.CircuitRedisStorage(
            pybreaker.STATE_CLOSED, get_redis_connection("default"), namespace=f"{prefix}:breaker:{name}"
        )
    return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)


def breaker_for(name: str) -> pybreaker.CircuitBreaker:
    with _lock:
        if name not in _breakers:
            _breakers[name] = pybreaker.CircuitBreaker(
                fail_max=settings.PAYMENTS_BREAKER_FAIL_MAX,
                reset_timeout=settings.PAYMENTS_BREAKER_RESET_SECONDS,
                exclude=[_not_a_provider_outage],
                state_storage=_storage(name),
                name=name,
                throw_new_error_on_trip=False,
            )
        return _breakers[name]


def breaker_is_open(name: str) -> bool:
    """Open and still cooling down: calls would be refused without reaching the provider."""
    breaker = breaker_for(name)
    if breaker.current_state != pybreaker.STATE_OPEN:
        return False
    opened_at = breaker._state_storage.opened_at
    if opened_at is None:
        return True
    return time.time() - opened_at.timestamp() < breaker.reset_timeout


def provider_call(name: str, call: Callable[[], _T]) -> _T:
    """Run call() through the provider's breaker; an open breaker is a transient ProviderUnavailable."""
    try:
        return breaker_for(name).call(call)
    except pybreaker.CircuitBreakerError as exc:
        raise ProviderUnavailable("circuit_open", f"Provider {name} is failing; calls are paused.") from exc


def breaker_reset(name: str) -> None:
    breaker_for(name).close()
