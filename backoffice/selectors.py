"""Reads for the overview page: volumes per currency, what needs a look (stuck payments, dead letters,
open discrepancies). Each is one aggregate query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from ledger.models import Transfer, TransferStatus
from payments.models import DeadLetter, Payment, PaymentStatus, Refund, RefundStatus


@dataclass(frozen=True)
class Volume:
    currency: str
    count: int
    total: int  # minor units


def _volumes(queryset: object, amount_field: str) -> list[Volume]:
    rows = (
        queryset.values("currency")  # type: ignore[attr-defined]
        .annotate(count=Count("pk"), total=Sum(amount_field))
        .order_by("currency")
    )
    return [Volume(r["currency"], r["count"], r["total"] or 0) for r in rows]


def volumes_since(*, since: datetime) -> dict[str, list[Volume]]:
    """Captured payments, succeeded refunds and posted transfers since `since`, per currency."""
    return {
        "payments": _volumes(
            Payment.objects.filter(created_at__gte=since, amount_captured__gt=0), "amount_captured"
        ),
        "refunds": _volumes(
            Refund.objects.filter(created_at__gte=since, status=RefundStatus.SUCCEEDED), "amount"
        ),
        "transfers": _volumes(
            Transfer.objects.filter(created_at__gte=since, status=TransferStatus.POSTED), "posted_amount"
        ),
    }


def daily_payment_volumes(*, days: int, now: datetime | None = None) -> list[tuple[str, str, int]]:
    """(day, currency, captured minor units) for the last `days` days, for the chart."""
    from django.db.models.functions import TruncDate

    now = now or timezone.now()
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Payment.objects.filter(created_at__gte=start, amount_captured__gt=0)
        .annotate(day=TruncDate("created_at"))
        .values("day", "currency")
        .annotate(total=Sum("amount_captured"))
        .order_by("day", "currency")
    )
    return [(r["day"].isoformat(), r["currency"], r["total"] or 0) for r in rows]


def stuck_payments_count() -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.PAYMENTS_STUCK_AFTER_SECONDS)
    return Payment.objects.filter(status=PaymentStatus.PROCESSING, updated_at__lt=cutoff).count()


def dead_letters_waiting_count() -> int:
    return DeadLetter.objects.filter(replayed_at__isnull=True).count()


def open_discrepancies_by_class() -> list[tuple[str, int]]:
    """Open discrepancies per class, once the reconciliation app is installed (else none)."""
    if not apps.is_installed("reconciliation"):
        return []
    label = "reconciliation.Discrepancy"  # by name: the app may not be installed
    discrepancy = apps.get_model(label)
    rows = discrepancy.objects.filter(status="open").values("cls").annotate(count=Count("pk")).order_by("cls")
    return [(r["cls"], r["count"]) for r in rows]
