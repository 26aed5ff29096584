"""Expected failures of payment operations, each with a stable code the API shows as a problem.

Refusals about the client's ledger account (currency_mismatch, account_inactive,
insufficient_funds) come from the ledger as ledger.errors.LedgerError and pass through unchanged.
"""

from core.errors import ApiError


class PaymentError(ApiError):
    """A payment rule refused the operation; nothing was changed. 422 unless said otherwise."""

    status = 422


def invalid_state(detail: str) -> PaymentError:
    return PaymentError("invalid_state", detail)


def amount_exceeds_authorized(authorized: int) -> PaymentError:
    return PaymentError("amount_exceeds_authorized", f"Cannot capture more than the {authorized} authorized.")


def amount_exceeds_refundable(*, payment_id: object, refundable: int) -> PaymentError:
    refundable = max(refundable, 0)
    return PaymentError(
        "amount_exceeds_refundable",
        f"At most {refundable} can still be refunded on payment {payment_id}.",
        extra={"refundable": refundable},
    )
