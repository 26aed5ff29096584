"""The provider circuit breaker on the real Redis: it opens on a failure rate per error kind over a
window (not on a few failures in a row), its state is shared by every process, and the provider
tasks wait for its reset instead of spending their retries inside the cool-down."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Signature
from celery.exceptions import Retry
from django.conf import settings

from payments import breaker as breaker_module
from payments.breaker import (
    Breaker,
    BreakerPolicy,
    CircuitOpen,
    _RedisStore,
    breaker_is_open,
    breaker_reset,
    breaker_trip,
    provider_call,
)
from payments.models import PaymentStatus
from payments.providers import ProviderRequestError, ProviderTimeout, ProviderUnavailable
from payments.tasks import provider_authorize
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.redis
PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def name() -> Iterator[str]:
    """A breaker of its own, so no other test's calls count in its window."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    breaker_reset(name)


def _ok() -> str:
    return "charged"


def _raise(exc: Exception) -> Callable[[], str]:
    def call() -> str:
        raise exc

    return call


def _call(name: str, call: Callable[[], str]) -> str | None:
    try:
        return provider_call(name, call)
    except (ProviderUnavailable, ProviderTimeout):
        return None


def test_flaky_and_timeout_cards_at_5_percent_of_traffic_never_open_the_shared_breaker(name):
    """400 payments, 5 % of them on pm_card_flaky (503 twice, then success) or pm_card_timeout (one
    timeout, then found). Under load their failures arrive in bursts, as the retries of several
    such payments coincide: ten failures in a row, yet 7 % of the calls. Everyone else's payments
    must keep flowing."""
    flaky = ProviderUnavailable("service_unavailable", "The card network is unavailable, try again.")
    timeout = ProviderTimeout("timeout", "POST /v1/charges: no answer in time")
    for burst in range(4):
        for _ in range(95):
            assert _call(name, _ok) == "charged"
        for _ in range(2):  # five flaky payments fail twice each, back to back
            for _ in range(3):
                _call(name, _raise(flaky))
            for _ in range(2):
                _call(name, _raise(timeout))
        for _ in range(5):  # their retries succeed
            assert _call(name, _ok) == "charged", f"the breaker opened for everyone in burst {burst}"
    assert not breaker_is_open(name)


def test_a_provider_outage_opens_the_breaker_for_every_worker(name):
    down = ProviderUnavailable("connection_failed", "POST /v1/charges: connection refused")
    for _ in range(settings.PAYMENTS_BREAKER_MIN_CALLS):
        _call(name, _raise(down))
    assert breaker_is_open(name)
    with pytest.raises(CircuitOpen) as refused:
        provider_call(name, _ok)
    assert 0 < refused.value.retry_after <= settings.PAYMENTS_BREAKER_RESET_SECONDS
    # Another process (another worker) sees the same state through Redis.
    seen = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from payments.breaker import breaker_is_open; "
            f"print(breaker_is_open({name!r}))",
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "ledgerpay.settings.test"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.strip() == "True"


def test_a_few_failures_below_the_minimum_volume_do_not_open_it(name):
    down = ProviderUnavailable("connection_failed", "refused")
    for _ in range(settings.PAYMENTS_BREAKER_MIN_CALLS - 1):
        _call(name, _raise(down))
    assert not breaker_is_open(name)


