"""Input and output shapes of the ledger API. Amounts out are decimal strings in the currency's digits."""

from datetime import datetime, timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import AmountInField, CurrencyField, MoneyOutField, amount_to_minor
from core.money import format_amount

from .models import Entry, Transfer
from .selectors import transfer_entries
from .services.batches import MAX_BATCH_ITEMS, BatchResult


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


class TransferBatchItemInputSerializer(TransferCreateInputSerializer):
    linked = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Chain this transfer to the next: they succeed or fail together.",
    )


class TransferBatchInputSerializer(serializers.Serializer):
    transfers = serializers.ListField(
        child=TransferBatchItemInputSerializer(),
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        help_text=f"1 to {MAX_BATCH_ITEMS} transfers, each the body of POST /api/v1/transfers plus `linked`.",
    )


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
        return TransferEntryOutputSerializer(transfer_entries(transfer=transfer), many=True).data


class TransferListQuerySerializer(serializers.Serializer):
    account = serializers.UUIDField(required=False)


class TransferBatchResultOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "failed"])
    transfer = TransferOutputSerializer(
        required=False, help_text="When created: as POST /api/v1/transfers returns it."
    )
    code = serializers.CharField(
        required=False,
        help_text="When failed: the problem code, or linked_event_failed for its chain's others.",
    )
    detail = serializers.CharField(required=False)


class TransferBatchOutputSerializer(serializers.Serializer):
    results = TransferBatchResultOutputSerializer(many=True)


_DATETIME = serializers.DateTimeField()


def _instant(value: datetime | None) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


def transfer_output(transfer: Transfer, entries: list[Entry] | None = None) -> dict[str, Any]:
    """TransferOutputSerializer(transfer).data, field for field, without building a serializer per call.
    `entries`: what the posting service has just written (a Posting's), so that none is queried again.

    The write endpoints answer with it (a batch renders up to 1,000 transfers); ledger/tests check it
    against the serializer, which stays the schema's and the read endpoints' definition.
    """
    currency = transfer.currency
    return {
        "id": str(transfer.id),
        "kind": str(transfer.kind),
        "status": str(transfer.status),
        "source": str(transfer.source_id),
        "destination": str(transfer.destination_id),
        "amount": format_amount(transfer.amount, currency),
        "posted_amount": None
        if transfer.posted_amount is None
        else format_amount(transfer.posted_amount, currency),
        "currency": currency,
        "description": transfer.description,
        "metadata": {str(key): str(value) for key, value in transfer.metadata.items()},
        "cause": transfer.cause,
        "reverses": None if transfer.reverses_id is None else str(transfer.reverses_id),
        "created_at": _instant(transfer.created_at),
        "posted_at": _instant(transfer.posted_at),
        "finalized_at": _instant(transfer.finalized_at),
        "expires_at": _instant(transfer.expires_at),
        "entries": [
            {
                "account": str(entry.account_id),
                "direction": "debit" if entry.amount > 0 else "credit",
                "amount": format_amount(abs(entry.amount), entry.currency),
            }
            for entry in (transfer_entries(transfer=transfer) if entries is None else entries)
        ],
    }


def transfer_batch_output(results: list[BatchResult]) -> dict:
    """The batch's answer: one result per item, in order (a created transfer as POST /transfers shows it)."""
    out = []
    for result in results:
        if result.transfer is not None:
            out.append(
                {
                    "index": result.index,
                    "status": "created",
                    "transfer": transfer_output(result.transfer, result.entries),
                }
            )
        else:
            out.append(
                {"index": result.index, "status": "failed", "code": result.code, "detail": result.detail}
            )
    return {"results": out}
