"""Currencies and amounts: the one place that converts between decimal strings and integer minor units.

Amounts are stored and computed as integer minor units (cents, yen, fils) with an
ISO 4217 code. Conversions are exact: Decimal in, int out, never binary floats.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import cache

from iso4217 import Currency

# The largest amount the API accepts, in minor units: far above any real payment, far below bigint.
MAX_AMOUNT_MINOR = 10**15 - 1
_PLAIN_DECIMAL = re.compile(r"\d{1,20}(\.\d{1,20})?", re.ASCII)


class AmountError(ValueError):
    """An amount or currency that is not acceptable; the message says why, for the client."""


@cache
def currency_exponent(code: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency (USD 2, JPY 0, BHD 3)."""
    try:
        currency = Currency(code)
    except ValueError:
        raise AmountError(f"'{code}' is not an ISO 4217 currency code.") from None
    if currency.exponent is None:  # funds, metals, testing codes: not money we move
        raise AmountError(f"'{code}' has no minor unit and cannot be used for payments.")
    return currency.exponent


def validate_currency(code: object) -> str:
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{3}", code, re.ASCII):
        raise AmountError("Currency must be a three-letter uppercase ISO 4217 code, e.g. 'USD'.")
    currency_exponent(code)
    return code


def parse_amount(value: object, currency: str, *, allow_zero: bool = False) -> int:
    """Parse a decimal string or exact JSON number into integer minor units of `currency`.

    Refuses floats, exponents, signs, NaN, more digits than the currency has, zero
    (unless allowed) and absurd sizes.
    """
    exponent = currency_exponent(currency)
    if isinstance(value, (bool, float)):
        raise AmountError('Amount must be a decimal string such as "12.50" or an exact JSON number.')
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError("Amount must be a finite number.")
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise AmountError('Amount must be a decimal string such as "12.50".')
    if text.startswith("-"):
        raise AmountError("Amount must be positive.")
    if not _PLAIN_DECIMAL.fullmatch(text):
        raise AmountError(
            'Amount must be a plain decimal number such as "12.50" (no sign, exponent or spaces).'
        )
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise AmountError("Amount is not a number.") from None
    digits = len(text.split(".")[1]) if "." in text else 0
    if digits > exponent:
        unit = "no decimal places" if exponent == 0 else f"at most {exponent} decimal places"
        raise AmountError(f"{currency} amounts have {unit}.")
    minor = int(amount.scaleb(exponent))
    if minor == 0 and not allow_zero:
        raise AmountError("Amount must be greater than zero.")
    if minor > MAX_AMOUNT_MINOR:
        raise AmountError(f"Amount is too large (at most {format_amount(MAX_AMOUNT_MINOR, currency)}).")
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Integer minor units → decimal string with exactly the currency's digits ("199.99", "500")."""
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}"
