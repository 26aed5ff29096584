"""Every row lock of the ledger, in one global order, taken only inside atomic services.

Accounts are always locked in primary-key order, all at once, so two transfers that
touch the same accounts can never deadlock. A transfer (hold) is locked before its
accounts; nothing locks an account and then a transfer.
"""

from collections.abc import Iterable
from uuid import UUID

from core.locks import row_lock, rows_lock

from .models import Account, Adjustment, Transfer


def accounts_lock(ids: Iterable[UUID]) -> dict[UUID, Account]:
    return {account.pk: account for account in rows_lock(Account.objects.all(), ids)}


def transfer_lock(transfer_id: UUID) -> Transfer | None:
    return row_lock(Transfer.objects.all(), transfer_id)


def transfers_lock_skip_locked(ids: Iterable[UUID]) -> list[Transfer]:
    """Lock the transfers nobody else holds (for background sweeps), in id order."""
    return rows_lock(Transfer.objects.all(), ids, skip_locked=True)


def adjustment_lock(adjustment_id: UUID) -> Adjustment | None:
    """An adjustment is locked before the accounts its approval posts to."""
    return row_lock(Adjustment.objects.all(), adjustment_id)
