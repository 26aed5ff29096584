"""Every back-office action that changes something, each with its audit row in the same transaction.

The admin calls these, never the apps' services directly: the change and the record of who made it,
from where and why, commit together or not at all. Atomic but not durable: the admin's add view runs
its form and save in a transaction of its own, which these join (no network call happens inside).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.apps import apps
from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from core.models import AuditAction
from ledger import services as ledger
from ledger.models import Adjustment
from payments.models import DeadLetter, OutboxMessage
from payments.services import dead_letter_replay


@transaction.atomic
def staff_dead_letter_replay(
    *, actor: User, ip: str | None, dead_letter_id: int, reason: str = ""
) -> OutboxMessage:
    """Replay a dead letter through the outbox (payments.services.dead_letter_replay) and audit it."""
    message = dead_letter_replay(dead_letter_id=dead_letter_id)
    letter = DeadLetter.objects.get(pk=dead_letter_id)
    audit_record(
        actor=actor,
        action=AuditAction.DEAD_LETTER_REPLAYED,
        target_type="payments.deadletter",
        target_id=dead_letter_id,
        ip=ip,
        before={"replayed_at": None},
        after={"replayed_at": letter.replayed_at, "outbox_message": message.pk, "task": letter.task},
        reason=reason,
    )
    return message


def _adjustment_state(adjustment: Adjustment) -> dict[str, Any]:
    return {
        "status": adjustment.status,
        "debit_account": adjustment.debit_account_id,
        "credit_account": adjustment.credit_account_id,
        "amount": adjustment.amount,
        "currency": adjustment.currency,
        "cause": adjustment.cause,
        "proposed_by": adjustment.proposed_by_id,
        "decided_by": adjustment.decided_by_id,
        "transfer": adjustment.transfer_id,
    }


def _adjustment_audit(
    *,
    actor: User,
    action: AuditAction,
    adjustment: Adjustment,
    ip: str | None,
    reason: str,
    before: dict[str, Any] | None = None,
) -> None:
    """One audit row for a change of an adjustment, with its state before and after."""
    audit_record(
        actor=actor,
        action=action,
        target_type="ledger.adjustment",
        target_id=adjustment.pk,
        ip=ip,
        before=before,
        after=_adjustment_state(adjustment),
        reason=reason,
    )


def _discrepancy_of(adjustment: Adjustment) -> UUID | None:
    """The discrepancy an adjustment resolves (its cause is `discrepancy:<id>`), if reconciliation has it."""
    kind, _, rest = adjustment.cause.partition(":")
    if kind != "discrepancy" or not apps.is_installed("reconciliation"):
        return None
    try:
        return UUID(rest)
    except ValueError:
        return None


@transaction.atomic
def staff_adjustment_propose(
    *,
    actor: User,
    ip: str | None,
    debit_account_id: UUID,
    credit_account_id: UUID,
    amount: int,
    currency: str,
    reason: str,
    discrepancy_id: UUID | None = None,
) -> Adjustment:
    """Propose an adjustment (through reconciliation when it resolves a discrepancy), audited."""
    if discrepancy_id is not None:
        from reconciliation.services import discrepancy_adjustment_propose

        adjustment = discrepancy_adjustment_propose(
            discrepancy_id=discrepancy_id,
            proposed_by=actor,
            reason=reason,
            amount=amount,
            debit_account_id=debit_account_id,
            credit_account_id=credit_account_id,
        )
    else:
        adjustment = ledger.adjustment_propose(
            proposed_by=actor,
            debit_account_id=debit_account_id,
            credit_account_id=credit_account_id,
            amount=amount,
            currency=currency,
            reason=reason,
        )
    _adjustment_audit(
        actor=actor, action=AuditAction.ADJUSTMENT_PROPOSED, adjustment=adjustment, ip=ip, reason=reason
    )
    return adjustment


@transaction.atomic
def staff_adjustment_approve(
    *, actor: User, ip: str | None, adjustment_id: UUID, note: str = ""
) -> Adjustment:
    """Approve (and post) an adjustment; when it resolves a discrepancy, resolve that in the same commit."""
    adjustment = Adjustment.objects.get(pk=adjustment_id)
    before = _adjustment_state(adjustment)
    discrepancy_id = _discrepancy_of(adjustment)
    if discrepancy_id is not None:
        from reconciliation.services import discrepancy_resolve

        discrepancy = discrepancy_resolve(discrepancy_id=discrepancy_id, approver=actor, note=note)
        adjustment.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditAction.DISCREPANCY_RESOLVED,
            target_type="reconciliation.discrepancy",
            target_id=discrepancy.pk,
            ip=ip,
            before={"status": "open"},
            after={
                "status": discrepancy.status,
                "adjustment": adjustment.pk,
                "transfer": adjustment.transfer_id,
            },
            reason=note,
        )
    else:
        adjustment = ledger.adjustment_approve(adjustment_id=adjustment_id, approver=actor, note=note)
    _adjustment_audit(
        actor=actor,
        action=AuditAction.ADJUSTMENT_APPROVED,
        adjustment=adjustment,
        ip=ip,
        reason=note,
        before=before,
    )
    return adjustment


@transaction.atomic
def staff_adjustment_reject(*, actor: User, ip: str | None, adjustment_id: UUID, note: str) -> Adjustment:
    """Reject an adjustment (nothing posts); its discrepancy, if any, stays open for a new proposal."""
    adjustment = Adjustment.objects.get(pk=adjustment_id)
    before = _adjustment_state(adjustment)
    discrepancy_id = _discrepancy_of(adjustment)
    if discrepancy_id is not None:
        from reconciliation.services import discrepancy_adjustment_reject

        discrepancy_adjustment_reject(discrepancy_id=discrepancy_id, approver=actor, note=note)
        adjustment.refresh_from_db()
    else:
        adjustment = ledger.adjustment_reject(adjustment_id=adjustment_id, approver=actor, note=note)
    _adjustment_audit(
        actor=actor,
        action=AuditAction.ADJUSTMENT_REJECTED,
        adjustment=adjustment,
        ip=ip,
        reason=note,
        before=before,
    )
    return adjustment
