"""Accounts: customer accounts, the platform's system accounts (created on demand), account status."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from django.db import IntegrityError, transaction

from accounts.models import User

from .. import locks
from ..errors import LedgerError, not_found
from ..models import Account, AccountKind, AccountStatus


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


def account_create(*, owner: User | None, currency: str, name: str = "") -> Account:
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
