"""Expected failures of ledger operations, each with a stable code the API shows as a problem."""

from ledgerpay.api.errors import ApiError


class LedgerError(ApiError):
    """A business rule refused the operation; nothing was changed. 422 unless said otherwise."""

    status = 422


def insufficient_funds(account_id, available: int, needed: int) -> LedgerError:
    return LedgerError(
        "insufficient_funds",
        f"Account {account_id} has insufficient available funds for this operation.",
        extra={"account": str(account_id)},
    )


def not_found(what: str, ident) -> LedgerError:
    return LedgerError("not_found", f"No {what} {ident}.", status=404)
