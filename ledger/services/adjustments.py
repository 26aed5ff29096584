"""Adjustments under four eyes: a correction of the ledger proposed by one person, decided by another.

Proposing writes nothing to the ledger. Approving posts exactly one balanced transfer of kind
adjustment (its cause `adjustment:<id>` is unique in the database) in the same transaction as the
decision; rejecting posts nothing. The approver must be in the finance_approver group and must not be
the proposer: refused here with a named error, and again by the table's CHECK constraints. Under
concurrency one decision wins: the adjustment's row is locked first, and the decision is written by a
conditional UPDATE ... WHERE status = 'proposed'. The services are atomic but not durable, so a caller
(reconciliation resolving a discrepancy) may wrap them in its own transaction.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import FINANCE_APPROVER_GROUP, User

from .. import locks
from ..errors import (
    LedgerError,
    adjustment_already_decided,
    currency_mismatch,
    not_an_approver,
    not_found,
    self_approval,
)
from ..models import Account, Adjustment, AdjustmentStatus, TransferKind
from .postings import transfer_create


def _validation(field: str, message: str) -> LedgerError:
    return LedgerError("validation_error", message, status=400, errors={field: [message]})


def adjustment_propose(
    *,
    proposed_by: User,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: int,
    currency: str,
    reason: str,
    cause: str = "",
) -> Adjustment:
    """Record a proposed correction: debit one account, credit another. Nothing moves until approval."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise _validation("amount", "The amount must be a positive integer of minor units.")
    if not reason.strip():
        raise _validation("reason", "A reason is required.")
    if debit_account_id == credit_account_id:
        raise LedgerError("same_account", "Source and destination must be different accounts.")
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[debit_account_id, credit_account_id])}
    for account_id in (debit_account_id, credit_account_id):
        account = accounts.get(account_id)
        if account is None:
            raise not_found("account", account_id)
        if account.currency != currency:
            raise currency_mismatch(account_id, held=account.currency, requested=currency)
    return Adjustment.objects.create(
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        currency=currency,
        reason=reason.strip()[:255],
        cause=cause,
        proposed_by=proposed_by,
        proposed_at=timezone.now(),
    )


def _decidable(*, adjustment_id: UUID, approver: User) -> Adjustment:
    """The adjustment, locked, after every check a decision needs (under the lock)."""
    adjustment = locks.adjustment_lock(adjustment_id)
    if adjustment is None:
        raise not_found("adjustment", adjustment_id)
    if adjustment.status != AdjustmentStatus.PROPOSED:
        raise adjustment_already_decided(adjustment)
    if adjustment.proposed_by_id == approver.pk:
        raise self_approval()
    if not approver.is_active or not approver.groups.filter(name=FINANCE_APPROVER_GROUP).exists():
        raise not_an_approver(approver)
    return adjustment


def _decide(adjustment: Adjustment, **fields: object) -> None:
    """Write the decision only if the adjustment is still proposed: one decision wins."""
    updated = Adjustment.objects.filter(pk=adjustment.pk, status=AdjustmentStatus.PROPOSED).update(**fields)
    if updated != 1:
        adjustment.refresh_from_db()
        raise adjustment_already_decided(adjustment)
    for name, value in fields.items():
        setattr(adjustment, name, value)


@transaction.atomic
def adjustment_approve(*, adjustment_id: UUID, approver: User, note: str = "") -> Adjustment:
    """Approve and post: one transfer of kind adjustment, debit → credit, in this transaction."""
    adjustment = _decidable(adjustment_id=adjustment_id, approver=approver)
    transfer = transfer_create(
        source_id=adjustment.debit_account_id,
        destination_id=adjustment.credit_account_id,
        amount=adjustment.amount,
        currency=adjustment.currency,
        kind=TransferKind.ADJUSTMENT,
        description=f"Adjustment: {adjustment.reason}"[:255],
        metadata={"proposed_by": adjustment.proposed_by_id, "approved_by": approver.pk},
        cause=f"adjustment:{adjustment.pk}",
    ).transfer
    _decide(
        adjustment,
        status=AdjustmentStatus.APPROVED,
        decided_by=approver,
        decided_at=timezone.now(),
        decision_note=note[:255],
        transfer=transfer,
    )
    return adjustment


@transaction.atomic
def adjustment_reject(*, adjustment_id: UUID, approver: User, note: str) -> Adjustment:
    """Reject: nothing is posted. A note saying why is required."""
    if not note.strip():
        raise _validation("note", "A rejection needs a note saying why.")
    adjustment = _decidable(adjustment_id=adjustment_id, approver=approver)
    _decide(
        adjustment,
        status=AdjustmentStatus.REJECTED,
        decided_by=approver,
        decided_at=timezone.now(),
        decision_note=note.strip()[:255],
    )
    return adjustment
