"""Payment services without a worker: requests, outcomes applied forward only, ledger postings, fees."""

from datetime import UTC, datetime

import pytest

from core.errors import ApiError
from ledger.errors import LedgerError
from ledger.models import Account, Transfer
from ledger.services import SystemAccount, system_account_get
from ledger.tests.factories import AccountFactory
from payments import services
from payments.errors import PaymentError
from payments.fees import capture_fee
from payments.models import OutboxMessage, Payment, PaymentEvent, PaymentStatus, Refund
from payments.providers import ProviderCharge, ProviderRefund
from payments.task_names import PaymentTask
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def charge(payment, status, captured=None, **extra):
    return ProviderCharge(
        id=extra.pop("id", f"ch_{payment.pk.hex[:12]}"),
        status=status,
        amount=payment.amount,
        amount_captured=payment.amount if captured is None else captured,
        amount_refunded=0,
        currency=payment.currency,
        failure_code=extra.get("failure_code"),
        failure_message=extra.get("failure_message"),
        created=datetime.now(UTC),
        reference=str(payment.pk),
    )


def succeed(payment, captured=None):
    return services.payment_apply_charge(
        payment_id=payment.pk,
        charge=charge(payment, "succeeded", captured),
        causation_id="test",
        source="test",
    )


def test_fee_is_basis_points_plus_fixed_rounded_half_up(settings):
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 290, {"USD": 30}
    assert capture_fee(amount=10_000, currency="USD") == 290 + 30
    assert capture_fee(amount=1_017, currency="USD") == 29 + 30  # 29.49 → 29
    assert capture_fee(amount=1_018, currency="USD") == 30 + 30  # 29.52 → 30
    assert capture_fee(amount=20, currency="USD") == 20  # never more than the amount
    assert capture_fee(amount=10_000, currency="JPY") == 290


def test_create_writes_the_payment_its_first_event_and_its_outbox_message(user):
    account = AccountFactory(owner=user)
    payment = services.payment_create(
        user=user, account_id=account.pk, amount=2_500, currency="USD", payment_method="pm_card_visa"
    )
    assert payment.status == PaymentStatus.PROCESSING
    assert list(payment.events.values_list("type", flat=True)) == ["created"]
    message = OutboxMessage.objects.get()
    assert message.task == PaymentTask.AUTHORIZE and message.kwargs == {"payment_id": str(payment.pk)}
    assert message.published_at is None and message.correlation_id == payment.correlation_id


@pytest.mark.parametrize(
    ("change", "code"), [({"currency": "EUR"}, "currency_mismatch"), ({"other": True}, "not_found")]
)
def test_create_refuses_a_foreign_or_mismatched_account(user, change, code):
    account = AccountFactory() if change.get("other") else AccountFactory(owner=user)
    with pytest.raises(ApiError) as excinfo:
        services.payment_create(
            user=user,
            account_id=account.pk,
            amount=100,
            currency=change.get("currency", "USD"),
            payment_method="pm_card_visa",
        )
    assert excinfo.value.code == code and not Payment.objects.exists()


def test_a_succeeded_charge_credits_the_net_and_the_fee_once(settings):
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 290, {"USD": 30}
    payment = PaymentFactory(amount=10_000)
    succeed(payment)
    succeed(payment)  # a redelivered message or a webhook after the API answer
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured, payment.fee) == ("succeeded", 10_000, 320)
    assert Account.objects.get(pk=payment.account_id).balance == 9_680
    assert system_account_get(code=SystemAccount.FEES_REVENUE, currency="USD").balance == 320
    assert system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD").balance == 10_000
    assert Transfer.objects.filter(kind="payment_capture", cause=f"payment:{payment.pk}").count() == 1


def test_updates_never_move_a_payment_backwards():
    payment = PaymentFactory(capture_method="manual")
    services.payment_apply_charge(
        payment_id=payment.pk,
        charge=charge(payment, "requires_capture", captured=0),
        causation_id="1",
        source="test",
    )
    succeed(payment)
    for late in ("requires_capture", "pending", "failed"):
        services.payment_apply_charge(
            payment_id=payment.pk,
            charge=charge(payment, late, captured=0),
            causation_id="late",
            source="webhook",
        )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount_captured == payment.amount
    assert (
        payment.events.filter(type="stale_update_ignored").count() == 3
    )  # each late update is on the timeline


def test_a_declined_charge_fails_the_payment_and_moves_no_money():
    payment = PaymentFactory()
    services.payment_apply_charge(
        payment_id=payment.pk,
        causation_id="1",
        source="test",
        charge=charge(
            payment,
            "failed",
            captured=0,
            failure_code="card_declined",
            failure_message="Your card was declined.",
        ),
    )
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "card_declined")
    assert not Transfer.objects.filter(kind="payment_capture").exists()


def test_a_capture_for_a_frozen_account_is_parked_in_suspense_not_lost():
    from ledger.services import account_status_set

    payment = PaymentFactory()
    account_status_set(account_id=payment.account_id, status="frozen")
    succeed(payment)
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert system_account_get(code=SystemAccount.SUSPENSE, currency="USD").balance == payment.amount
    assert payment.events.filter(type="capture_held_in_suspense").exists()


