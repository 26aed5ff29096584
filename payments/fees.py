"""The platform's fee on a captured payment: basis points plus a fixed part per currency, in minor units."""

from django.conf import settings


def capture_fee(*, amount: int, currency: str) -> int:
    """Fee in minor units, rounded half up, never more than the amount itself."""
    proportional = (amount * settings.PAYMENTS_FEE_BPS + 5_000) // 10_000
    fixed = settings.PAYMENTS_FEE_FIXED.get(currency, 0)
    return min(amount, proportional + fixed)