def test_failures_are_counted_per_kind(name):
    """Half the calls fail, but no single kind of failure dominates: the provider is up, cards vary."""
    kinds = ["service_unavailable", "timeout", "connection_lost", "rate_limited"]
    for i in range(200):
        if i % 2:
            _call(name, _ok)
        else:
            _call(name, _raise(ProviderUnavailable(kinds[(i // 2) % 4], "x")))
    assert not breaker_is_open(name)


def test_declines_are_the_provider_working(name):
    for _ in range(3 * settings.PAYMENTS_BREAKER_MIN_CALLS):
        with pytest.raises(ProviderRequestError):
            provider_call(name, _raise(ProviderRequestError("card_declined", "declined", http_status=402)))
    assert not breaker_is_open(name)


def test_after_the_cool_down_one_success_closes_it_and_one_failure_opens_it_again(name):
    breaker_trip(name, seconds=0)  # its cool-down is over: half-open
    assert not breaker_is_open(name)
    _call(name, _raise(ProviderUnavailable("connection_failed", "still down")))
    assert breaker_is_open(name)

    breaker_trip(name, seconds=0)
    assert provider_call(name, _ok) == "charged"
    # Closed again: a single failure no longer opens it.
    _call(name, _raise(ProviderUnavailable("connection_failed", "blip")))
    assert not breaker_is_open(name)


def test_an_unreachable_redis_lets_calls_through():
    dead = Breaker(
        "dead-redis",
        _RedisStore(redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5), "x"),
        BreakerPolicy(window=30, min_calls=1, failure_rate=0.1, reset=30),
    )
    assert dead.call(_ok) == "charged"
    with pytest.raises(ProviderUnavailable):
        dead.call(_raise(ProviderUnavailable("connection_failed", "down")))
    assert dead.retry_after() == 0


@pytest.fixture
def sandbox_breaker_open() -> Iterator[None]:
    breaker_module._breakers.pop("sandbox", None)
    breaker_trip("sandbox", reason="test")
    yield
    breaker_reset("sandbox")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[Signature]:
    """The retries the task sends (to the broker, in a worker), captured."""
    captured: list[Signature] = []
    monkeypatch.setattr(Signature, "apply_async", lambda self, *args, **kwargs: captured.append(self))
    return captured


def run_as_worker(payment_id: str, *, retries: int) -> None:
    """Run provider_authorize as a worker runs a delivery (its `retries`-th retry), not eagerly: Celery's
    eager mode would run every retry at once, ignoring when it is due."""
    provider_authorize.push_request(
        id=uuid.uuid4().hex, retries=retries, called_directly=False, is_eager=False
    )
    try:
        provider_authorize.run(payment_id=payment_id)
    finally:
        provider_authorize.pop_request()


@pytest.mark.django_db
class TestRetriesWaitForTheBreaker:
    def test_a_refused_call_retries_at_the_breakers_reset_time(self, sandbox_breaker_open, sent):
        payment = PaymentFactory(provider="sandbox")
        with pytest.raises(Retry) as retry:
            run_as_worker(str(payment.pk), retries=0)
        assert retry.value.when >= settings.PAYMENTS_BREAKER_RESET_SECONDS - 1  # after the cool-down
        assert [s.options["countdown"] for s in sent] == [retry.value.when]
        assert payment.events.get(type="provider_error").data["code"] == "circuit_open"

    def test_a_payment_on_its_last_retry_waits_for_the_breaker_instead_of_becoming_a_dead_letter(
        self, sandbox_breaker_open, sent
    ):
        payment = PaymentFactory(provider="sandbox")
        with pytest.raises(Retry):  # rather than CircuitOpen, which would make it a dead letter
            run_as_worker(str(payment.pk), retries=settings.PAYMENTS_TASK_MAX_RETRIES)
        assert len(sent) == 1
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PROCESSING

    def test_waiting_is_bounded_too(self, sandbox_breaker_open, sent):
        payment = PaymentFactory(provider="sandbox")
        retries = settings.PAYMENTS_TASK_MAX_RETRIES + settings.PAYMENTS_BREAKER_MAX_WAITS
        with pytest.raises(CircuitOpen):
            run_as_worker(str(payment.pk), retries=retries)
        assert sent == []

    def test_a_wait_does_not_raise_the_retry_budget_of_later_messages(
        self, sandbox_breaker_open, sent, monkeypatch
    ):
        waiting, failing = PaymentFactory(provider="sandbox"), PaymentFactory(provider="sandbox")
        with pytest.raises(Retry):
            run_as_worker(str(waiting.pk), retries=0)  # waits for the breaker
        breaker_reset("sandbox")
        down = ProviderUnavailable("service_unavailable", "down")

        def provider_down(name: str, call: Callable[[], object]) -> object:
            raise down

        monkeypatch.setattr("payments.services.provider_calls.provider_call", provider_down)
        with pytest.raises(Retry) as retry:
            run_as_worker(str(failing.pk), retries=0)
        assert retry.value.when <= 1  # an ordinary failure backs off as before: the first step
        with pytest.raises(ProviderUnavailable):  # its retries are spent: a dead letter
            run_as_worker(str(failing.pk), retries=settings.PAYMENTS_TASK_MAX_RETRIES)
