"""Signed provider webhooks: verified, recorded once, applied forward only."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from uuid import UUID

from django.db import IntegrityError, transaction

from core.errors import ApiError

from ..models import Payment, ProviderWebhook, Refund
from ..providers import WebhookEvent, WebhookVerificationError, get_provider, provider_config
from .outcomes import payment_apply_charge, refund_apply
from .timeline import event_record

logger = logging.getLogger(__name__)


def _payment_for(provider: str, event: WebhookEvent) -> Payment | None:
    charge_id = event.charge.id if event.charge else event.refund.charge_id if event.refund else None
    if charge_id:
        payment = Payment.objects.filter(provider=provider, provider_charge_id=charge_id).first()
        if payment is not None:
            return payment
    if event.charge and event.charge.reference:
        # The charge may be reported before its authorization answer was recorded (an ambiguous
        # timeout): we sent our payment id as the reference.
        try:
            return Payment.objects.filter(pk=UUID(event.charge.reference), provider=provider).first()
        except ValueError:
            return None
    return None


def webhook_receive(*, provider: str, payload: bytes, headers: Mapping[str, str]) -> str:
    """Verify, record and apply one webhook. Returns what was done, for the response and the logs."""
    try:
        provider_config(provider)
    except Exception as exc:
        raise ApiError("not_found", f"No payment provider {provider!r}.", status=404) from exc
    try:
        event = get_provider(provider).parse_webhook(payload=payload, headers=headers)
    except WebhookVerificationError as exc:
        raise ApiError(f"webhook_{exc.code}", exc.message, status=400) from exc
    try:
        with transaction.atomic():
            return _apply(provider, event, payload)
    except IntegrityError:
        # The same event is being or was applied by a concurrent delivery: nothing more to do.
        return "duplicate"


def _apply(provider: str, event: WebhookEvent, payload: bytes) -> str:
    if ProviderWebhook.objects.filter(provider=provider, event_id=event.id).exists():
        return "duplicate"
    payment = _payment_for(provider, event)
    record = ProviderWebhook.objects.create(
        provider=provider, event_id=event.id, type=event.type, payment=payment, payload=json.loads(payload)
    )
    if payment is None:
        record.outcome = "unknown_payment"
    else:
        event_record(
            payment=payment,
            type="webhook_received",
            causation_id=event.id,
            data={"provider": provider, "event_id": event.id, "event_type": event.type},
        )
        if event.charge is not None:
            moved = payment_apply_charge(
                payment_id=payment.pk,
                charge=event.charge,
                causation_id=event.id,
                source=f"webhook:{event.type}",
            )
            record.outcome = "applied" if moved else "no_change"
        elif event.refund is not None:
            refund = Refund.objects.filter(payment=payment, provider_refund_id=event.refund.id).first()
            if refund is None:
                record.outcome = "unknown_refund"
            else:
                applied = refund_apply(
                    refund_id=refund.pk,
                    provider_refund=event.refund,
                    causation_id=event.id,
                    source=f"webhook:{event.type}",
                )
                record.outcome = "applied" if applied.status != refund.status else "no_change"
        else:
            record.outcome = "ignored"
    record.save(update_fields=["outcome"])
    return record.outcome