def test_the_same_charge_id_cannot_belong_to_two_payments():
    first, second = PaymentFactory(), PaymentFactory()
    succeed(first)
    with pytest.raises(Exception, match="payments_payment_one_per_provider_charge"):
        services.payment_apply_charge(
            payment_id=second.pk, charge=charge(first, "succeeded"), causation_id="x", source="test"
        )


class TestRequests:
    def authorized(self, **kwargs):
        payment = PaymentFactory(capture_method="manual", **kwargs)
        services.payment_apply_charge(
            payment_id=payment.pk,
            charge=charge(payment, "requires_capture", captured=0),
            causation_id="1",
            source="test",
        )
        return payment

    def test_capture_request_is_recorded_once(self):
        payment = self.authorized()
        services.payment_capture_request(user=payment.user, payment_id=payment.pk, amount=4_000)
        with pytest.raises(PaymentError) as excinfo:
            services.payment_capture_request(user=payment.user, payment_id=payment.pk, amount=4_000)
        assert excinfo.value.code == "invalid_state"
        assert OutboxMessage.objects.filter(task=PaymentTask.CAPTURE).count() == 1

    def test_capture_beyond_the_authorization_is_refused(self):
        payment = self.authorized()
        with pytest.raises(PaymentError) as excinfo:
            services.payment_capture_request(user=payment.user, payment_id=payment.pk, amount=10_001)
        assert excinfo.value.code == "amount_exceeds_authorized"

    def test_cancel_only_an_authorized_payment(self):
        payment = PaymentFactory()
        with pytest.raises(PaymentError) as excinfo:
            services.payment_cancel_request(user=payment.user, payment_id=payment.pk)
        assert excinfo.value.code == "invalid_state"

    def test_another_users_payment_is_not_found(self, user):
        payment = self.authorized()
        with pytest.raises(ApiError) as excinfo:
            services.payment_capture_request(user=user, payment_id=payment.pk)
        assert (excinfo.value.code, excinfo.value.status) == ("not_found", 404)


class TestRefunds:
    @pytest.fixture
    def paid(self, settings):
        settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 0, {}
        payment = PaymentFactory(amount=10_000)
        succeed(payment)
        return payment

    def test_a_refund_holds_the_amount_on_the_clients_account(self, paid):
        refund = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        account = Account.objects.get(pk=paid.account_id)
        assert (account.balance, account.available) == (10_000, 7_000)
        assert refund.hold.status == "pending" and refund.hold.cause == f"refund:{refund.pk}"

    def test_refunds_never_exceed_what_was_captured_including_pending_ones(self, paid):
        services.refund_create(user=paid.user, payment_id=paid.pk, amount=6_000)
        with pytest.raises(PaymentError) as excinfo:
            services.refund_create(user=paid.user, payment_id=paid.pk, amount=4_001)
        assert excinfo.value.code == "amount_exceeds_refundable"
        services.refund_create(user=paid.user, payment_id=paid.pk)  # the remaining 4_000
        assert sum(Refund.objects.values_list("amount", flat=True)) == 10_000

    def test_a_refund_the_client_cannot_cover_is_insufficient_funds(self, paid):
        other = AccountFactory(owner=paid.user)
        from ledger.services import transfer_create

        transfer_create(source_id=paid.account_id, destination_id=other.pk, amount=9_000, currency="USD")
        with pytest.raises(LedgerError) as excinfo:
            services.refund_create(user=paid.user, payment_id=paid.pk, amount=2_000)
        assert excinfo.value.code == "insufficient_funds" and not Refund.objects.exists()

    def test_a_confirmed_refund_moves_the_money_and_a_failed_one_releases_it(self, paid):
        ok = services.refund_create(user=paid.user, payment_id=paid.pk, amount=3_000)
        bad = services.refund_create(user=paid.user, payment_id=paid.pk, amount=2_000)
        now = datetime.now(UTC)
        for refund, status in ((ok, "succeeded"), (bad, "failed"), (ok, "succeeded")):
            services.refund_apply(
                refund_id=refund.pk,
                causation_id="t",
                source="test",
                provider_refund=ProviderRefund(
                    id=f"re_{refund.pk.hex[:8]}",
                    charge_id=paid.provider_charge_id,
                    amount=refund.amount,
                    currency="USD",
                    status=status,
                    failure_code=None if status == "succeeded" else "refund_failed",
                    failure_message=None,
                    created=now,
                ),
            )
        paid.refresh_from_db()
        account = Account.objects.get(pk=paid.account_id)
        assert paid.amount_refunded == 3_000
        assert (account.balance, account.available, account.pending_debits) == (7_000, 7_000, 0)
        clearing = system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
        assert clearing.balance == 7_000


def test_payment_events_are_append_only():
    from django.db import IntegrityError, InternalError, connection, transaction

    payment = PaymentFactory()
    services.payment_fail(payment_id=payment.pk, code="x", message="y", causation_id="t")
    event = PaymentEvent.objects.filter(payment=payment).first()
    with (
        pytest.raises((IntegrityError, InternalError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE payments_paymentevent SET type = 'edited' WHERE id = %s", [event.pk])


def test_card_data_and_secrets_are_redacted_from_the_timeline():
    from payments.services.timeline import redact

    assert redact({"card_number": "4242", "nested": {"api_key": "sk", "amount": 5}, "cvc": "123"}) == {
        "card_number": "[redacted]",
        "nested": {"api_key": "[redacted]", "amount": 5},
        "cvc": "[redacted]",
    }
