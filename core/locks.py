"""The row-lock helpers every app's locks.py builds on, and the idempotency key's lock.

Rows of one table are locked all at once in primary-key order, so that two transactions
locking overlapping sets can never deadlock; `of=("self",)` leaves joined rows unlocked.
Locks are taken only inside an atomic block: outside one they would be released at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import Model, QuerySet
from django.db.transaction import TransactionManagementError

from .models import IdempotencyKey

M = TypeVar("M", bound=Model)


def require_atomic() -> None:
    if not connection.in_atomic_block:
        raise TransactionManagementError("Row locks are taken only inside transaction.atomic().")


def rows_lock(queryset: QuerySet[M], ids: Iterable[Any], *, skip_locked: bool = False) -> list[M]:
    """The rows of queryset with these primary keys, locked in primary-key order.

    With skip_locked, rows another transaction holds are left out (for background sweeps).
    """
    require_atomic()
    ordered = sorted(set(ids))
    return list(
        queryset.filter(pk__in=ordered)
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=skip_locked)
    )


def row_lock(queryset: QuerySet[M], pk: Any) -> M | None:
    """The one row of queryset with this primary key, locked; None when there is none."""
    require_atomic()
    return queryset.select_for_update(of=("self",)).filter(pk=pk).first()


_IDEMPOTENCY_KEY_FIELDS = [field.attname for field in IdempotencyKey._meta.concrete_fields]
_IDEMPOTENCY_KEY_LOCK = (
    "SELECT {} FROM ledger_idempotencykey WHERE user_id = %s AND key = %s FOR UPDATE NOWAIT".format(  # noqa: S608 — the model's column names, no input
        ", ".join(_IDEMPOTENCY_KEY_FIELDS)
    )
)


def idempotency_key_lock_nowait(*, user: AbstractBaseUser, key: str) -> IdempotencyKey | None:
    """Lock the key's row or fail at once (LockNotAvailable): held means a request with it is in flight.

    None if the row is gone (purged since it was claimed). Written out, not built by the ORM: every
    idempotent request takes it.
    """
    require_atomic()
    with connection.cursor() as cursor:
        cursor.execute(_IDEMPOTENCY_KEY_LOCK, [user.pk, key])
        row = cursor.fetchone()
    return None if row is None else IdempotencyKey.from_db(connection.alias, _IDEMPOTENCY_KEY_FIELDS, row)
