"""Corrections: a posted transfer is reversed by a new transfer, never edited."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .. import locks
from ..errors import LedgerError, not_found
from ..models import Transfer, TransferKind, TransferStatus
from .postings import Leg, Posting, _apply_legs, _check_funds
from .writes import postings_write


@transaction.atomic
def transfer_reverse(
    *, transfer_id: UUID, actor: User | None = None, description: str = "", cause: str = ""
) -> Posting:
    """A new transfer with every entry of a posted one negated. History is never edited."""
    original = locks.transfer_lock(transfer_id)
    if original is None:
        raise not_found("transfer", transfer_id)
    if original.status != TransferStatus.POSTED or original.posted_amount is None:
        raise LedgerError(
            "invalid_state", f"Transfer {original.pk} is {original.status}; only posted ones reverse."
        )
    if Transfer.objects.filter(reverses=original).exists():
        raise LedgerError("invalid_state", f"Transfer {original.pk} has already been reversed.")
    original_entries = list(original.entries.all())
    accounts = locks.accounts_lock(entry.account_id for entry in original_entries)
    now = timezone.now()
    reversal = Transfer(
        kind=TransferKind.REVERSAL,
        status=TransferStatus.POSTED,
        amount=original.posted_amount,
        posted_amount=original.posted_amount,
        currency=original.currency,
        source=original.destination,
        destination=original.source,
        description=description or f"Reversal of {original.pk}",
        cause=cause or f"transfer:{original.pk}",
        reverses=original,
        created_by=actor,
        created_at=now,
        posted_at=now,
    )
    entries = _apply_legs(
        transfer=reversal,
        legs=[Leg(e.account_id, -e.amount) for e in original_entries],
        accounts=accounts,
        now=now,
    )
    for account in accounts.values():
        _check_funds(account)
    postings_write(transfers=[reversal], entries=entries, accounts=accounts.values())
    return Posting(transfer=reversal, entries=entries)
