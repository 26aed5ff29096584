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


class TestDeadLetterResolution:
    """A dead letter whose work was done later (by recovery or a webhook) needs no one: it is resolved."""

    def _letter(self, payment, task=PaymentTask.AUTHORIZE, **kwargs) -> DeadLetter:
        return services.dead_letter_record(
            task=task,
            kwargs={"payment_id": str(payment.pk), **kwargs},
            message_id="m",
            error="ProviderUnavailable: service_unavailable: down",
            retries=6,
        )

    def test_a_payment_that_succeeds_by_webhook_resolves_its_dead_letter(self):
        payment = PaymentFactory()
        letter = self._letter(payment)
        assert letter.resolved_at is None
        services.payment_apply_charge(
            payment_id=payment.pk,
            charge=_charge(payment, "succeeded"),
            causation_id="evt_1",
            source="webhook",
        )
        letter.refresh_from_db()
        assert letter.resolved_at is not None and letter.resolution == "payment succeeded (evt_1)"
        event = PaymentEvent.objects.get(payment=payment, type="dead_letter_resolved")
        assert event.data["dead_letter"] == letter.pk

    def test_a_payment_failed_by_recovery_resolves_its_dead_letter(self):
        payment = PaymentFactory()
        letter = self._letter(payment)
        services.payment_fail(
            payment_id=payment.pk, code="provider_unavailable", message="x", causation_id="recovery"
        )
        letter.refresh_from_db()
        assert letter.resolution == "payment failed (recovery)"

    def test_a_capture_letter_stays_open_while_the_payment_waits_for_capture(self):
        payment = PaymentFactory(capture_method="manual")
        authorize = self._letter(payment)
        capture = self._letter(payment, task=PaymentTask.CAPTURE)
        services.payment_apply_charge(
            payment_id=payment.pk,
            charge=_charge(payment, "requires_capture"),
            causation_id="t",
            source="test",
        )
        authorize.refresh_from_db(), capture.refresh_from_db()
        assert authorize.resolved_at is not None  # authorized: that work is done
        assert capture.resolved_at is None  # the capture still needs doing

    def test_a_refund_letter_is_resolved_when_its_refund_is(self, paid):
        refund = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        letter = self._letter(paid, task=PaymentTask.REFUND, refund_id=str(refund.pk))
        assert letter.resolved_at is None  # the payment is final, but the refund is not
        _refund_succeeded(refund)
        letter.refresh_from_db()
        assert letter.resolution == "refund succeeded (test)"

    def test_a_letter_recorded_for_work_already_done_is_resolved_at_once(self, paid):
        letter = self._letter(paid)
        assert (
            letter.resolved_at is not None
            and letter.resolution == "payment succeeded (already when recorded)"
        )

    def test_the_recovery_sweep_resolves_letters_whose_payment_was_settled_without_the_door(self):
        payment = PaymentFactory()
        letter = self._letter(payment)
        # As if from before this behaviour existed: the payment is final, the letter open.
        type(payment).objects.filter(pk=payment.pk).update(status=PaymentStatus.CANCELED)
        assert services.dead_letters_resolve_settled() == 1
        letter.refresh_from_db()
        assert letter.resolution == "payment canceled (recovery)"
        assert services.dead_letters_resolve_settled() == 0

    def test_a_resolved_letter_is_not_replayed(self, paid):
        letter = self._letter(paid)
        with pytest.raises(ValueError, match="needs no replay"):
            services.dead_letter_replay(dead_letter_id=letter.pk)


def test_dead_letters_list_shows_only_what_needs_a_person(paid):
    from io import StringIO

    from django.core.management import call_command

    waiting_payment = PaymentFactory()
    waiting = services.dead_letter_record(
        task=PaymentTask.AUTHORIZE,
        kwargs={"payment_id": str(waiting_payment.pk)},
        message_id="m1",
        error="ProviderUnavailable: service_unavailable: down",
        retries=6,
    )
    resolved = services.dead_letter_record(
        task=PaymentTask.AUTHORIZE, kwargs={"payment_id": str(paid.pk)}, message_id="m2", error="e", retries=6
    )

    def listed(*args: str) -> str:
        out = StringIO()
        call_command("dead_letters", "list", *args, stdout=out)
        return out.getvalue()

    needs = listed()
    assert f"{waiting.pk:>6}  " in needs and f"{resolved.pk:>6}  " not in needs
    assert needs.rstrip().endswith("1 dead letter(s).")
    everything = listed("--all")
    assert f"{resolved.pk:>6}  " in everything and "resolved" in everything
    assert everything.rstrip().endswith("2 dead letter(s).")
