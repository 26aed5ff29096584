"""Resolving discrepancies: through a four-eyes ledger adjustment, or by ignoring them.

One person proposes the adjustment (ledger.adjustment_propose, linked to the discrepancy); another,
in the finance_approver group, approves it with discrepancy_resolve, which calls
ledger.adjustment_approve and marks the discrepancy resolved in the same transaction — the posting
and the resolution commit together or not at all. Rejecting the adjustment leaves the discrepancy open
for a new proposal. Locks: the discrepancy, then the adjustment, then the accounts.

Default adjustment per class (a caller may name other accounts or amount): the signed difference
s = actual - expected (the provider's gross for currency_mismatch) is moved between provider clearing
and suspense — debit clearing when the provider settled more than the ledger holds, credit it when
less; for fee_mismatch between clearing and provider fees; for payout_mismatch between cash and suspense.
"""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import FINANCE_APPROVER_GROUP, User
from ledger import services as ledger
from ledger.models import Adjustment, AdjustmentStatus
from ledger.services import SystemAccount

from ..errors import ReconciliationError
from ..locks import discrepancy_lock
from ..models import Discrepancy, DiscrepancyClass, DiscrepancyStatus

_ACCOUNTS = {
    DiscrepancyClass.FEE_MISMATCH: (SystemAccount.PROVIDER_CLEARING, SystemAccount.PROVIDER_FEES),
    DiscrepancyClass.PAYOUT_MISMATCH: (SystemAccount.CASH, SystemAccount.SUSPENSE),
}
_DEFAULT_ACCOUNTS = (SystemAccount.PROVIDER_CLEARING, SystemAccount.SUSPENSE)


def _open(discrepancy_id: UUID) -> Discrepancy:
    discrepancy = discrepancy_lock(discrepancy_id)
    if discrepancy is None:
        raise ReconciliationError("not_found", f"No discrepancy {discrepancy_id}.", status=404)
    if discrepancy.status != DiscrepancyStatus.OPEN:
        raise ReconciliationError(
            "discrepancy_closed", f"Discrepancy {discrepancy.pk} is {discrepancy.status}.", status=409
        )
    return discrepancy


def discrepancy_adjustment_default(discrepancy: Discrepancy) -> tuple[UUID, UUID, int]:
    """(debit account, credit account, amount) of the adjustment that explains the discrepancy."""
    if discrepancy.cls == DiscrepancyClass.CURRENCY_MISMATCH:
        signed = discrepancy.actual or 0
    else:
        signed = (discrepancy.actual or 0) - (discrepancy.expected or 0)
    if signed == 0:
        raise ReconciliationError(
            "nothing_to_adjust", f"Discrepancy {discrepancy.pk} has no amount to adjust; ignore it instead."
        )
    main, counter = _ACCOUNTS.get(DiscrepancyClass(discrepancy.cls), _DEFAULT_ACCOUNTS)
    main_id = ledger.system_account_get(code=main, currency=discrepancy.currency).pk
    counter_id = ledger.system_account_get(code=counter, currency=discrepancy.currency).pk
    return (main_id, counter_id, signed) if signed > 0 else (counter_id, main_id, -signed)


@transaction.atomic
def discrepancy_adjustment_propose(
    *,
    discrepancy_id: UUID,
    proposed_by: User,
    reason: str,
    amount: int | None = None,
    debit_account_id: UUID | None = None,
    credit_account_id: UUID | None = None,
) -> Adjustment:
    """Propose the adjustment that resolves an open discrepancy (the default one unless told otherwise)."""
    discrepancy = _open(discrepancy_id)
    if discrepancy.adjustment_id is not None:
        raise ReconciliationError(
            "adjustment_pending",
            f"Discrepancy {discrepancy.pk} already has adjustment {discrepancy.adjustment_id} awaiting a decision.",
            status=409,
        )
    debit, credit, default_amount = discrepancy_adjustment_default(discrepancy)
    adjustment = ledger.adjustment_propose(
        proposed_by=proposed_by,
        debit_account_id=debit_account_id or debit,
        credit_account_id=credit_account_id or credit,
        amount=default_amount if amount is None else amount,
        currency=discrepancy.currency,
        reason=reason,
        cause=f"discrepancy:{discrepancy.pk}",
    )
    discrepancy.adjustment = adjustment
    discrepancy.save(update_fields=["adjustment"])
    return adjustment


@transaction.atomic
def discrepancy_resolve(*, discrepancy_id: UUID, approver: User, note: str = "") -> Discrepancy:
    """Approve the discrepancy's proposed adjustment (posting it) and mark it resolved, together."""
    discrepancy = _open(discrepancy_id)
    if discrepancy.adjustment_id is None:
        raise ReconciliationError(
            "no_adjustment", f"Discrepancy {discrepancy.pk} has no proposed adjustment to approve."
        )
    adjustment = ledger.adjustment_approve(
        adjustment_id=discrepancy.adjustment_id, approver=approver, note=note
    )
    discrepancy.status = DiscrepancyStatus.RESOLVED
    discrepancy.resolved_by = approver
    discrepancy.resolved_at = timezone.now()
    discrepancy.resolution_note = (note or f"adjustment {adjustment.pk} approved")[:255]
    discrepancy.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    return discrepancy


@transaction.atomic
def discrepancy_adjustment_reject(*, discrepancy_id: UUID, approver: User, note: str) -> Discrepancy:
    """Reject the proposed adjustment; the discrepancy stays open for another proposal."""
    discrepancy = _open(discrepancy_id)
    if discrepancy.adjustment_id is None:
        raise ReconciliationError(
            "no_adjustment", f"Discrepancy {discrepancy.pk} has no proposed adjustment to reject."
        )
    adjustment = ledger.adjustment_reject(
        adjustment_id=discrepancy.adjustment_id, approver=approver, note=note
    )
    assert adjustment.status == AdjustmentStatus.REJECTED  # noqa: S101  (adjustment_reject raises otherwise)
    discrepancy.adjustment = None
    discrepancy.save(update_fields=["adjustment"])
    return discrepancy


@transaction.atomic
def discrepancy_ignore(*, discrepancy_id: UUID, user: User, note: str) -> Discrepancy:
    """Close a discrepancy without posting anything (a finance approver's call, with a note)."""
    if not note.strip():
        raise ReconciliationError("validation_error", "Ignoring a discrepancy needs a note.", status=400)
    if not user.groups.filter(name=FINANCE_APPROVER_GROUP).exists():
        raise ReconciliationError(
            "not_an_approver", f"User {user.pk} is not in the finance_approver group.", status=403
        )
    discrepancy = _open(discrepancy_id)
    if discrepancy.adjustment_id is not None:
        raise ReconciliationError(
            "adjustment_pending",
            f"Discrepancy {discrepancy.pk} has an adjustment awaiting a decision.",
            status=409,
        )
    discrepancy.status = DiscrepancyStatus.IGNORED
    discrepancy.resolved_by = user
    discrepancy.resolved_at = timezone.now()
    discrepancy.resolution_note = note.strip()[:255]
    discrepancy.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    return discrepancy
