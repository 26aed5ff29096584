"""One circuit breaker per provider, its state shared by every worker through Redis.

It opens on a failure *rate*, not on a run of failures: over a sliding window
(PAYMENTS_BREAKER_WINDOW_SECONDS, counted in ten buckets) it counts calls and, per error
kind (the ProviderError code: connection_failed, timeout, service_unavailable, ...), the
transient failures. Once the window holds at least PAYMENTS_BREAKER_MIN_CALLS calls and one
kind's share of them reaches PAYMENTS_BREAKER_FAILURE_RATE, every worker stops calling the
provider for PAYMENTS_BREAKER_RESET_SECONDS. So a few cards that simulate outages
(pm_card_flaky, pm_card_timeout) at a few per cent of the traffic never trip it for
everyone, while a provider that is down (nearly every call failing the same way) does.

After the cool-down the breaker is half-open: calls go through, the first success closes
it, the first counted failure opens it again for another cool-down. A refusal (a declined
card, a 4xx) is the provider working and counts as a success.

A refused call raises CircuitOpen, which says when the breaker will let calls through
again (`retry_after`): the provider tasks retry at that time rather than burning their
retries inside the cool-down (payments/tasks.py).

With Redis configured (REDIS_URL) the state lives there under `<KEY_PREFIX>:breaker:<name>`;
without it, in this process. If Redis is unreachable the breaker neither counts nor refuses
(it fails open): the provider decides, and the task's own retries still apply.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django.conf import settings

from .providers import ProviderError, ProviderUnavailable

logger = logging.getLogger(__name__)
T = TypeVar("T")
BUCKETS = 10  # the window is counted in this many buckets, each window/BUCKETS seconds long
CIRCUIT_OPEN = "circuit_open"


class CircuitOpen(ProviderUnavailable):
    """The provider's breaker refused the call (nothing was sent); calls resume in retry_after seconds."""

    def __init__(self, provider: str, retry_after: float) -> None:
        super().__init__(
            CIRCUIT_OPEN, f"Provider {provider} is failing; calls are paused for {retry_after:.1f} s."
        )
        self.provider = provider
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        return type(self), (self.provider, self.retry_after), dict(self.__dict__)


@dataclass(frozen=True)
class BreakerPolicy:
    window: float
    min_calls: int
    failure_rate: float
    reset: float

    @classmethod
    def from_settings(cls) -> BreakerPolicy:
        return cls(
            window=float(settings.PAYMENTS_BREAKER_WINDOW_SECONDS),
            min_calls=int(settings.PAYMENTS_BREAKER_MIN_CALLS),
            failure_rate=float(settings.PAYMENTS_BREAKER_FAILURE_RATE),
            reset=float(settings.PAYMENTS_BREAKER_RESET_SECONDS),
        )

    @property
    def bucket(self) -> float:
        return self.window / BUCKETS


@dataclass(frozen=True)
class BreakerState:
    """What one read of the shared state says: open until (epoch seconds, 0 if not open), half-open."""

    open_until: float
    half_open: bool
    reason: str


class _Store(Protocol):
    def read(self) -> BreakerState: ...
    def record(self, *, bucket: int, kind: str | None, ttl: int) -> None: ...
    def window(self, *, buckets: range) -> tuple[int, dict[str, int]]: ...
    def trip(self, *, until: float, reason: str, buckets: range) -> None: ...
    def close(self, *, buckets: range) -> None: ...


class _RedisStore:
    def __init__(self, client: Any, namespace: str) -> None:
        self.client = client
        self.ns = namespace

    def _bucket(self, index: int) -> str:
        return f"{self.ns}:bucket:{index}"

    def read(self) -> BreakerState:
        open_until, half_open, reason = self.client.mget(
            f"{self.ns}:open_until", f"{self.ns}:half_open", f"{self.ns}:reason"
        )
        return BreakerState(
            open_until=float(open_until or 0),
            half_open=bool(half_open),
            reason=(reason or b"").decode() if isinstance(reason, bytes) else (reason or ""),
        )

    def record(self, *, bucket: int, kind: str | None, ttl: int) -> None:
        key = self._bucket(bucket)
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(key, "calls", 1)
        if kind is not None:
            pipe.hincrby(key, f"fail:{kind}", 1)
        pipe.expire(key, ttl)
        pipe.execute()

    def window(self, *, buckets: range) -> tuple[int, dict[str, int]]:
        pipe = self.client.pipeline(transaction=False)
        for index in buckets:
            pipe.hgetall(self._bucket(index))
        calls, failures = 0, dict[str, int]()
        for counts in pipe.execute():
            for field, value in counts.items():
                name = field.decode() if isinstance(field, bytes) else field
                if name == "calls":
                    calls += int(value)
                elif name.startswith("fail:"):
                    failures[name[5:]] = failures.get(name[5:], 0) + int(value)
        return calls, failures

    def trip(self, *, until: float, reason: str, buckets: range) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(f"{self.ns}:open_until", repr(until))
        pipe.set(f"{self.ns}:half_open", "1")
        pipe.set(f"{self.ns}:reason", reason)
        pipe.delete(*(self._bucket(index) for index in buckets))
        pipe.execute()

    def close(self, *, buckets: range) -> None:
        self.client.delete(
            f"{self.ns}:open_until",
            f"{self.ns}:half_open",
            f"{self.ns}:reason",
            *(self._bucket(index) for index in buckets),
        )


