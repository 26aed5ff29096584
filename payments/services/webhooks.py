"""Signed provider webhooks: verified, checked against the payment, recorded once, applied forward only.

A valid signature proves who sent the webhook, not that it describes our payment: its charge or refund
must belong to the payment, in the payment's currency, for amounts within what was authorized and
captured. A mismatch is recorded on the timeline, logged and refused (422), and changes nothing.
Only the unique (provider, event_id) conflict is a duplicate; any other failure to apply is a 503 the
provider retries, recorded and logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from uuid import UUID

import psycopg.errors
from django.db import IntegrityError, transaction

from core.errors import ApiError

from ..models import Payment, ProviderWebhook, Refund
from ..providers import (
    ProviderCharge,
    ProviderRefund,
    WebhookEvent,
    WebhookVerificationError,
    get_provider,
    provider_config,
)
from .outcomes import payment_apply_charge, refund_apply
from .timeline import event_record

logger = logging.getLogger(__name__)

ONCE_CONSTRAINT = "payments_webhook_once"  # ProviderWebhook's unique (provider, event_id)
RETRY_AFTER_SECONDS = 30


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
    """Verify, check, record and apply one webhook. Returns what was done, for the response and the logs."""
    try:
        provider_config(provider)
    except Exception as exc:
        raise ApiError("not_found", f"No payment provider {provider!r}.", status=404) from exc
    try:
        event = get_provider(provider).parse_webhook(payload=payload, headers=headers)
    except WebhookVerificationError as exc:
        raise ApiError(f"webhook_{exc.code}", exc.message, status=400) from exc
    payment = _payment_for(provider, event)
    if payment is not None:
        mismatch = _mismatch(payment, event)
        if mismatch is not None:
            _refuse_mismatch(provider=provider, payment=payment, event=event, reason=mismatch)
    try:
        with transaction.atomic():
            return _apply(provider, event, payload)
    except IntegrityError as exc:
        if _is_duplicate_event(exc):
            # The same event is being or was applied by a concurrent delivery: nothing more to do.
            return "duplicate"
        failure: Exception = exc
    except ApiError:
        raise
    except Exception as exc:
        failure = exc
    _record_failure(provider=provider, payment=payment, event=event, exc=failure)
    raise ApiError(
        "webhook_not_applied",
        "The webhook could not be applied; it was recorded and will be applied when redelivered.",
        status=503,
        extra={"event_id": event.id},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    ) from failure


def _is_duplicate_event(exc: IntegrityError) -> bool:
    cause = exc.__cause__
    return (
        isinstance(cause, psycopg.errors.UniqueViolation)
        and getattr(cause.diag, "constraint_name", None) == ONCE_CONSTRAINT
    )


def _record_failure(*, provider: str, payment: Payment | None, event: WebhookEvent, exc: Exception) -> None:
    logger.error(
        "webhook_apply_failed provider=%s event=%s payment=%s: %s: %s",
        provider,
        event.id,
        payment.pk if payment is not None else None,
        type(exc).__name__,
        exc,
        exc_info=exc,
    )
    if payment is None:
        return
    try:
        event_record(
            payment=payment,
            type="webhook_apply_failed",
            causation_id=event.id,
            data={
                "provider": provider,
                "event_type": event.type,
                "error": f"{type(exc).__name__}: {exc}"[:500],
            },
        )
    except Exception:  # the database itself may be what failed: the log line above is the record then
        logger.exception("could not record webhook_apply_failed for payment %s", payment.pk)


def _charge_mismatch(payment: Payment, charge: ProviderCharge) -> str | None:
    if payment.provider_charge_id and payment.provider_charge_id != charge.id:
        return f"charge {charge.id} is not the payment's charge {payment.provider_charge_id}"
    if charge.reference and charge.reference != str(payment.pk):
        return f"charge {charge.id} references {charge.reference}, not this payment"
    if charge.currency != payment.currency:
        return f"charge currency {charge.currency} is not the payment's {payment.currency}"
    if charge.amount != payment.amount:
        return f"charge amount {charge.amount} is not the payment's {payment.amount}"
    if not 0 <= charge.amount_captured <= charge.amount:
        return f"captured {charge.amount_captured} is outside 0..{charge.amount}"
    if not 0 <= charge.amount_refunded <= charge.amount_captured:
        return f"refunded {charge.amount_refunded} is outside 0..{charge.amount_captured}"
    return None


def _refund_mismatch(payment: Payment, refund: ProviderRefund) -> str | None:
    if payment.provider_charge_id and refund.charge_id != payment.provider_charge_id:
        return f"refund {refund.id} is for charge {refund.charge_id}, not {payment.provider_charge_id}"
    if refund.currency != payment.currency:
        return f"refund currency {refund.currency} is not the payment's {payment.currency}"
    if not 0 < refund.amount <= payment.amount_captured:
        return f"refund amount {refund.amount} is outside 1..{payment.amount_captured} captured"
    ours = Refund.objects.filter(provider_refund_id=refund.id).exclude(provider_refund_id="").first()
    if ours is not None and ours.payment_id != payment.pk:
        return f"refund {refund.id} belongs to another payment"
    if ours is not None and ours.amount != refund.amount:
        return f"refund amount {refund.amount} is not the requested {ours.amount}"
    return None


def _mismatch(payment: Payment, event: WebhookEvent) -> str | None:
    """Why the event's content cannot describe this payment, or None when it can."""
    if event.charge is not None:
        return _charge_mismatch(payment, event.charge)
    if event.refund is not None:
        return _refund_mismatch(payment, event.refund)
    return None


def _refuse_mismatch(*, provider: str, payment: Payment, event: WebhookEvent, reason: str) -> None:
    logger.warning(
        "webhook_payload_mismatch provider=%s event=%s payment=%s: %s", provider, event.id, payment.pk, reason
    )
    event_record(
        payment=payment,
        type="webhook_payload_mismatch",
        causation_id=event.id,
        data={"provider": provider, "event_id": event.id, "event_type": event.type, "reason": reason},
    )
    raise ApiError(
        "webhook_payload_mismatch",
        f"The webhook does not match payment {payment.pk}: {reason}.",
        status=422,
        extra={"event_id": event.id},
    )


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
