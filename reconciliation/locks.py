"""Every lock of the reconciliation app, taken only inside atomic services.

A provider's day is serialized by a transaction-scoped advisory lock: two imports, settles or
reconcile runs of the same day queue behind each other instead of racing (their results would
otherwise depend on interleaving; the unique constraints are the backstop). A discrepancy row is
locked before the adjustment that resolves it, which is locked before its accounts.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db import connection

from core.locks import row_lock

from .models import Discrepancy


def provider_day_lock(*, provider: str, day: date) -> None:
    """Hold the (provider, day) lock until the current transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("provider_day_lock is taken only inside transaction.atomic().")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"reconciliation:{provider}:{day.isoformat()}"],
        )


def discrepancy_lock(discrepancy_id: UUID) -> Discrepancy | None:
    return row_lock(Discrepancy.objects.all(), discrepancy_id)
