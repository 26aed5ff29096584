"""Expected failures of ledger operations, each with a stable code the API shows as a problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import ApiError

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from .models import Adjustment


class LedgerError(ApiError):
    """A business rule refused the operation; nothing was changed. 422 unless said otherwise."""

    status = 422


def insufficient_funds(account_id: object) -> LedgerError:
    return LedgerError(
        "insufficient_funds",
        f"Account {account_id} has insufficient available funds for this operation.",
        extra={"account": str(account_id)},
    )


def currency_mismatch(account_id: object, *, held: str, requested: str) -> LedgerError:
    return LedgerError(
        "currency_mismatch",
        f"Account {account_id} holds {held}, not {requested}.",
        extra={"account": str(account_id)},
    )


def account_inactive(account_id: object, status: str) -> LedgerError:
    return LedgerError(
        "account_inactive", f"Account {account_id} is {status}.", extra={"account": str(account_id)}
    )


def not_found(what: str, ident: object) -> LedgerError:
    return LedgerError("not_found", f"No {what} {ident}.", status=404)


def self_approval() -> LedgerError:
    return LedgerError(
        "self_approval", "An adjustment must be decided by someone other than its proposer.", status=403
    )


def not_an_approver(user: AbstractBaseUser) -> LedgerError:
    return LedgerError("not_an_approver", f"User {user.pk} is not in the finance_approver group.", status=403)


def adjustment_already_decided(adjustment: Adjustment) -> LedgerError:
    return LedgerError(
        "adjustment_already_decided",
        f"Adjustment {adjustment.pk} is already {adjustment.status}.",
        status=409,
        extra={"adjustment": str(adjustment.pk), "status": adjustment.status},
    )
