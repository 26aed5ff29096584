"""Applying what the provider says happened: payment and refund state, and the ledger postings.

Every function here locks the payment row first (then the refund, then the ledger's
rows), re-checks the state under the lock and moves only forward, so a late or
repeated answer — a redelivered message, a webhook after the API answer, an
out-of-order webhook — changes nothing. The ledger moves only for money the provider
has confirmed, in the same transaction as the state change.

When a payment or refund reaches a final state here, its dead letters whose work is
thereby done are marked resolved in the same transaction (dead_letters_resolve), so
`dead_letters list` shows only what still needs a person.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from ledger import services as ledger
from ledger.errors import LedgerError
from ledger.models import TransferKind, TransferStatus
from ledger.services import SystemAccount

from ..fees import capture_fee
from ..locks import payment_lock, refund_lock
from ..models import DeadLetter, Payment, PaymentStatus, Refund, RefundStatus
from ..providers import ProviderCharge, ProviderRefund
from ..task_names import PaymentTask
from .timeline import charge_summary, event_record, refund_summary

logger = logging.getLogger(__name__)

_FROM_CHARGE = {
    "pending": PaymentStatus.PROCESSING,
    "requires_capture": PaymentStatus.REQUIRES_CAPTURE,
    "succeeded": PaymentStatus.SUCCEEDED,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELED,
}
# Where a payment may go from each state; anything else is a stale or out-of-order update.
_FORWARD = {
    PaymentStatus.PROCESSING: {
        PaymentStatus.REQUIRES_CAPTURE,
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.CANCELED,
    },
    PaymentStatus.REQUIRES_CAPTURE: {PaymentStatus.SUCCEEDED, PaymentStatus.CANCELED, PaymentStatus.FAILED},
    PaymentStatus.SUCCEEDED: set(),
    PaymentStatus.FAILED: set(),
    PaymentStatus.CANCELED: set(),
}


FINAL_STATUSES = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED})


def dead_letter_work_done(*, task: str, kwargs: dict, payment: Payment) -> str | None:
    """Why a dead letter of this payment needs no one any more (its work is done), or None if it does.

    An authorization is done once the payment left processing; a capture or cancel once the payment is
    final; a refund once that refund is no longer pending. Any work on a final payment but its refunds
    is moot.
    """
    if task == PaymentTask.REFUND:
        refund_id = kwargs.get("refund_id")
        if not refund_id:
            return None
        status = Refund.objects.filter(pk=refund_id, payment=payment).values_list("status", flat=True)
        refund_status = status.first()
        if refund_status is not None and refund_status != RefundStatus.PENDING:
            return f"refund {refund_status}"
        return None
    if payment.status in FINAL_STATUSES or (
        task == PaymentTask.AUTHORIZE and payment.status != PaymentStatus.PROCESSING
    ):
        return f"payment {payment.status}"
    return None


def dead_letters_resolve(*, payment: Payment, causation_id: str) -> int:
    """Mark resolved the open dead letters of a (locked) payment whose work is done; returns how many."""
    resolved = 0
    letters = DeadLetter.objects.filter(kwargs__payment_id=str(payment.pk), resolved_at__isnull=True)
    for letter in letters.order_by("pk"):
        reason = dead_letter_work_done(task=letter.task, kwargs=letter.kwargs, payment=payment)
        if reason is None:
            continue
        letter.resolved_at, letter.resolution = timezone.now(), f"{reason} ({causation_id})"[:255]
        letter.save(update_fields=["resolved_at", "resolution"])
        event_record(
            payment=payment,
            type="dead_letter_resolved",
            causation_id=causation_id,
            data={"dead_letter": letter.pk, "task": letter.task, "resolution": letter.resolution},
        )
        resolved += 1
    return resolved


def _post_capture(payment: Payment, *, causation_id: str) -> None:
    """Debit provider clearing by the gross; credit the client the net and fees revenue the fee."""
    gross = payment.amount_captured
    fee = capture_fee(amount=gross, currency=payment.currency)
    clearing = ledger.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency=payment.currency)
    fees = ledger.system_account_get(code=SystemAccount.FEES_REVENUE, currency=payment.currency)
    credits = [(payment.account_id, gross - fee), (fees.pk, fee)]
    credits = [(account, amount) for account, amount in credits if amount > 0]
    description = f"Card payment {payment.id}"
    try:
        transfer = ledger.transfer_split_create(
            source_id=clearing.pk,
            credits=credits,
            currency=payment.currency,
            kind=TransferKind.PAYMENT_CAPTURE,
            description=description,
            cause=f"payment:{payment.id}",
        ).transfer
    except LedgerError as exc:
        # The provider holds the money whatever our account's state: park it in suspense, never drop it.
        suspense = ledger.system_account_get(code=SystemAccount.SUSPENSE, currency=payment.currency)
        transfer = ledger.transfer_create(
            source_id=clearing.pk,
            destination_id=suspense.pk,
            amount=gross,
            currency=payment.currency,
            kind=TransferKind.PAYMENT_CAPTURE,
            description=f"{description}: {exc.code}, held in suspense",
            cause=f"payment:{payment.id}",
        ).transfer
        fee = 0
        event_record(
            payment=payment,
            type="capture_held_in_suspense",
            causation_id=causation_id,
            data={"reason": exc.code, "detail": exc.detail, "transfer": str(transfer.pk)},
        )
    payment.fee = fee
    payment.capture_transfer = transfer
    event_record(
        payment=payment,
        type="ledger_posted",
        causation_id=causation_id,
        data={"transfer": str(transfer.pk), "gross": gross, "fee": fee, "net": gross - fee},
    )


@transaction.atomic
def payment_apply_charge(*, payment_id: UUID, charge: ProviderCharge, causation_id: str, source: str) -> bool:
    """Move the payment to what the provider's charge says, if that is forward. Returns whether it moved
    (most webhooks arrive after the worker has already recorded the same answer: they change nothing)."""
    payment = payment_lock(payment_id)
    if payment.provider_charge_id and payment.provider_charge_id != charge.id:
        event_record(
            payment=payment,
            type="unexpected_charge",
            causation_id=causation_id,
            data={"source": source, **charge_summary(charge)},
        )
        return False
    target = _FROM_CHARGE[charge.status]
    if target == payment.status or target not in _FORWARD[PaymentStatus(payment.status)]:
        if target != payment.status:
            event_record(
                payment=payment,
                type="stale_update_ignored",
                causation_id=causation_id,
                data={"source": source, "current": payment.status, **charge_summary(charge)},
            )
        if not payment.provider_charge_id:  # an async charge: known now, its outcome comes later
            payment.provider_charge_id = charge.id
            payment.save(update_fields=["provider_charge_id", "updated_at"])
            return True
        return False
    payment.provider_charge_id = charge.id
    previous = payment.status
    payment.status = target
    if target == PaymentStatus.SUCCEEDED:
        payment.amount_captured = charge.amount_captured
        _post_capture(payment, causation_id=causation_id)
    elif target == PaymentStatus.FAILED:
        payment.failure_code = charge.failure_code or "card_declined"
        payment.failure_message = charge.failure_message or ""
    payment.save()
    event_record(
        payment=payment,
        type="status_changed",
        causation_id=causation_id,
        data={"from": previous, "to": target, "source": source, **charge_summary(charge)},
    )
    dead_letters_resolve(payment=payment, causation_id=causation_id)
    return True


@transaction.atomic
def payment_request_refused(
    *, payment_id: UUID, operation: str, code: str, message: str, causation_id: str
) -> Payment:
    """The provider refused a capture or cancel: clear the request so the client can decide again.

    Under the payment's lock, and only while the payment still waits for that request: a refusal that
    arrives after the payment moved on (a webhook said it was captured, say) changes nothing.
    """
    payment = payment_lock(payment_id)
    waiting = payment.capture_requested_amount is not None or payment.cancel_requested
    if payment.status != PaymentStatus.REQUIRES_CAPTURE or not waiting:
        return payment
    payment.capture_requested_amount, payment.cancel_requested = None, False
    payment.save(update_fields=["capture_requested_amount", "cancel_requested", "updated_at"])
    event_record(
        payment=payment,
        type=f"{operation}_refused",
        causation_id=causation_id,
        request_id=causation_id,
        data={"code": code, "message": message},
    )
    return payment


@transaction.atomic
def payment_fail(*, payment_id: UUID, code: str, message: str, causation_id: str) -> Payment:
    """A definitive failure we decided on (the provider refused the request, or never answered)."""
    payment = payment_lock(payment_id)
    if payment.status != PaymentStatus.PROCESSING:
        return payment
    payment.status, payment.failure_code, payment.failure_message = PaymentStatus.FAILED, code, message[:255]
    payment.save()
    event_record(
        payment=payment,
        type="status_changed",
        causation_id=causation_id,
        data={
            "from": PaymentStatus.PROCESSING,
            "to": PaymentStatus.FAILED,
            "failure_code": code,
            "failure_message": message,
        },
    )
    dead_letters_resolve(payment=payment, causation_id=causation_id)
    return payment


def _post_refund(payment: Payment, refund: Refund, *, causation_id: str) -> None:
    """Move the held amount from the client's account to provider clearing. The provider has already
    returned the money, so if the hold cannot be posted (account frozen since, hold expired) the
    amount is taken from the client's balance directly, or failing that parked in suspense."""
    try:
        ledger.hold_post(transfer_id=refund.hold_id)
        return
    except LedgerError as exc:
        reason = exc.code
    hold = refund.hold
    hold.refresh_from_db()
    if hold.status == TransferStatus.PENDING:
        ledger.hold_void(transfer_id=hold.pk)
    clearing = ledger.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency=payment.currency)
    suspense = ledger.system_account_get(code=SystemAccount.SUSPENSE, currency=payment.currency)
    for source_id, how in ((payment.account_id, "direct"), (suspense.pk, "suspense")):
        try:
            transfer = ledger.transfer_create(
                source_id=source_id,
                destination_id=clearing.pk,
                amount=refund.amount,
                currency=payment.currency,
                kind=TransferKind.REFUND,
                description=f"Refund {refund.pk} ({how})",
                cause=f"refund:{refund.pk}:{how}",
            ).transfer
            break
        except LedgerError:
            if how == "suspense":  # suspense may go negative: this cannot happen short of a bug
                raise
    event_record(
        payment=payment,
        type="refund_posted_without_hold",
        causation_id=causation_id,
        data={"refund_id": str(refund.pk), "reason": reason, "transfer": str(transfer.pk)},
    )


