"""Every read of the payments app: a client sees only its own payments."""

from uuid import UUID

from django.db.models import QuerySet

from accounts.models import User
from core.errors import not_found

from .models import Payment, PaymentEvent


def payment_list(*, user: User, status: str | None = None) -> QuerySet[Payment]:
    payments = Payment.objects.filter(user=user).prefetch_related("refunds").order_by("-created_at", "pk")
    if status:
        payments = payments.filter(status=status)
    return payments


def payment_get(*, user: User, payment_id: UUID) -> Payment:
    payment = Payment.objects.filter(pk=payment_id, user=user).prefetch_related("refunds").first()
    if payment is None:
        raise not_found("payment", payment_id)
    return payment


def payment_events(*, payment: Payment) -> QuerySet[PaymentEvent]:
    return payment.events.order_by("created_at", "pk")