class _MemoryStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state = BreakerState(0.0, False, "")
        self.buckets: dict[int, dict[str, int]] = {}

    def read(self) -> BreakerState:
        return self.state

    def record(self, *, bucket: int, kind: str | None, ttl: int) -> None:
        with self.lock:
            counts = self.buckets.setdefault(bucket, {})
            counts["calls"] = counts.get("calls", 0) + 1
            if kind is not None:
                counts[f"fail:{kind}"] = counts.get(f"fail:{kind}", 0) + 1
            for old in [index for index in self.buckets if index < bucket - 2 * BUCKETS]:
                del self.buckets[old]

    def window(self, *, buckets: range) -> tuple[int, dict[str, int]]:
        calls, failures = 0, dict[str, int]()
        with self.lock:
            for index in buckets:
                for name, value in self.buckets.get(index, {}).items():
                    if name == "calls":
                        calls += value
                    else:
                        failures[name[5:]] = failures.get(name[5:], 0) + value
        return calls, failures

    def trip(self, *, until: float, reason: str, buckets: range) -> None:
        with self.lock:
            self.state = BreakerState(until, True, reason)
            self.buckets.clear()

    def close(self, *, buckets: range) -> None:
        with self.lock:
            self.state = BreakerState(0.0, False, "")
            self.buckets.clear()


def _store_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import RedisError

        return (RedisError, OSError)
    except ImportError:  # pragma: no cover - redis is a dependency
        return (OSError,)


class Breaker:
    """The breaker of one provider. `clock` is injectable for tests (epoch seconds)."""

    def __init__(
        self, name: str, store: _Store, policy: BreakerPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = name
        self.store = store
        self.policy = policy
        self.clock = clock
        self._errors = _store_errors()

    def _buckets(self, now: float) -> range:
        current = int(now // self.policy.bucket)
        return range(current - BUCKETS + 1, current + 1)

    def state(self) -> BreakerState | None:
        """The shared state, or None when it cannot be read (Redis down: the breaker fails open)."""
        try:
            return self.store.read()
        except self._errors as exc:
            logger.warning("breaker %s: state unreadable, letting calls through (%r)", self.name, exc)
            return None

    def retry_after(self) -> float:
        """Seconds until calls go through again; 0 when they go through now."""
        state = self.state()
        if state is None:
            return 0.0
        return max(0.0, state.open_until - self.clock())

    def call(self, call: Callable[[], T]) -> T:
        state = self.state()
        now = self.clock()
        if state is not None and state.open_until > now:
            raise CircuitOpen(self.name, state.open_until - now)
        half_open = state is not None and state.half_open
        try:
            result = call()
        except ProviderError as exc:
            self._record(kind=exc.code if exc.transient else None, half_open=half_open)
            raise
        self._record(kind=None, half_open=half_open)
        return result

    def _record(self, *, kind: str | None, half_open: bool) -> None:
        now = self.clock()
        buckets = self._buckets(now)
        try:
            if kind is None:
                self.store.record(bucket=buckets[-1], kind=None, ttl=math.ceil(2 * self.policy.window))
                if half_open:
                    self.store.close(buckets=buckets)
                    logger.info("breaker %s: closed (a call succeeded after the cool-down)", self.name)
                return
            if half_open:
                self.trip(reason=f"{kind} (after the cool-down)")
                return
            self.store.record(bucket=buckets[-1], kind=kind, ttl=math.ceil(2 * self.policy.window))
            calls, failures = self.store.window(buckets=buckets)
            if calls >= self.policy.min_calls and failures.get(kind, 0) >= self.policy.failure_rate * calls:
                self.trip(reason=f"{kind}: {failures[kind]} of {calls} calls in {self.policy.window:g} s")
        except self._errors as exc:
            logger.warning("breaker %s: cannot record a call (%r)", self.name, exc)

    def trip(self, *, reason: str, seconds: float | None = None) -> None:
        now = self.clock()
        until = now + (self.policy.reset if seconds is None else seconds)
        self.store.trip(until=until, reason=reason, buckets=self._buckets(now))
        logger.warning("breaker %s: open until %.0f: %s", self.name, until, reason)

    def close(self) -> None:
        self.store.close(buckets=self._buckets(self.clock()))


_breakers: dict[str, Breaker] = {}
_lock = threading.Lock()


def _store(name: str) -> _Store:
    if settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
        from django_redis import get_redis_connection

        prefix = settings.CACHES["default"].get("KEY_PREFIX", "") or "ledgerpay"
        return _RedisStore(get_redis_connection("default"), f"{prefix}:breaker:{name}")
    return _MemoryStore()


def breaker_for(name: str) -> Breaker:
    with _lock:
        if name not in _breakers:
            _breakers[name] = Breaker(name, _store(name), BreakerPolicy.from_settings())
        return _breakers[name]


def breaker_is_open(name: str) -> bool:
    """Open and still cooling down: calls would be refused without reaching the provider."""
    return breaker_for(name).retry_after() > 0


def provider_call(name: str, call: Callable[[], T]) -> T:
    """Run call() through the provider's breaker; an open breaker raises CircuitOpen (transient)."""
    return breaker_for(name).call(call)


def breaker_trip(name: str, *, reason: str = "manual", seconds: float | None = None) -> None:
    """Open the breaker now (for operators and tests): for `seconds`, or the configured cool-down."""
    breaker_for(name).trip(reason=reason, seconds=seconds)


def breaker_reset(name: str) -> None:
    breaker_for(name).close()
