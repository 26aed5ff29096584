"""The row-lock helpers every app's locks.py builds on, and the idempotency key's lock.

Rows of one table are locked all at once in primary-key order, so that two transactions
locking overlapping sets can never deadlock; `of=("self",)` leaves joined rows unlocked.
Locks are taken only inside an atomic block: outside one they would be released at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import Model, QuerySet
from django.db.transaction import TransactionManagementError

from .models import IdempotencyKey

M = TypeVar("M", bound=Model)


def _require_atomic() -> None:
    if not connection.in_atomic_block:
        raise TransactionManagementError("Row locks are taken only inside transaction.atomic().")


def rows_lock(queryset: QuerySet[M], ids: Iterable[Any], *, skip_locked: bool = False) -> list[M]:
    """The rows of queryset with these primary keys, locked in primary-key order.

    With skip_locked, rows another transaction holds are left out (for background sweeps).
    """
    _require_atomic()
    ordered = sorted(set(ids))
    return list(
        queryset.filter(pk__in=ordered)
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=skip_locked)
    )


def row_lock(queryset: QuerySet[M], pk: Any) -> M | None:
    """The one row of queryset with this primary key, locked; None when there is none."""
    _require_atomic()
    return queryset.select_for_update(of=("self",)).filter(pk=pk).first()


def locking_select(model: type[Model], condition: str, *, nowait: bool = False) -> str:
    """A written-out `SELECT <every column> … FOR UPDATE` of model's table, for a lock on the path of
    every request: built once (at import), where the ORM would build and compile it on each call.
    `condition` is SQL with %s placeholders, and may end with an ORDER BY."""
    columns = ", ".join(cast(str, field.column) for field in model._meta.concrete_fields)
    lock = "FOR UPDATE NOWAIT" if nowait else "FOR UPDATE"
    return f"SELECT {columns} FROM {model._meta.db_table} WHERE {condition} {lock}"  # noqa: S608 — the model's names, no input


def locked_rows(model: type[M], sql: str, params: list[Any]) -> list[M]:
    """Run a `locking_select` statement and build model's instances from its rows."""
    _require_atomic()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = [field.attname for field in model._meta.concrete_fields]
    return [model.from_db(connection.alias, names, row) for row in rows]


_IDEMPOTENCY_KEY_LOCK = locking_select(IdempotencyKey, "user_id = %s AND key = %s", nowait=True)


def idempotency_key_lock_nowait(*, user: AbstractBaseUser, key: str) -> IdempotencyKey | None:
    """Lock the key's row or fail at once (LockNotAvailable): held means a request with it is in flight.

    None if the row is gone (purged since it was claimed).
    """
    rows = locked_rows(IdempotencyKey, _IDEMPOTENCY_KEY_LOCK, [user.pk, key])
    return rows[0] if rows else None
