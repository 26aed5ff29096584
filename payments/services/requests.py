"""What clients ask for: a payment, its capture, its cancellation, a refund.

Each runs in one transaction that records the request, its timeline event and the
outbox message for the worker; the provider is called later, by the worker, never
inside these transactions.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Sum
from django_guid import get_guid

from accounts.models import User
from core.errors import not_found
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.errors import account_inactive, currency_mismatch
from ledger.models import AccountStatus, TransferKind
from ledger.services import SystemAccount

from .. import locks
from ..errors import amount_exceeds_authorized, amount_exceeds_refundable, invalid_state
from ..models import CaptureMethod, Payment, PaymentStatus, Refund, RefundStatus
from ..outbox import payment_task_enqueue
from ..task_names import PaymentTask
from .timeline import event_record

REFUND_HOLD = timedelta(days=30)  # the longest a hold may last; the provider answers long before


def _owned(*, user: User, payment_id: UUID) -> Payment:
    payment = locks.payment_lock_owned(user=user, payment_id=payment_id)
    if payment is None:
        raise not_found("payment", payment_id)
    return payment


@transaction.atomic
def payment_create(
    *,
    user: User,
    account_id: UUID,
    amount: int,
    currency: str,
    payment_method: str,
    capture_method: str = CaptureMethod.AUTOMATIC,
    description: str = "",
    reference: str = "",
    metadata: dict | None = None,
) -> Payment:
    account = ledger_selectors.account_get(user=user, account_id=account_id)
    if account.currency != currency:
        raise currency_mismatch(account.pk, held=account.currency, requested=currency)
    if account.status != AccountStatus.ACTIVE:
        raise account_inactive(account.pk, account.status)
    payment = Payment.objects.create(
        user=user,
        account=account,
        amount=amount,
        currency=currency,
        payment_method=payment_method,
        capture_method=capture_method,
        description=description,
        reference=reference,
        metadata=metadata or {},
        correlation_id=get_guid() or "",
    )
    if not payment.correlation_id:
        payment.correlation_id = payment.pk.hex
        payment.save(update_fields=["correlation_id"])
    event = event_record(
        payment=payment,
        type="created",
        data={
            "amount": amount,
            "currency": currency,
            "payment_method": payment_method,
            "capture_method": capture_method,
            "account": str(account.pk),
        },
    )
    payment_task_enqueue(payment=payment, task=PaymentTask.AUTHORIZE, causation_id=str(event.pk))
    return payment


def _authorized(*, user: User, payment_id: UUID, action: str) -> Payment:
    """The caller's payment, locked, authorized and with no capture or cancellation under way."""
    payment = _owned(user=user, payment_id=payment_id)
    if payment.status != PaymentStatus.REQUIRES_CAPTURE:
        raise invalid_state(
            f"Payment {payment.pk} is {payment.status}; only an authorized payment "
            f"that requires capture can be {action}."
        )
    if payment.capture_requested_amount is not None or payment.cancel_requested:
        raise invalid_state(f"Payment {payment.pk} already has a capture or cancellation under way.")
    return payment


@transaction.atomic
def payment_capture_request(*, user: User, payment_id: UUID, amount: int | None = None) -> Payment:
    payment = _authorized(user=user, payment_id=payment_id, action="captured")
    amount = payment.amount if amount is None else amount
    if amount > payment.amount:
        raise amount_exceeds_authorized(payment.amount)
    payment.capture_requested_amount = amount
    payment.save(update_fields=["capture_requested_amount", "updated_at"])
    event = event_record(payment=payment, type="capture_requested", data={"amount": amount})
    payment_task_enqueue(payment=payment, task=PaymentTask.CAPTURE, causation_id=str(event.pk))
    return payment


@transaction.atomic
def payment_cancel_request(*, user: User, payment_id: UUID) -> Payment:
    payment = _authorized(user=user, payment_id=payment_id, action="canceled")
    payment.cancel_requested = True
    payment.save(update_fields=["cancel_requested", "updated_at"])
    event = event_record(payment=payment, type="cancel_requested")
    payment_task_enqueue(payment=payment, task=PaymentTask.CANCEL, causation_id=str(event.pk))
    return payment


@transaction.atomic
def refund_create(*, user: User, payment_id: UUID, amount: int | None = None) -> Refund:
    """Hold the refund on the client's account now (insufficient_funds if it cannot be held)."""
    payment = _owned(user=user, payment_id=payment_id)
    if payment.status != PaymentStatus.SUCCEEDED:
        raise invalid_state(
            f"Payment {payment.pk} is {payment.status}; only a succeeded payment can be refunded."
        )
    pending = payment.refunds.filter(status=RefundStatus.PENDING).aggregate(total=Sum("amount"))["total"] or 0
    refundable = payment.amount_captured - payment.amount_refunded - pending
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise amount_exceeds_refundable(payment_id=payment.pk, refundable=refundable)
    clearing = ledger.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency=payment.currency)
    refund = Refund(payment=payment, amount=amount, currency=payment.currency)
    refund.hold = ledger.transfer_create(
        source_id=payment.account_id,
        destination_id=clearing.pk,
        amount=amount,
        currency=payment.currency,
        kind=TransferKind.REFUND,
        pending=True,
        expires_in=REFUND_HOLD,
        cause=f"refund:{refund.pk}",
        description=f"Refund {refund.pk} of payment {payment.pk}",
    ).transfer
    refund.save(force_insert=True)
    event = event_record(
        payment=payment, type="refund_requested", data={"refund_id": str(refund.pk), "amount": amount}
    )
    payment_task_enqueue(
        payment=payment, task=PaymentTask.REFUND, causation_id=str(event.pk), refund_id=str(refund.pk)
    )
    return refund