@transaction.atomic
def refund_apply(
    *,
    refund_id: UUID,
    provider_refund: ProviderRefund | None,
    causation_id: str,
    source: str,
    failure: tuple[str, str] | None = None,
) -> Refund:
    """Post the refund's hold when the provider confirms it, void it when the refund failed.

    `failure` (code, message) is a refusal of our request; otherwise `provider_refund` says the state.
    """
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    payment = payment_lock(payment_id)
    refund = refund_lock(refund_id)
    if provider_refund is not None and not refund.provider_refund_id:
        refund.provider_refund_id = provider_refund.id
    if failure is not None:
        outcome = RefundStatus.FAILED
        code, message = failure
    elif provider_refund is not None:
        outcome = RefundStatus(provider_refund.status)
        code, message = provider_refund.failure_code or "refund_failed", provider_refund.failure_message or ""
    else:
        raise ValueError("refund_apply needs the provider's refund or a failure")
    if refund.status != RefundStatus.PENDING or outcome == RefundStatus.PENDING:
        refund.save(update_fields=["provider_refund_id", "updated_at"])
        return refund
    if outcome == RefundStatus.SUCCEEDED:
        _post_refund(payment, refund, causation_id=causation_id)
        payment.amount_refunded += refund.amount
        payment.save(update_fields=["amount_refunded", "updated_at"])
    else:
        ledger.hold_void(transfer_id=refund.hold_id)
        refund.failure_code, refund.failure_message = code, message[:255]
    refund.status = outcome
    refund.save()
    data = {"refund_id": str(refund.pk), "source": source, "status": refund.status}
    if provider_refund is not None:
        data.update(refund_summary(provider_refund))
    if failure is not None:
        data.update({"failure_code": code, "failure_message": message})
    event_record(payment=payment, type=f"refund_{refund.status}", causation_id=causation_id, data=data)
    dead_letters_resolve(payment=payment, causation_id=causation_id)
    return refund
