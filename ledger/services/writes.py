"""The ledger's one write: new transfers, their entries and the locked accounts' totals in one statement.

Every posting service plans under the account locks in memory (`posting_plan`, `_apply_legs`) and
then calls `postings_write` once, so the critical section — from the first row lock to COMMIT —
holds two round trips: the lock and this statement. A batch of 1,000 transfers is the same single
statement as one transfer: the rows travel as arrays (one parameter per column), so its text never
changes with the batch's size and PostgreSQL can keep it prepared.

Nothing is bypassed: the same constraints check each row, the same deferred triggers check every
transfer at COMMIT (they fire per row whatever the statement), and the foreign keys (deferrable)
are checked at COMMIT too, so the order of the three parts inside the statement does not matter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db import connection
from django.db.models import Model

from ..models import Account, Entry, Transfer, TransferStatus

_WRITE = """
WITH new_transfers AS (
    INSERT INTO ledger_transfer
        (id, kind, status, amount, posted_amount, currency, source_id, destination_id, description, metadata,
         cause, reverses_id, created_by_id, created_at, posted_at, finalized_at, expires_at)
    SELECT t.id, t.kind, t.status, t.amount, t.posted_amount, t.currency, t.source_id, t.destination_id,
           t.description, t.metadata::jsonb, t.cause, t.reverses_id, t.created_by_id, t.created_at,
           t.posted_at, t.finalized_at, t.expires_at
      FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::uuid[],
                  %s::uuid[], %s::text[], %s::text[], %s::text[], %s::uuid[], %s::bigint[],
                  %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[])
           AS t(id, kind, status, amount, posted_amount, currency, source_id, destination_id, description,
                metadata, cause, reverses_id, created_by_id, created_at, posted_at, finalized_at, expires_at)
), new_entries AS (
    INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)
    SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::bigint[], %s::text[], %s::bigint[], %s::timestamptz[])
    RETURNING id
), totals AS (
    UPDATE ledger_account AS a
       SET balance = v.balance, pending_debits = v.pending_debits, pending_credits = v.pending_credits,
           version = v.version
      FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[])
           AS v(id, balance, pending_debits, pending_credits, version)
     WHERE a.id = v.id
)
SELECT id FROM new_entries ORDER BY id
"""

_TRANSFER_COLUMNS = (
    "id",
    "kind",
    "status",
    "amount",
    "posted_amount",
    "currency",
    "source_id",
    "destination_id",
    "description",
    "metadata",
    "cause",
    "reverses_id",
    "created_by_id",
    "created_at",
    "posted_at",
    "finalized_at",
    "expires_at",
)


def _columns(rows: Sequence[tuple], width: int) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def postings_write(
    *, transfers: Sequence[Transfer] = (), entries: Sequence[Entry] = (), accounts: Iterable[Account]
) -> None:
    """Insert the new transfers and entries and write the accounts' new totals, in one statement.

    The instances become saved ones: entries get their ids (in insertion order, as bulk_create
    gives them), transfers and entries are marked as in the database.
    """
    transfer_rows = [
        tuple(
            json.dumps(transfer.metadata) if name == "metadata" else getattr(transfer, name)
            for name in _TRANSFER_COLUMNS
        )
        for transfer in transfers
    ]
    entry_rows = [
        (
            entry.transfer_id,
            entry.account_id,
            entry.amount,
            entry.currency,
            entry.balance_after,
            entry.created_at,
        )
        for entry in entries
    ]
    account_rows = [
        (account.pk, account.balance, account.pending_debits, account.pending_credits, account.version)
        for account in accounts
    ]
    params = [
        *_columns(transfer_rows, len(_TRANSFER_COLUMNS)),
        *_columns(entry_rows, 6),
        *_columns(account_rows, 5),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_WRITE, params)
        ids = [row[0] for row in cursor.fetchall()]
    for entry, entry_id in zip(entries, ids, strict=True):
        entry.pk = entry_id
    saved((*transfers, *entries))


def saved(instances: Iterable[Model]) -> None:
    """Mark instances written by our own SQL as rows of the database (as save() would)."""
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias


_POST = """
    SELECT refusal, refused_account, refused_value, entry_ids, balances
      FROM ledger_transfer_post(%s::uuid, %s::text, %s::uuid, %s::uuid[], %s::bigint[], %s::text, %s::bigint,
                                %s::text, %s::jsonb, %s::text, %s::boolean, %s::timestamptz, %s::timestamptz)
"""


@dataclass(frozen=True)
class PostAnswer:
    """ledger_transfer_post's answer: a refusal (code, account, the value that refused it), or the new
    entries' ids and balances after, in the order of the legs (source first)."""

    refusal: str | None
    account_id: UUID
    value: str
    entry_ids: list[int]
    balances: list[int]


def transfer_post(*, transfer: Transfer, credits: Sequence[tuple[UUID, int]]) -> PostAnswer:
    """Post one transfer (not yet saved) with ledger_transfer_post(): the accounts locked in the global
    order, checked under the lock and written, in one round trip (migrations/sql/0010_…)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _POST,
            [
                transfer.id,
                transfer.kind,
                transfer.source_id,
                [account_id for account_id, _ in credits],
                [amount for _, amount in credits],
                transfer.currency,
                transfer.created_by_id,
                transfer.description,
                json.dumps(transfer.metadata),
                transfer.cause,
                transfer.status == TransferStatus.PENDING,
                transfer.expires_at,
                transfer.created_at,
            ],
        )
        refusal, account_id, value, entry_ids, balances = cursor.fetchone()
    return PostAnswer(refusal, account_id, value or "", entry_ids or [], balances or [])
