"""Every write to the ledger: accounts, transfers, holds, reversals.

Each money-moving service runs in one transaction, locks every account it touches
in primary-key order (ledger.locks), re-checks status and funds under the lock,
and writes entries, cached balances and versions together, in a fixed small
number of statements. Services are `transaction.atomic` rather than durable so
that a caller may add its own record to the same commit (the idempotency key of
an API request, the payment a capture belongs to); nested in a caller's
transaction they run in a savepoint, so a refusal leaves the caller's work intact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from . import locks

if TYPE_CHECKING:
    from accounts.models import User
from .errors import LedgerError, account_inactive, currency_mismatch, insufficient_funds, not_found
from .models import (
    Account,
    AccountKind,
    AccountStatus,
    Entry,
    Transfer,
    TransferKind,
    TransferStatus,
)

MAX_HOLD_DURATION = timedelta(days=30)
DEFAULT_HOLD_DURATION = timedelta(days=7)


class SystemAccount(StrEnum):
    """The platform's own accounts, one per currency, created on demand."""

    WORLD = "world"  # money entering or leaving the system from outside (equity)
    CASH = "cash"  # the platform's bank account (asset)
    PROVIDER_CLEARING = "provider_clearing"  # owed to us by the card provider until settled (asset)
    FEES_REVENUE = "fees_revenue"  # platform fees earned (revenue)
    PROVIDER_FEES = "provider_fees"  # what the provider charges us (expense)
    SUSPENSE = "suspense"  # unexplained differences awaiting a decision (liability)


SYSTEM_ACCOUNT_KINDS = {
    SystemAccount.WORLD: AccountKind.EQUITY,
    SystemAccount.CASH: AccountKind.ASSET,
    SystemAccount.PROVIDER_CLEARING: AccountKind.ASSET,
    SystemAccount.FEES_REVENUE: AccountKind.REVENUE,
    SystemAccount.PROVIDER_FEES: AccountKind.EXPENSE,
    SystemAccount.SUSPENSE: AccountKind.LIABILITY,
}


@dataclass(frozen=True)
class Leg:
    """One side of a posting: a debit (positive) or credit (negative) of `account_id`."""

    account_id: UUID
    amount: int


# --- accounts ----------------------------------------------------------------


def account_create(*, owner, currency: str, name: str = "") -> Account:
    """A customer account: a liability of the platform that may never go below zero."""
    return Account.objects.create(
        owner=owner, currency=currency, name=name, kind=AccountKind.LIABILITY, allow_negative=False
    )


def account_update(
    *, user: User, account_id: UUID, name: str | None = None, accepts_external_transfers: bool | None = None
) -> Account:
    """Change what the owner may change on its account: its name, and whether other customers may
    push transfers into it. Another user's account is not found."""
    with transaction.atomic():
        account = locks.accounts_lock([account_id]).get(account_id)
        if account is None or account.owner_id != user.pk:
            raise not_found("account", account_id)
        fields = []
        if name is not None:
            account.name = name
            fields.append("name")
        if accepts_external_transfers is not None:
            account.accepts_external_transfers = accepts_external_transfers
            fields.append("accepts_external_transfers")
        if fields:
            account.save(update_fields=fields)
        return account


def system_account_get(*, code: SystemAccount, currency: str) -> Account:
    """The system account `code` in `currency`, created on first use (safe under concurrency)."""
    code = SystemAccount(code)
    account = Account.objects.filter(system_code=code, currency=currency).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                system_code=code,
                currency=currency,
                kind=SYSTEM_ACCOUNT_KINDS[code],
                allow_negative=True,
                name=f"System: {code.value.replace('_', ' ')}",
            )
    except IntegrityError:  # created concurrently by another request
        return Account.objects.get(system_code=code, currency=currency)


def account_status_set(*, account_id: UUID, status: AccountStatus) -> Account:
    with transaction.atomic():
        account = locks.accounts_lock([account_id]).get(account_id)
        if account is None:
            raise not_found("account", account_id)
        if account.status == AccountStatus.CLOSED:
            raise LedgerError("invalid_state", "A closed account cannot be reopened.")
        if status == AccountStatus.CLOSED and (
            account.balance or account.pending_debits or account.pending_credits
        ):
            raise LedgerError(
                "invalid_state", "Only an account with a zero balance and no holds can be closed."
            )
        account.status = status
        account.version += 1
        account.save(update_fields=["status", "version"])
        return account


