"""Payments end to end on real processes: the API (live server, for webhooks), the outbox relay, a Celery
worker on RabbitMQ, and two sandbox card processors. Crashes are real SIGKILLs; outages are real
unreachable endpoints. After every scenario the provider's charges and the ledger must agree and
check_ledger must pass.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Sum

from accounts.tests.factories import UserFactory
from core.testing import wait_until
from ledger.models import Account, Entry, Transfer
from ledger.tests.factories import AccountFactory, fund
from ledgerpay import processes
from payments import services
from payments.models import DeadLetter, OutboxMessage, Payment, PaymentStatus
from payments.tests.conftest import FAST_OPTIONS, SandboxProcess

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.rabbitmq, pytest.mark.redis]

PROJECT_DIR = Path(__file__).resolve().parents[2]
FINAL = {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED}
DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there: the broker is unreachable


class Stack:
    """The processes of one test module, started once and shared by its tests."""

    def __init__(self, workdir: Path, live_url: str):
        self.workdir = workdir
        self.live_url = live_url
        self.primary = self._sandbox("sandbox")
        self.secondary = self._sandbox("sandbox_secondary")
        prefix = settings.CELERY_QUEUE_PREFIX
        self.queues = [f"{prefix}celery", f"{prefix}provider"]
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ledgerpay.settings.test",
            "TEST_WORKER": "1",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            "PAYMENTS_PROVIDER_TIMEOUT_SECONDS": "1",
            "PAYMENTS_TASK_MAX_RETRIES": "3",
            "PAYMENTS_RETRY_BACKOFF_MAX": "1",
            "PAYMENTS_BREAKER_FAIL_MAX": "3",
            "PAYMENTS_BREAKER_RESET_SECONDS": "60",
        }
        for process, prefix_ in (
            (self.primary, "PAYMENTS_SANDBOX"),
            (self.secondary, "PAYMENTS_SANDBOX_SECONDARY"),
        ):
            self.env[f"{prefix_}_URL"] = process.base_url
            self.env[f"{prefix_}_API_KEY"] = process.api_key
            self.env[f"{prefix_}_WEBHOOK_SECRET"] = process.webhook_secret
        self.worker: subprocess.Popen | None = None
        self.relay: subprocess.Popen | None = None
        self.generation = 0

    def _sandbox(self, name: str) -> SandboxProcess:
        directory = self.workdir / name
        directory.mkdir()
        options = {
            **FAST_OPTIONS,
            "webhook_url": f"{self.live_url}/api/v1/webhooks/{name}",
            "flaky_failures": 2,
            "timeout_delay": 1.6,
        }
        return SandboxProcess(
            directory,
            name=name,
            api_key=f"sk_e2e_{name}",
            webhook_secret=f"whsec_e2e_{name}",
            options=options,
        ).start()

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        self.generation += 1
        log = (self.workdir / f"{name}-{self.generation}.log").open("wb")
        process = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env=env or self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.log_path = Path(log.name)  # type: ignore[attr-defined]
        return process

    def start_worker(self) -> None:
        self.worker = self._spawn(
            "worker",
            processes.celery_worker_command(
                queues=self.queues,
                pool="prefork",
                concurrency=1,
                name=f"e2e-{uuid.uuid4().hex[:8]}@%h",
                quiet=True,
            ),
        )
        wait_until(
            lambda: b"ready." in self.worker.log_path.read_bytes() or self.worker.poll() is not None,
            timeout=60,
            what="the worker to be ready",
        )
        assert self.worker.poll() is None, self.worker.log_path.read_text()

    def kill_worker(self, sig: int = signal.SIGKILL) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, sig)
            self.worker.wait(30)
        self.worker = None

    def start_relay(self, broker_url: str | None = None) -> None:
        env = {**self.env, "CELERY_BROKER_URL": broker_url} if broker_url else None
        self.relay = self._spawn("relay", processes.outbox_relay_command(poll=0.05), env)

    def stop_relay(self) -> None:
        if self.relay is not None and self.relay.poll() is None:
            os.killpg(self.relay.pid, signal.SIGTERM)
            self.relay.wait(30)
        self.relay = None

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.workdir.glob("*.log")))

    def stop(self) -> None:
        self.stop_relay()
        self.kill_worker(signal.SIGTERM)
        self.primary.stop()
        self.secondary.stop()
        self._delete_queues()

    def _delete_queues(self) -> None:
        from ledgerpay.celery import app

        with app.connection_for_write() as connection:
            channel = connection.channel()
            for queue in self.queues:
                channel.queue_delete(queue)


@pytest.fixture(scope="module")
def stack(live_server, tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("e2e"), live_server.url)
    saved = {name: dict(config) for name, config in settings.PAYMENT_PROVIDERS.items()}
    # This process verifies the sandboxes' webhooks (live server) and asks them during recovery.
    for process in (stack.primary, stack.secondary):
        settings.PAYMENT_PROVIDERS[process.name].update(
            base_url=process.base_url, api_key=process.api_key, webhook_secret=process.webhook_secret
        )
    stack.start_worker()
    stack.start_relay()
    yield stack
    stack.stop()
    for name, config in saved.items():
        settings.PAYMENT_PROVIDERS[name].clear()
        settings.PAYMENT_PROVIDERS[name].update(config)


@pytest.fixture(autouse=True)
def healthy(stack, settings):
    """Each scenario starts with healthy providers, a running worker and relay, and no leftovers."""
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 290, {"USD": 30}
    for process in (stack.primary, stack.secondary):
        process.configure(latency_ms=0, failure_rate=0)
    if stack.worker is None or stack.worker.poll() is not None:
        stack.start_worker()
    if stack.relay is None or stack.relay.poll() is not None:
        stack.start_relay()
    yield
    assert_provider_and_ledger_agree(stack)


@pytest.fixture
def client_account(client_for):
    user = UserFactory()
    account = AccountFactory(owner=user)
    return client_for(user), account


def create(client, account, payment_method="pm_card_visa", amount="100.00", **extra):
    response = client.post(
        "/api/v1/payments",
        {
            "account": str(account.pk),
            "amount": amount,
            "currency": "USD",
            "payment_method": payment_method,
            **extra,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "processing"
    return response.json()["id"]


def settle(stack, payment_id, statuses=FINAL, timeout=30.0) -> Payment:
    try:
        wait_until(
            lambda: Payment.objects.get(pk=payment_id).status in statuses,
            timeout=timeout,
            interval=0.1,
            what=f"payment {payment_id} to reach {statuses}",
        )
    except BaseException:
        events = list(Payment.objects.get(pk=payment_id).events.values_list("type", "data"))
        print(f"timeline: {events}\n{stack.logs()}")
        raise
    return Payment.objects.get(pk=payment_id)


def post(client, path, data=None):
    response = client.post(path, data or {}, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    assert response.status_code == 202, response.content
    return response.json()


def assert_provider_and_ledger_agree(stack) -> None:
    for payment in Payment.objects.all():
        process = {"sandbox": stack.primary, "sandbox_secondary": stack.secondary}.get(payment.provider)
        charges = process.charges(reference=str(payment.pk)) if process else []
        assert len(charges) <= 1, f"{len(charges)} charges at the provider for payment {payment.pk}"
        captures = Transfer.objects.filter(kind="payment_capture", cause=f"payment:{payment.pk}")
        if payment.status == PaymentStatus.SUCCEEDED:
            assert len(charges) == 1 and charges[0]["amount_captured"] == payment.amount_captured
            assert captures.count() == 1
            debit = Entry.objects.filter(transfer=captures.get(), amount__gt=0).aggregate(s=Sum("amount"))[
                "s"
            ]
            assert debit == payment.amount_captured
        else:
            assert not captures.exists(), f"money moved for {payment.status} payment {payment.pk}"
            if charges:
                assert charges[0]["amount_captured"] == 0
        refunded_at_provider = sum(
            r["amount"]
            for r in (
                process.refunds(charge=payment.provider_charge_id)
                if process and payment.provider_charge_id
                else []
            )
            if r["status"] == "succeeded"
        )
        assert refunded_at_provider == payment.amount_refunded
    call_command("check_ledger")


@pytest.mark.parametrize(
    ("method", "status", "failure_code"),
    [
        ("pm_card_visa", "succeeded", ""),
        ("pm_card_declined", "failed", "card_declined"),
        ("pm_card_insufficient_funds", "failed", "insufficient_funds"),
        ("pm_card_async", "succeeded", ""),
        ("pm_card_flaky", "succeeded", ""),
        ("pm_card_timeout", "succeeded", ""),
    ],
)
def test_each_test_card_ends_as_the_provider_decides(stack, client_account, method, status, failure_code):
    client, account = client_account
    payment = settle(stack, create(client, account, method))
    assert (payment.status, payment.failure_code) == (status, failure_code)
    account.refresh_from_db()
    assert account.balance == (10_000 - 320 if status == "succeeded" else 0)
    timeline = list(payment.events.order_by("created_at").values_list("type", flat=True))
    assert timeline[0] == "created" and "provider_request" in timeline
    assert set(payment.events.values_list("correlation_id", flat=True)) == {payment.correlation_id}
    if method in ("pm_card_flaky", "pm_card_timeout"):
        # The call failed (503s, or a read timeout after the charge was made) and was retried with the same
        # key. For the timeout the charge's webhook may settle the payment before the worker gives up waiting.
        wait_until(
            lambda: payment.events.filter(type="provider_error").exists(), timeout=10, what="the error"
        )
    if method == "pm_card_async":
        assert "webhook_received" in timeline


def test_manual_capture_of_part_then_partial_and_full_refunds(stack, client_account):
    client, account = client_account
    payment_id = create(client, account, capture_method="manual")
    settle(stack, payment_id, {PaymentStatus.REQUIRES_CAPTURE})
    post(client, f"/api/v1/payments/{payment_id}/capture", {"amount": "60.00"})
    payment = settle(stack, payment_id)
    assert (payment.status, payment.amount_captured, payment.fee) == ("succeeded", 6_000, 174 + 30)
    account.refresh_from_db()
    assert account.balance == 6_000 - 204

    post(client, f"/api/v1/payments/{payment_id}/refunds", {"amount": "10.00"})
    wait_until(
        lambda: Payment.objects.get(pk=payment_id).amount_refunded == 1_000,
        timeout=20,
        what="the first refund",
    )
    refund = client.post(
        f"/api/v1/payments/{payment_id}/refunds",
        {"amount": "60.00"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    assert refund.status_code == 422 and refund.json()["code"] == "amount_exceeds_refundable"
    fund(account, 1_000)  # the client needs the whole remainder on its account to refund it
    post(client, f"/api/v1/payments/{payment_id}/refunds")  # the rest: 50.00
    wait_until(
        lambda: Payment.objects.get(pk=payment_id).amount_refunded == 6_000,
        timeout=20,
        what="the full refund",
    )
    account.refresh_from_db()
    assert (account.balance, account.pending_debits) == (6_000 - 204 + 1_000 - 6_000, 0)


def test_cancel_releases_the_authorization_and_moves_no_money(stack, client_account):
    client, account = client_account
    payment_id = create(client, account, capture_method="manual")
    settle(stack, payment_id, {PaymentStatus.REQUIRES_CAPTURE})
    post(client, f"/api/v1/payments/{payment_id}/cancel")
    assert settle(stack, payment_id).status == PaymentStatus.CANCELED
    assert stack.primary.charges(reference=payment_id)[0]["status"] == "canceled"


def test_a_worker_killed_during_the_provider_call_ends_the_payment_exactly_once(stack, client_account):
    client, account = client_account
    # A slow provider: the worker is inside the call for 2.5 s. Its success webhook is suppressed, so that
    # only the redelivered message can finish the payment (else the webhook may win the race under load).
    stack.primary.configure(latency_ms=2_500, lost_webhooks=1)
    payment_id = create(client, account)
    wait_until(
        lambda: Payment.objects.get(pk=payment_id).events.filter(type="provider_request").exists(),
        what="the worker to call the provider",
    )
    stack.kill_worker(signal.SIGKILL)
    assert Payment.objects.get(pk=payment_id).status == PaymentStatus.PROCESSING
    stack.primary.configure(latency_ms=0)
    stack.start_worker()  # RabbitMQ redelivers the unacknowledged message to the new worker
    payment = settle(stack, payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert stack.primary.charge_count(reference=payment_id) == 1
    assert payment.events.filter(type="provider_request").count() >= 2


def test_a_broker_outage_at_creation_delays_the_payment_but_loses_nothing(stack, client_account):
    client, account = client_account
    stack.stop_relay()
    stack.start_relay(broker_url=DEAD_BROKER)
    payment_id = create(client, account)  # 202: creating a payment never touches the broker
    message = OutboxMessage.objects.get(kwargs__payment_id=payment_id)
    wait_until(
        lambda: OutboxMessage.objects.get(pk=message.pk).last_error != "", timeout=30, what="a failed publish"
    )
    assert OutboxMessage.objects.get(pk=message.pk).published_at is None
    assert Payment.objects.get(pk=payment_id).status == PaymentStatus.PROCESSING
    stack.stop_relay()
    OutboxMessage.objects.filter(pk=message.pk).update(
        available_at=message.created_at
    )  # skip the backoff wait
    stack.start_relay()  # the broker is reachable again
    payment = settle(stack, payment_id)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.events.filter(type="provider_request").count() == 1  # delivered once
    assert stack.primary.charge_count(reference=payment_id) == 1


def test_a_message_lost_by_the_broker_is_recovered_from_the_database(stack, client_account):
    client, account = client_account
    stack.stop_relay()
    payment_id = create(client, account)
    # As if the broker had accepted it and then lost it (the filesystem transport can, on a crash).
    OutboxMessage.objects.filter(kwargs__payment_id=payment_id).update(
        published_at=Payment.objects.get(pk=payment_id).created_at
    )
    stack.start_relay()
    later = Payment.objects.get(pk=payment_id).updated_at + timedelta(hours=1)
    assert services.payments_recover_stuck(now=later) == {"resent": 1}
    assert settle(stack, payment_id).status == PaymentStatus.SUCCEEDED


def test_an_open_breaker_routes_new_payments_to_the_secondary_and_dead_letters_replay(stack, client_account):
    client, account = client_account
    stack.primary.configure(failure_rate=1.0)  # every call answers 503
    stuck_id = create(client, account)
    wait_until(
        lambda: DeadLetter.objects.filter(kwargs__payment_id=stuck_id).exists(),
        timeout=40,
        what="retries to run out",
    )
    stuck = Payment.objects.get(pk=stuck_id)
    assert (stuck.status, stuck.provider) == (PaymentStatus.PROCESSING, "sandbox")
    assert stack.primary.charge_count(reference=stuck_id) == 0

    rerouted = settle(stack, create(client, account))
    assert (rerouted.status, rerouted.provider) == (PaymentStatus.SUCCEEDED, "sandbox_secondary")

    stack.primary.configure(failure_rate=0)
    from payments.breaker import breaker_reset

    breaker_reset("sandbox")
    letter = DeadLetter.objects.get(kwargs__payment_id=stuck_id)
    call_command("dead_letters", "replay", str(letter.pk))
    assert settle(stack, stuck_id).status == PaymentStatus.SUCCEEDED
    assert Account.objects.get(pk=account.pk).balance == 2 * (10_000 - 320)


def test_a_client_cannot_read_capture_or_refund_another_users_payment(stack, client_account, client_for):
    client, account = client_account
    payment_id = create(client, account)
    settle(stack, payment_id)
    stranger = client_for(UserFactory())
    assert stranger.get(f"/api/v1/payments/{payment_id}").status_code == 404
    assert stranger.get(f"/api/v1/payments/{payment_id}/events").status_code == 404
    for action in ("capture", "cancel", "refunds"):
        response = stranger.post(
            f"/api/v1/payments/{payment_id}/{action}",
            {},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        assert response.status_code == 404 and response.json()["code"] == "not_found"
