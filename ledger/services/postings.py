"""Posting: the one place that writes entries. Transfers (immediate or held) and split transfers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from ..errors import LedgerError, account_inactive, currency_mismatch, insufficient_funds, not_found
from ..models import Account, AccountStatus, Entry, Transfer, TransferKind, TransferStatus
from .writes import PostAnswer, saved, transfer_post

MAX_HOLD_DURATION = timedelta(days=30)
DEFAULT_HOLD_DURATION = timedelta(days=7)


@dataclass(frozen=True)
class Posting:
    """What a money-moving service wrote: the transfer and the entries it posted (none for a new hold),
    so that callers (the API's response) need not query them again."""

    transfer: Transfer
    entries: list[Entry]


@dataclass(frozen=True)
class Leg:
    """One side of a posting: a debit (positive) or credit (negative) of `account_id`."""

    account_id: UUID
    amount: int


def _check_active(accounts: dict[UUID, Account], ids: Iterable[UUID]) -> None:
    for account_id in ids:
        if accounts[account_id].status != AccountStatus.ACTIVE:
            raise account_inactive(account_id, accounts[account_id].status)


def _check_funds(account: Account) -> None:
    if not account.allow_negative and (account.balance < 0 or account.available < 0):
        raise insufficient_funds(account.pk)


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


def _resolve(
    *, accounts: dict[UUID, Account], ids: list[UUID], currency: str, actor: User | None, source_id: UUID
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
            raise currency_mismatch(account_id, held=accounts[account_id].currency, requested=currency)


def transfer_create(
    *,
    source_id: UUID,
    destination_id: UUID,
    amount: int,
    currency: str,
    actor: User | None = None,
    kind: TransferKind = TransferKind.TRANSFER,
    description: str = "",
    metadata: dict | None = None,
    cause: str = "",
    pending: bool = False,
    expires_in: timedelta | None = None,
) -> Posting:
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
    actor: User | None = None,
    kind: TransferKind = TransferKind.TRANSFER,
    description: str = "",
    metadata: dict | None = None,
    cause: str = "",
    pending: bool = False,
    expires_in: timedelta | None = None,
) -> Posting:
    """Debit source by the total and credit each (account, amount); the first credit is the destination.

    A payment capture is one: clearing debited by the gross, the client credited the
    net and fees revenue the fee. Holds (pending) have exactly one credit.
    """
    posting = PostingRequest(
        source_id=source_id,
        credits=credits,
        currency=currency,
        kind=kind,
        description=description,
        metadata=metadata,
        cause=cause,
        pending=pending,
        expires_in=expires_in,
    )
    posting.validate()
    return _post(posting=posting, actor=actor, now=timezone.now())


def _post(*, posting: PostingRequest, actor: User | None, now: datetime) -> Posting:
    """One posting in one round trip (`writes.transfer_post`: lock, checks and writes in PostgreSQL), the
    same rules as posting_plan, which batches use; the saved transfer and entries are built from its answer."""
    transfer = Transfer(
        kind=posting.kind,
        status=TransferStatus.PENDING if posting.pending else TransferStatus.POSTED,
        amount=sum(amount for _, amount in posting.credits),
        currency=posting.currency,
        source_id=posting.source_id,
        destination_id=posting.credits[0][0],
        description=posting.description,
        metadata=posting.metadata or {},
        cause=posting.cause,
        created_by=actor,
        created_at=now,
        expires_at=posting.hold_expires_at(now),
    )
    if not posting.pending:
        transfer.posted_amount, transfer.posted_at = transfer.amount, now
    answer = transfer_post(transfer=transfer, credits=posting.credits)
    if answer.refusal:
        raise _refusal(answer, currency=posting.currency)
    entries: list[Entry] = []
    if not posting.pending:  # a hold posts no entry
        legs = [transfer.amount] + [-amount for _, amount in posting.credits]
        entries = [
            Entry(
                id=entry_id,
                transfer=transfer,
                account_id=account_id,
                amount=leg,
                currency=transfer.currency,
                balance_after=balance,
                created_at=now,
            )
            for entry_id, account_id, leg, balance in zip(
                answer.entry_ids, posting.account_ids, legs, answer.balances, strict=True
            )
        ]
    saved((transfer, *entries))
    return Posting(transfer=transfer, entries=entries)


def _refusal(answer: PostAnswer, *, currency: str) -> LedgerError:
    """The LedgerError of ledger_transfer_post's refusal: the one posting_plan raises in that case."""
    if answer.refusal == "not_found":
        return not_found("account", answer.account_id)
    if answer.refusal == "currency_mismatch":
        return currency_mismatch(answer.account_id, held=answer.value, requested=currency)
    if answer.refusal == "account_inactive":
        return account_inactive(answer.account_id, answer.value)
    return insufficient_funds(answer.account_id)


@dataclass(frozen=True)
class PostingRequest:
    """What a caller asks the ledger to post: one source, one or more credits (a hold: exactly one)."""

    source_id: UUID
    credits: list[tuple[UUID, int]]
    currency: str
    kind: TransferKind = TransferKind.TRANSFER
    description: str = ""
    metadata: dict | None = None
    cause: str = ""
    pending: bool = False
    expires_in: timedelta | None = None

    @property
    def account_ids(self) -> list[UUID]:
        return [self.source_id] + [account_id for account_id, _ in self.credits]

    def validate(self) -> None:
        """The checks that need no account: refused before any lock is taken."""
        if not self.credits or any(amount <= 0 for _, amount in self.credits):
            raise LedgerError("validation_error", "Every amount must be positive.", status=400)
        ids = self.account_ids
        if len(set(ids)) != len(ids):
            raise LedgerError("same_account", "Source and destination must be different accounts.")
        if self.pending and len(self.credits) != 1:
            raise LedgerError("validation_error", "A hold has exactly one destination.", status=400)
        if self.pending and not timedelta(0) < self._hold_duration <= MAX_HOLD_DURATION:
            raise LedgerError(
                "validation_error",
                "A hold must expire in the future, within 30 days.",
                status=400,
                errors={"expires_in": ["Must be between 1 second and 30 days."]},
            )

    @property
    def _hold_duration(self) -> timedelta:
        return DEFAULT_HOLD_DURATION if self.expires_in is None else self.expires_in

    def hold_expires_at(self, now: datetime) -> datetime | None:
        return now + self._hold_duration if self.pending else None


def posting_plan(
    *, posting: PostingRequest, accounts: dict[UUID, Account], actor: User | None, now: datetime
) -> tuple[Transfer, list[Entry]]:
    """Check one posting against the locked accounts and apply it to them in memory.

    Returns the transfer and its entries, not yet saved; the caller writes them and the accounts
    (`writes.postings_write`, one statement for a single posting or a whole batch). On a refusal it raises LedgerError having
    changed no account: every check runs before the first change.
    """
    ids = posting.account_ids
    source_id, credits, currency = posting.source_id, posting.credits, posting.currency
    amount = sum(credit for _, credit in credits)
    _resolve(accounts=accounts, ids=ids, currency=currency, actor=actor, source_id=source_id)
    _check_active(accounts, ids)
    source, destination = accounts[source_id], accounts[credits[0][0]]

    transfer = Transfer(
        kind=posting.kind,
        amount=amount,
        currency=currency,
        source=source,
        destination=destination,
        description=posting.description,
        metadata=posting.metadata or {},
        cause=posting.cause,
        created_by=actor,
        created_at=now,
    )
    if posting.pending:
        transfer.status = TransferStatus.PENDING
        transfer.expires_at = posting.hold_expires_at(now)
    else:
        transfer.status = TransferStatus.POSTED
        transfer.posted_amount = amount
        transfer.posted_at = now

    saved = accounts_snapshot(accounts, ids)
    try:
        if posting.pending:
            source.pending_debits += amount
            destination.pending_credits += amount
            source.version += 1
            destination.version += 1
            entries: list[Entry] = []
        else:
            legs = [Leg(source_id, amount)] + [Leg(account_id, -credit) for account_id, credit in credits]
            entries = _apply_legs(transfer=transfer, legs=legs, accounts=accounts, now=now)
        _check_funds(source)
    except LedgerError:
        accounts_restore(accounts, saved)
        raise
    return transfer, entries


AccountsSnapshot = dict[UUID, tuple[int, int, int, int]]


def accounts_snapshot(accounts: dict[UUID, Account], ids: Iterable[UUID]) -> AccountsSnapshot:
    """The in-memory totals of these locked accounts, to put back with accounts_restore."""
    return {
        account_id: (a.balance, a.pending_debits, a.pending_credits, a.version)
        for account_id in ids
        if (a := accounts.get(account_id)) is not None
    }


def accounts_restore(accounts: dict[UUID, Account], saved: AccountsSnapshot) -> None:
    for account_id, (balance, pending_debits, pending_credits, version) in saved.items():
        account = accounts[account_id]
        account.balance, account.pending_debits = balance, pending_debits
        account.pending_credits, account.version = pending_credits, version