# --- posting (the one place that writes entries) -------------------------------


def _check_active(accounts: dict[UUID, Account], ids) -> None:
    for account_id in ids:
        if accounts[account_id].status != AccountStatus.ACTIVE:
            raise account_inactive(accounts[account_id])


def _check_funds(account: Account) -> None:
    if not account.allow_negative and (account.balance < 0 or account.available < 0):
        raise insufficient_funds(account)


def _apply_legs(
    *, transfer: Transfer, legs: list[Leg], accounts: dict[UUID, Account], now: datetime
) -> list[Entry]:
    """Apply signed legs to the locked accounts and build their entries (not yet saved)."""
    entries = []
    for leg in legs:
        account = accounts[leg.account_id]
        account.balance += leg.amount * account.normal_sign
        account.version += 1
        entries.append(
            Entry(
                transfer=transfer,
                account_id=account.pk,
                amount=leg.amount,
                currency=transfer.currency,
                balance_after=account.balance,
                created_at=now,
            )
        )
    return entries


_ACCOUNTS_UPDATE = """
    UPDATE ledger_account AS a
       SET balance = v.balance, pending_debits = v.pending_debits, pending_credits = v.pending_credits,
           version = v.version
      FROM (VALUES {rows}) AS v(id, balance, pending_debits, pending_credits, version)
     WHERE a.id = v.id
"""
_ACCOUNT_ROW = "(%s::uuid, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"


def _save(accounts: dict[UUID, Account], entries: list[Entry]) -> None:
    """Insert the entries and write every locked account's new totals in one UPDATE.

    One statement rather than bulk_update, whose CASE/WHEN per field cost ~2 ms of CPU per transfer,
    all of it while the rows are locked (docs/performance.md).
    """
    if entries:
        Entry.objects.bulk_create(entries)
    rows = list(accounts.values())
    params = [
        value for a in rows for value in (a.pk, a.balance, a.pending_debits, a.pending_credits, a.version)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNTS_UPDATE.format(rows=", ".join([_ACCOUNT_ROW] * len(rows))), params)


def _resolve(
    *, accounts: dict[UUID, Account], ids: list[UUID], currency: str, actor, source_id: UUID
) -> None:
    """Existence, visibility and currency of the locked accounts, checked under the lock."""
    for account_id in ids:
        account = accounts.get(account_id)
        if account is None:
            raise not_found("account", account_id)
        if actor is not None:
            # A client moves money only out of its own accounts, and only into customer accounts.
            if account_id == source_id and account.owner_id != actor.pk:
                raise not_found("account", account_id)
            if account.system_code is not None:
                raise not_found("account", account_id)
            if (
                account_id != source_id
                and account.owner_id != actor.pk
                and not account.accepts_external_transfers
            ):
                # Another customer's account receives only if its owner opted in. Refused as not found,
                # like any account the client may not use: an id reveals nothing about an account that
                # does not accept transfers.
                raise not_found("account", account_id)
    for account_id in ids:
        if accounts[account_id].currency != currency:
            raise currency_mismatch(accounts[account_id], currency)


def transfer_create(
    *,
    source_id: UUID,
    destination_id: UUID,
    amount: int,
    currency: str,
    actor=None,
    kind: TransferKind = TransferKind.TRANSFER,
    description: str = "",
    metadata: dict | None = None,
    cause: str = "",
    pending: bool = False,
    expires_in: timedelta | None = None,
) -> Transfer:
    """Move `amount` from source to destination, or with `pending` only reserve it (a hold).

    `actor` is the client user on whose behalf it runs (None for the platform itself):
    the source must then be one of its accounts, else it is not found.
    """
    return transfer_split_create(
        source_id=source_id,
        credits=[(destination_id, amount)],
        currency=currency,
        actor=actor,
        kind=kind,
        description=description,
        metadata=metadata,
        cause=cause,
        pending=pending,
        expires_in=expires_in,
    )


