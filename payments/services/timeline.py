"""The payment timeline: one append-only PaymentEvent per state change, provider call, webhook and retry."""

from __future__ import annotations

import re

from django_guid import get_guid

from ..models import Payment, PaymentEvent
from ..providers.base import ProviderCharge, ProviderRefund

_SECRET_KEYS = re.compile(r"(card|number|cvc|cvv|secret|api_key|authorization|password|token)", re.IGNORECASE)


def redact(data: object) -> object:
    """Drop values whose key names card data or secrets, recursively."""
    if isinstance(data, dict):
        return {k: ("[redacted]" if _SECRET_KEYS.search(str(k)) else redact(v)) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data


def event_record(
    *, payment: Payment, type: str, data: dict | None = None, causation_id: str = "", request_id: str = ""
) -> PaymentEvent:
    return PaymentEvent.objects.create(
        payment=payment,
        type=type,
        data=redact(data or {}),
        request_id=request_id or get_guid() or "",
        correlation_id=payment.correlation_id,
        causation_id=str(causation_id or ""),
    )


def charge_summary(charge: ProviderCharge) -> dict:
    return {
        "charge": charge.id,
        "status": charge.status,
        "amount": charge.amount,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
    }


def refund_summary(refund: ProviderRefund) -> dict:
    return {
        "refund": refund.id,
        "charge": refund.charge_id,
        "status": refund.status,
        "amount": refund.amount,
        "failure_code": refund.failure_code,
    }
