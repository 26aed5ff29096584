"""Input and output shapes of the payments API."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AmountInField, CurrencyField, MoneyOutField, amount_to_minor

from .models import CaptureMethod, Payment, PaymentStatus


class PaymentCreateInputSerializer(serializers.Serializer):
    account = serializers.UUIDField(help_text="Your account credited when the payment is captured.")
    amount = AmountInField()
    currency = CurrencyField()
    payment_method = serializers.CharField(
        max_length=100, help_text="A payment method token, e.g. pm_card_visa."
    )
    capture_method = serializers.ChoiceField(choices=CaptureMethod.choices, default=CaptureMethod.AUTOMATIC)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(
        child=serializers.CharField(max_length=500), required=False, default=dict
    )

    def validate_metadata(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20 or any(len(key) > 40 for key in value):
            raise serializers.ValidationError("At most 20 keys of at most 40 characters.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return amount_to_minor(attrs, currency=attrs["currency"])


class OptionalAmountInputSerializer(serializers.Serializer):
    amount = AmountInField(required=False, help_text="Defaults to the whole remaining amount.")


class RefundOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    payment = serializers.UUIDField(source="payment_id")
    amount = MoneyOutField()
    currency = serializers.CharField()
    status = serializers.CharField()
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaymentOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    account = serializers.UUIDField(source="account_id")
    amount = MoneyOutField()
    currency = serializers.CharField()
    amount_captured = MoneyOutField()
    amount_refunded = MoneyOutField()
    fee = MoneyOutField()
    payment_method = serializers.CharField()
    capture_method = serializers.CharField()
    description = serializers.CharField()
    reference = serializers.CharField()
    metadata = serializers.DictField(child=serializers.CharField())
    failure_code = serializers.CharField()
    failure_message = serializers.CharField()
    provider = serializers.CharField()
    refunds = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(RefundOutputSerializer(many=True))
    def get_refunds(self, payment: Payment) -> object:
        return RefundOutputSerializer(payment.refunds.all(), many=True).data


class PaymentEventOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    data = serializers.DictField()  # type: ignore[assignment]  # a declared field, not Serializer.data
    request_id = serializers.CharField()
    correlation_id = serializers.CharField()
    causation_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class PaymentListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)


def optional_amount(serializer: OptionalAmountInputSerializer, currency: str) -> int | None:
    return amount_to_minor(dict(serializer.validated_data), currency=currency).get("amount")