@transaction.atomic
def transfer_split_create(
    *,
    source_id: UUID,
    credits: list[tuple[UUID, int]],
    currency: str,
    actor=None,
    kind: TransferKind = TransferKind.TRANSFER,
    description: str = "",
    metadata: dict | None = None,
    cause: str = "",
    pending: bool = False,
    expires_in: timedelta | None = None,
) -> Transfer:
    """Debit source by the total and credit each (account, amount); the first credit is the destination.

    A payment capture is one: clearing debited by the gross, the client credited the
    net and fees revenue the fee. Holds (pending) have exactly one credit.
    """
    if not credits or any(amount <= 0 for _, amount in credits):
        raise LedgerError("validation_error", "Every amount must be positive.", status=400)
    amount = sum(amount for _, amount in credits)
    destination_id = credits[0][0]
    ids = [source_id] + [account_id for account_id, _ in credits]
    if len(set(ids)) != len(ids):
        raise LedgerError("same_account", "Source and destination must be different accounts.")
    if pending and len(credits) != 1:
        raise LedgerError("validation_error", "A hold has exactly one destination.", status=400)

    accounts = locks.accounts_lock(ids)
    _resolve(accounts=accounts, ids=ids, currency=currency, actor=actor, source_id=source_id)
    _check_active(accounts, ids)
    now = timezone.now()
    source, destination = accounts[source_id], accounts[destination_id]

    transfer = Transfer(
        kind=kind,
        amount=amount,
        currency=currency,
        source=source,
        destination=destination,
        description=description,
        metadata=metadata or {},
        cause=cause,
        created_by=actor,
        created_at=now,
    )
    if pending:
        expires_in = DEFAULT_HOLD_DURATION if expires_in is None else expires_in
        if expires_in <= timedelta(0) or expires_in > MAX_HOLD_DURATION:
            raise LedgerError(
                "validation_error",
                "A hold must expire in the future, within 30 days.",
                status=400,
                errors={"expires_in": ["Must be between 1 second and 30 days."]},
            )
        transfer.status = TransferStatus.PENDING
        transfer.expires_at = now + expires_in
        source.pending_debits += amount
        destination.pending_credits += amount
        source.version += 1
        destination.version += 1
        _check_funds(source)
        transfer.save(force_insert=True)
        _save(accounts, [])
        return transfer

    transfer.status = TransferStatus.POSTED
    transfer.posted_amount = amount
    transfer.posted_at = now
    legs = [Leg(source_id, amount)] + [Leg(account_id, -credit) for account_id, credit in credits]
    entries = _apply_legs(transfer=transfer, legs=legs, accounts=accounts, now=now)
    _check_funds(source)
    transfer.save(force_insert=True)
    _save(accounts, entries)
    transfer.posted_entries = entries  # what was just written, so callers need not query it again
    return transfer


# --- holds -------------------------------------------------------------------


def _hold_for_update(*, transfer_id: UUID, actor) -> Transfer:
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
def hold_post(*, transfer_id: UUID, amount: int | None = None, actor=None) -> Transfer:
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
    _save(accounts, entries)
    hold.posted_entries = entries
    return hold


def _hold_finish(hold: Transfer, status: TransferStatus) -> Transfer:
    accounts = locks.accounts_lock([hold.source_id, hold.destination_id])
    _hold_release(hold, accounts)
    hold.status = status
    hold.finalized_at = timezone.now()
    hold.save(update_fields=["status", "finalized_at"])
    _save(accounts, [])
    return hold


@transaction.atomic
def hold_void(*, transfer_id: UUID, actor=None) -> Transfer:
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


# --- corrections ---------------------------------------------------------------


@transaction.atomic
def transfer_reverse(*, transfer_id: UUID, actor=None, description: str = "", cause: str = "") -> Transfer:
    """A new transfer with every entry of a posted one negated. History is never edited."""
    original = locks.transfer_lock(transfer_id)
    if original is None:
        raise not_found("transfer", transfer_id)
    if original.status != TransferStatus.POSTED:
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
    reversal.save(force_insert=True)
    _save(accounts, entries)
    reversal.posted_entries = entries
    return reversal
