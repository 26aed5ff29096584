"""Holds: posting (fully or partly), voiding and expiring pending transfers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .. import locks
from ..errors import LedgerError, not_found
from ..models import Account, Transfer, TransferStatus
from .postings import Leg, Posting, _apply_legs, _check_active, _check_funds
from .writes import postings_write


def _hold_for_update(*, transfer_id: UUID, actor: User | None) -> Transfer:
    hold = locks.transfer_lock(transfer_id)
    if hold is None or (actor is not None and hold.created_by_id != actor.pk):
        raise not_found("transfer", transfer_id)
    return hold


def _hold_release(hold: Transfer, accounts: dict[UUID, Account]) -> None:
    source, destination = accounts[hold.source_id], accounts[hold.destination_id]
    source.pending_debits -= hold.amount
    destination.pending_credits -= hold.amount
    source.version += 1
    destination.version += 1


@transaction.atomic
def hold_post(*, transfer_id: UUID, amount: int | None = None, actor: User | None = None) -> Posting:
    """Post a pending transfer, fully or for a smaller amount (the rest is released)."""
    hold = _hold_for_update(transfer_id=transfer_id, actor=actor)
    if hold.status != TransferStatus.PENDING:
        raise LedgerError(
            "invalid_state", f"Transfer {hold.pk} is {hold.status}; only a pending transfer can be posted."
        )
    now = timezone.now()
    if hold.expires_at is not None and hold.expires_at <= now:
        raise LedgerError("hold_expired", f"Hold {hold.pk} expired at {hold.expires_at.isoformat()}.")
    amount = hold.amount if amount is None else amount
    if amount <= 0:
        raise LedgerError("validation_error", "Amount must be greater than zero.", status=400)
    if amount > hold.amount:
        raise LedgerError("amount_exceeds_hold", f"Cannot post more than the {hold.amount} held.")
    accounts = locks.accounts_lock([hold.source_id, hold.destination_id])
    _check_active(accounts, [hold.source_id, hold.destination_id])
    _hold_release(hold, accounts)
    entries = _apply_legs(
        transfer=hold,
        legs=[Leg(hold.source_id, amount), Leg(hold.destination_id, -amount)],
        accounts=accounts,
        now=now,
    )
    _check_funds(accounts[hold.source_id])
    hold.status = TransferStatus.POSTED
    hold.posted_amount = amount
    hold.posted_at = hold.finalized_at = now
    hold.save(update_fields=["status", "posted_amount", "posted_at", "finalized_at"])
    postings_write(entries=entries, accounts=accounts.values())
    return Posting(transfer=hold, entries=entries)


def _hold_finish(hold: Transfer, status: TransferStatus) -> Transfer:
    accounts = locks.accounts_lock([hold.source_id, hold.destination_id])
    _hold_release(hold, accounts)
    hold.status = status
    hold.finalized_at = timezone.now()
    hold.save(update_fields=["status", "finalized_at"])
    postings_write(accounts=accounts.values())
    return hold


@transaction.atomic
def hold_void(*, transfer_id: UUID, actor: User | None = None) -> Transfer:
    """Release a pending transfer without moving anything."""
    hold = _hold_for_update(transfer_id=transfer_id, actor=actor)
    if hold.status != TransferStatus.PENDING:
        raise LedgerError(
            "invalid_state", f"Transfer {hold.pk} is {hold.status}; only a pending transfer can be voided."
        )
    return _hold_finish(hold, TransferStatus.VOIDED)


def hold_expire_due(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Expire the holds whose expires_at has passed. Each batch is its own transaction;
    holds locked by a concurrent post or void are left for the next run. Returns how many expired."""
    now = now or timezone.now()
    expired = 0
    while True:
        due = list(
            Transfer.objects.filter(status=TransferStatus.PENDING, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not due:
            return expired
        with transaction.atomic():
            holds = [
                hold
                for hold in locks.transfers_lock_skip_locked(due)
                if hold.status == TransferStatus.PENDING
            ]
            for hold in holds:
                _hold_finish(hold, TransferStatus.EXPIRED)
        expired += len(holds)
        if len(due) < batch_size or not holds:
            return expired
