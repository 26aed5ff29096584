"""Every row lock of the ledger, in one global order, taken only inside atomic services.

Accounts are always locked in primary-key order, all at once, so two transfers that
touch the same accounts can never deadlock. A transfer (hold) is locked before its
accounts; nothing locks an account and then a transfer.
"""

from collections.abc import Iterable
from uuid import UUID

from .models import Account, IdempotencyKey, Transfer


def accounts_lock(ids: Iterable[UUID]) -> dict[UUID, Account]:
    ordered = sorted(set(ids))
    locked = Account.objects.filter(pk__in=ordered).order_by("pk").select_for_update(of=("self",))
    return {account.pk: account for account in locked}


def transfer_lock(transfer_id: UUID) -> Transfer | None:
    return Transfer.objects.select_for_update(of=("self",)).filter(pk=transfer_id).first()


def transfers_lock_skip_locked(ids: Iterable[UUID]) -> list[Transfer]:
    """Lock the transfers nobody else holds (for background sweeps), in id order."""
    return list(
        Transfer.objects.filter(pk__in=sorted(set(ids)))
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=True)
    )


def idempotency_key_lock_nowait(*, user, key: str) -> IdempotencyKey:
    """Lock the key's row or fail at once (LockNotAvailable): held means a request with it is in flight."""
    return IdempotencyKey.objects.select_for_update(nowait=True).get(user=user, key=key)
