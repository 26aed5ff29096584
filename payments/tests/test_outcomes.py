"""Outcomes applied under the payment's lock: the refund fallback path, late refusals, dead letters."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from ledger import services as ledger
from ledger.models import Account, AccountStatus, Transfer, TransferStatus
from ledger.services import SystemAccount, system_account_get
from ledger.tests.factories import AccountFactory
from payments import services
from payments.models import DeadLetter, PaymentEvent, PaymentStatus, RefundStatus
from payments.providers import ProviderCharge, ProviderRefund
from payments.task_names import PaymentTask
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def _charge(payment, status: str) -> ProviderCharge:
    return ProviderCharge(
        id=f"ch_{payment.pk.hex[:12]}",
        status=status,
        amount=payment.amount,
        amount_captured=payment.amount if status == "succeeded" else 0,
        amount_refunded=0,
        currency=payment.currency,
        failure_code=None,
        failure_message=None,
        created=datetime.now(UTC),
        reference=str(payment.pk),
    )


def _refund_succeeded(refund) -> None:
    services.refund_apply(
        refund_id=refund.pk,
        causation_id="test",
        source="test",
        provider_refund=ProviderRefund(
            id=f"re_{refund.pk.hex[:8]}",
            charge_id=refund.payment.provider_charge_id,
            amount=refund.amount,
            currency=refund.currency,
            status="succeeded",
            failure_code=None,
            failure_message=None,
            created=datetime.now(UTC),
        ),
    )


@pytest.fixture
def paid(settings):
    """A captured payment of 100.00 with no fee: the client's account holds 10_000."""
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 0, {}
    payment = PaymentFactory(amount=10_000)
    services.payment_apply_charge(
        payment_id=payment.pk, charge=_charge(payment, "succeeded"), causation_id="t", source="test"
    )
    payment.refresh_from_db()
    return payment


def _posted_without_hold(payment) -> tuple[dict, Transfer]:
    event = PaymentEvent.objects.get(payment=payment, type="refund_posted_without_hold")
    return event.data, Transfer.objects.get(pk=event.data["transfer"])


class TestRefundFallback:
    def test_a_refund_whose_hold_expired_is_taken_from_the_clients_balance_directly(self, paid):
        refund = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        later = refund.hold.expires_at + timedelta(seconds=1)
        with mock.patch("ledger.services.holds.timezone.now", return_value=later):
            _refund_succeeded(refund)

        data, transfer = _posted_without_hold(paid)
        clearing = system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
        assert data["reason"] == "hold_expired"
        assert (transfer.source_id, transfer.destination_id, transfer.amount) == (
            paid.account_id,
            clearing.pk,
            3_000,
        )
        assert transfer.cause == f"refund:{refund.pk}:direct"
        refund.refresh_from_db()
        refund.hold.refresh_from_db()
        assert refund.status == RefundStatus.SUCCEEDED and refund.hold.status == TransferStatus.VOIDED
        account = Account.objects.get(pk=paid.account_id)
        assert (account.balance, account.pending_debits) == (7_000, 0)
        paid.refresh_from_db()
        assert paid.amount_refunded == 3_000

    def test_a_refund_the_frozen_account_cannot_pay_is_parked_in_suspense(self, paid):
        refund = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        ledger.account_status_set(account_id=paid.account_id, status=AccountStatus.FROZEN)
        _refund_succeeded(refund)

        data, transfer = _posted_without_hold(paid)
        suspense = system_account_get(code=SystemAccount.SUSPENSE, currency="USD")
        assert data["reason"] == "account_inactive"
        assert (transfer.source_id, transfer.amount, transfer.cause) == (
            suspense.pk,
            3_000,
            f"refund:{refund.pk}:suspense",
        )
        account = Account.objects.get(pk=paid.account_id)
        assert (account.balance, account.pending_debits) == (10_000, 0)  # the frozen account is not touched
        refund.hold.refresh_from_db()
        assert refund.hold.status == TransferStatus.VOIDED

    def test_a_refund_after_the_hold_expired_and_the_money_left_goes_to_suspense(self, paid):
        refund = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        assert ledger.hold_expire_due(now=refund.hold.expires_at + timedelta(seconds=1)) == 1
        elsewhere = AccountFactory(owner=paid.user)
        ledger.transfer_create(
            source_id=paid.account_id, destination_id=elsewhere.pk, amount=9_000, currency="USD"
        )
        _refund_succeeded(refund)

        data, transfer = _posted_without_hold(paid)
        suspense = system_account_get(code=SystemAccount.SUSPENSE, currency="USD")
        assert data["reason"] == "invalid_state"  # the expired hold can no longer be posted
        assert transfer.source_id == suspense.pk and transfer.cause == f"refund:{refund.pk}:suspense"
        assert not Transfer.objects.filter(cause=f"refund:{refund.pk}:direct").exists()
        assert Account.objects.get(pk=paid.account_id).balance == 1_000
        refund.hold.refresh_from_db()
        assert refund.hold.status == TransferStatus.EXPIRED
        paid.refresh_from_db()
        assert paid.amount_refunded == 3_000


class TestRequestRefused:
    def test_a_refusal_clears_the_request_so_the_client_can_decide_again(self):
        payment = PaymentFactory(capture_method="manual")
        services.payment_apply_charge(
            payment_id=payment.pk,
            charge=_charge(payment, "requires_capture"),
            causation_id="t",
            source="test",
        )
        services.payment_capture_request(user=payment.user, payment_id=payment.pk, amount=4_000)
        services.payment_request_refused(
            payment_id=payment.pk,
            operation="capture",
            code="charge_expired",
            message="Too late.",
            causation_id="m1",
        )
        payment.refresh_from_db()
        assert payment.capture_requested_amount is None and payment.status == PaymentStatus.REQUIRES_CAPTURE
        event = PaymentEvent.objects.get(payment=payment, type="capture_refused")
        assert event.data == {"code": "charge_expired", "message": "Too late."} and event.causation_id == "m1"
        services.payment_capture_request(user=payment.user, payment_id=payment.pk, amount=4_000)  # asks again

    def test_a_refusal_arriving_after_the_payment_moved_on_changes_nothing(self, paid):
        services.payment_request_refused(
            payment_id=paid.pk,
            operation="cancel",
            code="charge_captured",
            message="Captured.",
            causation_id="m2",
        )
        paid.refresh_from_db()
        assert paid.status == PaymentStatus.SUCCEEDED
        assert not PaymentEvent.objects.filter(payment=paid, type="cancel_refused").exists()


def test_a_dead_letter_and_its_timeline_event_are_written_together_or_not_at_all():
    payment = PaymentFactory()
    kwargs = {"payment_id": str(payment.pk)}
    with (
        mock.patch("payments.services.recovery.event_record", side_effect=RuntimeError("database gone")),
        pytest.raises(RuntimeError),
    ):
        services.dead_letter_record(
            task=PaymentTask.AUTHORIZE, kwargs=kwargs, message_id="m", error="e", retries=5
        )
    assert not DeadLetter.objects.exists()

    letter = services.dead_letter_record(
        task=PaymentTask.AUTHORIZE, kwargs=kwargs, message_id="m", error="e", retries=5
    )
    event = PaymentEvent.objects.get(payment=payment, type="dead_lettered")
    assert event.data["dead_letter"] == letter.pk and letter.correlation_id == payment.correlation_id
