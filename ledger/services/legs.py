"""Platform transfers of several debits and credits (a settlement: cash, fees and clearing at once)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from .. import locks
from ..errors import LedgerError
from ..models import Transfer, TransferKind, TransferStatus
from .postings import Leg, Posting, _apply_legs, _check_active, _check_funds, _resolve
from .writes import postings_write


@transaction.atomic
def transfer_legs_create(
    *,
    legs: list[Leg],
    currency: str,
    kind: TransferKind,
    description: str = "",
    metadata: dict[str, object] | None = None,
    cause: str = "",
) -> Posting:
    """A posted transfer of several debits and credits (signed legs summing to zero), for the platform.

    A settlement is one: cash debited by the net, provider fees debited by the fee, provider clearing
    credited by the gross. Legs on the same account are netted and zero legs dropped; the transfer's
    source and destination are its largest debit and largest credit.
    """
    netted: dict[UUID, int] = {}
    for leg in legs:
        netted[leg.account_id] = netted.get(leg.account_id, 0) + leg.amount
    merged = [Leg(account_id, amount) for account_id, amount in netted.items() if amount]
    if sum(leg.amount for leg in merged) != 0:
        raise LedgerError("validation_error", "The legs of a transfer must sum to zero.", status=400)
    if len(merged) < 2:
        raise LedgerError("validation_error", "A transfer needs a debit and a credit.", status=400)
    ids = [leg.account_id for leg in merged]
    accounts = locks.accounts_lock(ids)
    source_id = max(merged, key=lambda leg: leg.amount).account_id
    destination_id = min(merged, key=lambda leg: leg.amount).account_id
    _resolve(accounts=accounts, ids=ids, currency=currency, actor=None, source_id=source_id)
    _check_active(accounts, ids)
    now = timezone.now()
    amount = sum(leg.amount for leg in merged if leg.amount > 0)
    transfer = Transfer(
        kind=kind,
        status=TransferStatus.POSTED,
        amount=amount,
        posted_amount=amount,
        currency=currency,
        source=accounts[source_id],
        destination=accounts[destination_id],
        description=description,
        metadata=metadata or {},
        cause=cause,
        created_at=now,
        posted_at=now,
    )
    entries = _apply_legs(transfer=transfer, legs=merged, accounts=accounts, now=now)
    for account in accounts.values():
        _check_funds(account)
    postings_write(transfers=[transfer], entries=entries, accounts=accounts.values())
    return Posting(transfer=transfer, entries=entries)
