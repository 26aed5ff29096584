"""Every row lock of the payments app, taken only inside atomic services.

Order: a payment before its refunds, both before any ledger row (ledger.locks takes those);
nothing locks a ledger row and then a payment. Outbox messages and dead letters are locked alone.
"""

from datetime import datetime
from uuid import UUID

from django.db.models import Q

from accounts.models import User
from core.locks import row_lock

from .models import DeadLetter, OutboxMessage, Payment, Refund


def payment_lock(payment_id: UUID) -> Payment:
    payment = row_lock(Payment.objects.all(), payment_id)
    if payment is None:
        raise Payment.DoesNotExist(f"No payment {payment_id}.")
    return payment


def payment_lock_owned(*, user: User, payment_id: UUID) -> Payment | None:
    """The user's payment, locked; None when it is not theirs (or does not exist)."""
    return row_lock(Payment.objects.filter(user=user), payment_id)


def refund_lock(refund_id: UUID) -> Refund:
    refund = row_lock(Refund.objects.all(), refund_id)
    if refund is None:
        raise Refund.DoesNotExist(f"No refund {refund_id}.")
    return refund


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
