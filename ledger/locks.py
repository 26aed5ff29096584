"""Every row lock of the ledger, in one global order, taken only inside atomic services.

Accounts are always locked in primary-key order, all at once, so two transfers that
touch the same accounts can never deadlock. A single posting takes the same locks, in the
same order, inside PostgreSQL: ledger_transfer_post() (migrations/sql/0010_…), called by
services.postings so that the whole posting is one round trip. A transfer (hold) is locked before its
accounts; nothing locks an account and then a transfer.
"""

from collections.abc import Iterable
from uuid import UUID

from core.locks import locked_rows, locking_select, row_lock, rows_lock

from .models import Account, Adjustment, Transfer

_ACCOUNTS_LOCK = locking_select(Account, "id = ANY(%s) ORDER BY id")


def accounts_lock(ids: Iterable[UUID]) -> dict[UUID, Account]:
    """Lock these accounts in primary-key order; the ones that exist, by id (on every transfer's path:
    a written-out statement, a quarter of a millisecond of CPU less than the ORM's)."""
    return {account.pk: account for account in locked_rows(Account, _ACCOUNTS_LOCK, [sorted(set(ids))])}


def transfer_lock(transfer_id: UUID) -> Transfer | None:
    return row_lock(Transfer.objects.all(), transfer_id)


def transfers_lock_skip_locked(ids: Iterable[UUID]) -> list[Transfer]:
    """Lock the transfers nobody else holds (for background sweeps), in id order."""
    return rows_lock(Transfer.objects.all(), ids, skip_locked=True)


def adjustment_lock(adjustment_id: UUID) -> Adjustment | None:
    """An adjustment is locked before the accounts its approval posts to."""
    return row_lock(Adjustment.objects.all(), adjustment_id)
