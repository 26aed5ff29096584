"""Recovery: payments stuck mid-way, and dead letters of work that exhausted its retries."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import locks
from ..models import DeadLetter, OutboxMessage, Payment, PaymentStatus, Refund, RefundStatus
from ..outbox import outbox_enqueue, payment_task_enqueue
from ..providers import ProviderError, get_provider
from ..task_names import PaymentTask
from .outcomes import payment_apply_charge, payment_fail
from .timeline import charge_summary, event_record

logger = logging.getLogger(__name__)


def _resend(payment: Payment, task: PaymentTask, reason: str, *, refund_id: str | None = None) -> None:
    with transaction.atomic():
        data = {"task": str(task), "reason": reason}
        if refund_id is not None:
            data["refund_id"] = refund_id
        event = event_record(payment=payment, type="resent", data=data)
        payment_task_enqueue(payment=payment, task=task, causation_id=str(event.pk), refund_id=refund_id)


def payment_recover(payment: Payment, *, now: datetime | None = None) -> str:
    """Ask the provider what became of a payment stuck in processing, and act on it."""
    now = now or timezone.now()
    if not payment.provider:
        _resend(payment, PaymentTask.AUTHORIZE, "never sent")
        return "resent"
    try:
        charge = get_provider(payment.provider).find_charge(idempotency_key=payment.provider_idempotency_key)
    except ProviderError as exc:
        logger.warning("recovery of %s: provider %s unreachable (%s)", payment.pk, payment.provider, exc)
        return "provider_unreachable"
    if charge is not None:
        event_record(
            payment=payment,
            type="provider_status",
            data={"operation": "find_charge", **charge_summary(charge)},
        )
        payment_apply_charge(payment_id=payment.pk, charge=charge, causation_id="recovery", source="recovery")
        return f"charge_{charge.status}"
    if now - payment.created_at > timedelta(seconds=settings.PAYMENTS_GIVE_UP_AFTER_SECONDS):
        payment_fail(
            payment_id=payment.pk,
            code="provider_unavailable",
            message="The provider never received the payment.",
            causation_id="recovery",
        )
        return "failed"
    _resend(payment, PaymentTask.AUTHORIZE, "no charge at the provider")
    return "resent"


def payments_recover_stuck(*, now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """For beat: payments and refunds whose work has not finished in PAYMENTS_STUCK_AFTER_SECONDS."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.PAYMENTS_STUCK_AFTER_SECONDS)
    pending_messages = OutboxMessage.objects.filter(published_at__isnull=True)
    outcomes: dict[str, int] = {}

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    for payment in Payment.objects.filter(status=PaymentStatus.PROCESSING, updated_at__lt=stale)[:limit]:
        if pending_messages.filter(kwargs__payment_id=str(payment.pk)).exists():
            continue  # still waiting for the broker: the relay will deliver it
        count(payment_recover(payment, now=now))
    waiting = Payment.objects.filter(status=PaymentStatus.REQUIRES_CAPTURE, updated_at__lt=stale).filter(
        Q(capture_requested_amount__isnull=False) | Q(cancel_requested=True)
    )
    for payment in waiting[:limit]:
        if not pending_messages.filter(kwargs__payment_id=str(payment.pk)).exists():
            task = PaymentTask.CAPTURE if payment.capture_requested_amount is not None else PaymentTask.CANCEL
            _resend(payment, task, "no answer yet")
            Payment.objects.filter(pk=payment.pk).update(updated_at=now)
            count("resent")
    for refund in Refund.objects.filter(status=RefundStatus.PENDING, updated_at__lt=stale).select_related(
        "payment"
    )[:limit]:
        if not pending_messages.filter(kwargs__refund_id=str(refund.pk)).exists():
            _resend(refund.payment, PaymentTask.REFUND, "no answer yet", refund_id=str(refund.pk))
            Refund.objects.filter(pk=refund.pk).update(updated_at=now)
            count("resent")
    return outcomes


@transaction.atomic
def dead_letter_record(*, task: str, kwargs: dict, message_id: str, error: str, retries: int) -> DeadLetter:
    """Record work that exhausted its retries, and its timeline event, in one transaction."""
    payment_id = kwargs.get("payment_id")
    payment = Payment.objects.filter(pk=payment_id).first() if payment_id else None
    letter = DeadLetter.objects.create(
        task=task,
        kwargs=kwargs,
        message_id=message_id,
        error=error[:5000],
        retries=retries,
        correlation_id=payment.correlation_id if payment is not None else "",
    )
    if payment is not None:
        event_record(
            payment=payment,
            type="dead_lettered",
            causation_id=message_id,
            request_id=message_id,
            data={"task": task, "error": error[:500], "retries": retries, "dead_letter": letter.pk},
        )
    return letter


@transaction.atomic
def dead_letter_replay(*, dead_letter_id: int) -> OutboxMessage:
    """Send a dead letter's task again, through the outbox. A replayed letter is not replayed twice."""
    letter = locks.dead_letter_lock(dead_letter_id)
    if letter.replayed_at is not None:
        raise ValueError(
            f"Dead letter {letter.pk} was already replayed at {letter.replayed_at:%Y-%m-%d %H:%M:%S}."
        )
    message = outbox_enqueue(
        task=letter.task,
        kwargs=letter.kwargs,
        correlation_id=letter.correlation_id,
        causation_id=f"dead_letter:{letter.pk}",
    )
    letter.replayed_at, letter.replayed_as = timezone.now(), message
    letter.save(update_fields=["replayed_at", "replayed_as"])
    return message
