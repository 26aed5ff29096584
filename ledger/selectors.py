"""Every read of the ledger: what a user may see, statements, balances as of an instant."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet, Sum

from accounts.models import User

from .errors import not_found
from .models import Account, Entry, Transfer


def account_list(*, user: User) -> QuerySet[Account]:
    return Account.objects.filter(owner=user).order_by("-created_at", "pk")


def account_get(*, user: User, account_id: UUID) -> Account:
    """One of the user's accounts; another user's account is simply not found."""
    account = Account.objects.filter(pk=account_id, owner=user).first()
    if account is None:
        raise not_found("account", account_id)
    return account


def account_entries(
    *, account: Account, created_after: datetime | None = None, created_before: datetime | None = None
) -> QuerySet[Entry]:
    """The statement: entries newest first, with their transfer."""
    entries = Entry.objects.filter(account=account).select_related("transfer").order_by("-id")
    if created_after is not None:
        entries = entries.filter(created_at__gte=created_after)
    if created_before is not None:
        entries = entries.filter(created_at__lt=created_before)
    return entries


def account_balance_as_of(*, account: Account, as_of: datetime) -> int:
    """The account's normal-side balance at `as_of`, summed from its entries."""
    total = Entry.objects.filter(account=account, created_at__lte=as_of).aggregate(total=Sum("amount"))[
        "total"
    ]
    return (total or 0) * account.normal_sign


_ENTRIES = Prefetch("entries", queryset=Entry.objects.order_by("id"))


def transfer_list(*, user: User, account_id: UUID | None = None) -> QuerySet[Transfer]:
    """Transfers the user takes part in: out of or into one of its accounts. Filtering by an account that
    is not the user's is not found, like every other reach for another user's object."""
    transfers = Transfer.objects.filter(Q(source__owner=user) | Q(destination__owner=user))
    if account_id is not None:
        account_get(user=user, account_id=account_id)
        transfers = transfers.filter(Q(source_id=account_id) | Q(destination_id=account_id))
    return transfers.prefetch_related(_ENTRIES).order_by("-created_at", "pk")


def transfer_get(*, user: User, transfer_id: UUID) -> Transfer:
    transfer = (
        Transfer.objects.filter(pk=transfer_id)
        .prefetch_related(_ENTRIES)
        .filter(Q(source__owner=user) | Q(destination__owner=user))
        .first()
    )
    if transfer is None:
        raise not_found("transfer", transfer_id)
    return transfer


def transfer_entries(*, transfer: Transfer) -> list[Entry]:
    return list(transfer.entries.all())
