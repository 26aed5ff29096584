"""Every row lock of the payments app, taken only inside atomic services.

Order: a payment before its refunds, both before any ledger row (ledger.locks takes those);
nothing locks a ledger row and then a payment. Outbox messages and dead letters are locked alone.
"""

from datetime import datetime
from uuid import UUID

from django.db.models import Q

from .models import DeadLetter, OutboxMessage, Payment, Refund


def payment_lock(payment_id: UUID) -> Payment:
    return Payment.objects.select_for_update(of=("self",)).get(pk=payment_id)


def payment_lock_owned(*, user, payment_id: UUID) -> Payment | None:
    """The user's payment, locked; None when it is not theirs (or does not exist)."""
    return Payment.objects.select_for_update(of=("self",)).filter(pk=payment_id, user=user).first()


def refund_lock(refund_id: UUID) -> Refund:
    return Refund.objects.select_for_update(of=("self",)).get(pk=refund_id)


def outbox_lock_due(*, now: datetime, limit: int) -> list[OutboxMessage]:
    """Unpublished messages due now and not leased by another relay; rows other relays hold are skipped."""
    return list(
        OutboxMessage.objects.filter(published_at__isnull=True, available_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("available_at", "created_at")
        .select_for_update(skip_locked=True)[:limit]
    )


def dead_letter_lock(dead_letter_id: int) -> DeadLetter:
    return DeadLetter.objects.select_for_update().get(pk=dead_letter_id)
