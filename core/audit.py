"""The audit log of back-office actions: recording a row into the hash chain, and verifying the chain.

Each row's hash is SHA-256 over its canonical content (sorted-key JSON of every column but the id
and the hash) followed by the previous row's hash; the first row chains to GENESIS. Appends are
serialized by a transaction-scoped advisory lock, so the chain order is the id order and two
concurrent actions never chain to the same predecessor. The lock is held until the caller's
transaction commits: audit rows are written in the same transaction as the change they record.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditAction, AuditLog

GENESIS = "0" * 64
# pg_advisory_xact_lock key for the chain's tail: an arbitrary constant owned by this module.
CHAIN_LOCK_KEY = 0x4C50_4155_4454  # "LPAUDT"


def _json_safe(value: Any) -> Any:
    """The value as it will read back from jsonb (UUIDs, dates and Decimals as strings)."""
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder))


def audit_canonical(
    *,
    created_at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    ip: str | None,
    before: Any,
    after: Any,
    reason: str,
    prev_hash: str,
) -> bytes:
    content = {
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "ip": ip,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def audit_hash(row: AuditLog) -> str:
    """The hash a row must carry, from its stored content and its stored prev_hash."""
    canonical = audit_canonical(
        created_at=row.created_at,
        actor_id=row.actor_id,
        actor_label=row.actor_label,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        ip=row.ip,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
    )
    return hashlib.sha256(canonical).hexdigest()


@transaction.atomic
def audit_record(
    *,
    actor: AbstractBaseUser | None,  # the project's user model (core imports no app)
    action: AuditAction,
    target_type: str = "",
    target_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
    actor_label: str = "",
) -> AuditLog:
    """Append one row to the audit chain, in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    tail = AuditLog.objects.order_by("-id").values_list("hash", flat=True).first()
    row = AuditLog(
        created_at=timezone.now(),
        actor=actor,  # type: ignore[misc]  # AbstractBaseUser: the concrete user model
        actor_label=actor_label or (actor.get_username() if actor is not None else ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        ip=str(ipaddress.ip_address(ip)) if ip else None,
        before=_json_safe(before),
        after=_json_safe(after),
        reason=reason,
        prev_hash=tail or GENESIS,
    )
    row.hash = audit_hash(row)
    row.save(force_insert=True)
    return row


@dataclass(frozen=True)
class AuditBreak:
    """The first row where the chain does not hold, and why."""

    row_id: int
    reason: str


@dataclass(frozen=True)
class AuditVerification:
    rows: int
    broken: AuditBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows_in_order(batch: int) -> Iterator[AuditLog]:
    last_id = 0
    while True:
        rows = list(AuditLog.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def audit_verify(*, batch: int = 2000) -> AuditVerification:
    """Walk the chain in id order (constant memory) and report the first row that breaks it.

    A row breaks the chain when its content no longer gives its hash (edited), or when its prev_hash
    is not the hash of the row before it (a row removed, inserted or reordered).
    """
    expected_prev = GENESIS
    count = 0
    for row in _rows_in_order(batch):
        count += 1
        if row.prev_hash != expected_prev:
            return AuditVerification(
                count, AuditBreak(row.id, "prev_hash does not match the previous row's hash")
            )
        if audit_hash(row) != row.hash:
            return AuditVerification(count, AuditBreak(row.id, "content does not match its hash"))
        expected_prev = row.hash
    return AuditVerification(count, None)
