"""Every back-office action that changes something, each with its audit row in the same transaction.

The admin calls these, never the apps' services directly: the change and the record of who made it,
from where and why, commit together or not at all.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.audit import audit_record
from core.models import AuditAction
from payments.models import DeadLetter, OutboxMessage
from payments.services import dead_letter_replay


@transaction.atomic(durable=True)
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
