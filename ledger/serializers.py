"""Input and output shapes of the ledger API. Amounts out are decimal strings in the currency's digits."""

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AmountInField, CurrencyField, MoneyOutField, amount_to_minor
from core.money import format_amount

from .models import Entry, Transfer
from .selectors import transfer_entries


class AccountCreateInputSerializer(serializers.Serializer):
    currency = CurrencyField()
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class AccountUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    accepts_external_transfers = serializers.BooleanField(
        required=False,
        help_text="Let other customers push transfers into this account (off by default).",
    )


class AccountOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    accepts_external_transfers = serializers.BooleanField()
    currency = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    balance = MoneyOutField()
    available = MoneyOutField()
    pending_debits = MoneyOutField()
    pending_credits = MoneyOutField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class StatementQuerySerializer(serializers.Serializer):
    created_after = serializers.DateTimeField(required=False, help_text="Entries at or after this instant.")
    created_before = serializers.DateTimeField(required=False, help_text="Entries before this instant.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"created_before": ["Must be later than created_after."]})
        return attrs


class StatementEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    transfer = serializers.UUIDField(source="transfer_id")
    kind = serializers.CharField(source="transfer.kind")
    amount = serializers.SerializerMethodField(
        help_text="Signed, on the account's normal side: + raises the balance."
    )
    balance_after = MoneyOutField()
    description = serializers.CharField(source="transfer.description")
    created_at = serializers.DateTimeField()

    def get_amount(self, entry: Entry) -> str:
        return format_amount(entry.amount * self.context["normal_sign"], entry.currency)


class BalanceQuerySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(help_text="ISO 8601 instant, e.g. 2026-11-22T10:00:00Z.")


class BalanceOutputSerializer(serializers.Serializer):
    account = serializers.UUIDField()
    currency = serializers.CharField()
    as_of = serializers.DateTimeField()
    balance = serializers.CharField()


class TransferCreateInputSerializer(serializers.Serializer):
    source = serializers.UUIDField()  # type: ignore[assignment]  # a declared field, not Field.source
    destination = serializers.UUIDField()
    amount = AmountInField()
    currency = CurrencyField()
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(
        child=serializers.CharField(max_length=500), required=False, default=dict
    )
    pending = serializers.BooleanField(required=False, default=False)
    expires_in = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=30 * 24 * 3600,
        help_text="Seconds until a pending transfer expires (default 7 days).",
    )

    def validate_metadata(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 keys.")
        if any(len(key) > 40 for key in value):
            raise serializers.ValidationError("Keys are at most 40 characters.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("expires_in") is not None and not attrs.get("pending"):
            raise serializers.ValidationError({"expires_in": ["Only a pending transfer expires."]})
        if attrs.get("expires_in") is not None:
            attrs["expires_in"] = timedelta(seconds=attrs["expires_in"])
        return amount_to_minor(attrs, currency=attrs["currency"])


class HoldPostInputSerializer(serializers.Serializer):
    amount = AmountInField(required=False)


class TransferEntryOutputSerializer(serializers.Serializer):
    account = serializers.UUIDField(source="account_id")
    direction = serializers.SerializerMethodField()
    amount = serializers.SerializerMethodField()

    def get_direction(self, entry: Entry) -> str:
        return "debit" if entry.amount > 0 else "credit"

    def get_amount(self, entry: Entry) -> str:
        return format_amount(abs(entry.amount), entry.currency)


class TransferOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    source = serializers.UUIDField(source="source_id")  # type: ignore[assignment]  # a field, not Field.source
    destination = serializers.UUIDField(source="destination_id")
    amount = MoneyOutField()
    posted_amount = MoneyOutField()
    currency = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.DictField(child=serializers.CharField())
    cause = serializers.CharField()
    reverses = serializers.UUIDField(source="reverses_id", allow_null=True)
    created_at = serializers.DateTimeField()
    posted_at = serializers.DateTimeField(allow_null=True)
    finalized_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    entries = serializers.SerializerMethodField()

    @extend_schema_field(TransferEntryOutputSerializer(many=True))
    def get_entries(self, transfer: Transfer) -> object:
        # A service's Posting hands over the entries it has just written (context "entries"): no query.
        entries = self.context.get("entries")
        if entries is None:
            entries = transfer_entries(transfer=transfer)
        return TransferEntryOutputSerializer(entries, many=True).data


class TransferListQuerySerializer(serializers.Serializer):
    account = serializers.UUIDField(required=False)
