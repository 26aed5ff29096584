"""Recovery when the provider's answer never reached us: the worker's services, run in-process against a
real sandbox whose webhooks go elsewhere (to a receiver that is not LedgerPay), as if they were lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing import wait_until
from ledger.models import Account
from ledger.tests.factories import AccountFactory
from payments import services
from payments.models import OutboxMessage, PaymentStatus, RefundStatus
from payments.task_names import PaymentTask

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def provider(sandbox_server, settings):
    settings.PAYMENT_PROVIDERS = {
        **settings.PAYMENT_PROVIDERS,
        "sandbox": {
            **settings.PAYMENT_PROVIDERS["sandbox"],
            "base_url": sandbox_server.base_url,
            "api_key": sandbox_server.api_key,
            "webhook_secret": sandbox_server.webhook_secret,
        },
    }
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 0, {}
    return sandbox_server


def run_outbox(task: PaymentTask) -> None:
    """Do what the relay and a worker would do with the due messages for `task`."""
    for message in OutboxMessage.objects.filter(task=task, published_at__isnull=True):
        getattr(
            services,
            {
                PaymentTask.REFUND: "refund_execute",
                PaymentTask.AUTHORIZE: "payment_authorize",
            }[task],
        )(message_id=str(message.pk), **message.kwargs)
        OutboxMessage.objects.filter(pk=message.pk).update(published_at=timezone.now())


def test_a_refund_whose_webhook_was_lost_is_resolved_by_asking_the_provider(provider, user):
    account = AccountFactory(owner=user)
    payment = services.payment_create(
        user=user, account_id=account.pk, amount=5_000, currency="USD", payment_method="pm_card_refund_fail"
    )
    run_outbox(PaymentTask.AUTHORIZE)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED

    refund = services.refund_create(user=user, payment_id=payment.pk, amount=2_000)
    run_outbox(PaymentTask.REFUND)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and refund.provider_refund_id  # the outcome comes by webhook
    wait_until(
        lambda: provider.refunds(charge=payment.provider_charge_id)[0]["status"] == "failed",
        timeout=10,
        what="the sandbox to fail the refund",
    )  # its webhook goes to the other receiver

    later = timezone.now() + timedelta(hours=1)
    assert services.payments_recover_stuck(now=later) == {"resent": 1}
    run_outbox(PaymentTask.REFUND)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    account.refresh_from_db()
    assert (account.balance, account.available, account.pending_debits) == (5_000, 5_000, 0)
    assert payment.events.filter(type="provider_response", data__operation="retrieve_refund").exists()


def test_a_charge_whose_answer_was_lost_is_found_by_its_idempotency_key(provider, user):
    account = AccountFactory(owner=user)
    payment = services.payment_create(
        user=user, account_id=account.pk, amount=3_000, currency="USD", payment_method="pm_card_visa"
    )
    # The charge happened at the provider, but the worker died before recording the answer.
    from payments.providers import ChargeRequest, get_provider

    services.provider_route(payment)
    get_provider("sandbox").authorize(
        ChargeRequest(
            idempotency_key=payment.provider_idempotency_key,
            amount=3_000,
            currency="USD",
            payment_method="pm_card_visa",
            capture=True,
            reference=str(payment.pk),
        )
    )
    OutboxMessage.objects.update(published_at=timezone.now())  # and its message is gone with the broker
    assert services.payments_recover_stuck(now=timezone.now() + timedelta(hours=1)) == {"charge_succeeded": 1}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert Account.objects.get(pk=account.pk).balance == 3_000
    assert provider.charge_count(reference=str(payment.pk)) == 1
