"""DRF fields for money: amounts as decimal strings with the currency's exact digits."""

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .money import AmountError, format_amount, parse_amount, validate_currency


class CurrencyField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("help_text", "ISO 4217 currency code, e.g. USD.")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return validate_currency(value)
        except AmountError as exc:
            raise serializers.ValidationError(str(exc)) from exc


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.50"})
class AmountInField(serializers.Field):
    """Input only: a decimal string or exact JSON number, kept raw until the currency is known.

    The serializer's `validate` turns it into minor units with `amount_to_minor` (the digits
    allowed depend on the currency, a sibling field or the account's).
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs["write_only"] = True
        kwargs.setdefault(
            "help_text", 'Decimal string with at most the currency\'s minor digits, e.g. "12.50".'
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str | int | Decimal:
        if isinstance(data, bool) or not isinstance(data, (str, int, Decimal)):
            raise serializers.ValidationError('Amount must be a decimal string such as "12.50".')
        if isinstance(data, str) and len(data) > 40:
            raise serializers.ValidationError("Amount is too long.")
        return data


def amount_to_minor(attrs: dict, *, currency: str, field: str = "amount") -> dict:
    """Replace the raw attrs[field] with integer minor units of `currency`, or raise a field error."""
    raw = attrs.get(field)
    if raw is None:
        return attrs
    try:
        attrs[field] = parse_amount(raw, currency)
    except AmountError as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from exc
    return attrs


@extend_schema_field(OpenApiTypes.STR)
class MoneyOutField(serializers.Field):
    """Output only: an integer minor-unit attribute formatted with the object's currency."""

    def __init__(self, *, currency_attr: str = "currency", **kwargs: Any) -> None:
        self.currency_attr = currency_attr
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance: object) -> str | None:
        minor = super().get_attribute(instance)
        if minor is None:
            return None
        if isinstance(instance, dict):
            currency = instance[self.currency_attr]
        else:
            currency = getattr(instance, self.currency_attr)
        return format_amount(minor, currency)

    def to_representation(self, value: str) -> str:
        return value
