"""The worker side: calling the provider for a payment, then recording what it answered.

Each call is safe to repeat. The payment's state is checked first (a redelivered
message for finished work does nothing), the provider is called outside any
transaction with a stable idempotency key (a retry after a crash or an ambiguous
timeout finds the same charge, never a second one), and the answer is applied in
one transaction by .outcomes. Transient failures propagate for Celery to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from django.conf import settings

from ..breaker import breaker_is_open, provider_call
from ..models import CaptureMethod, Payment, PaymentStatus, Refund, RefundStatus
from ..providers import (
    ChargeRequest,
    PaymentProvider,
    ProviderCharge,
    ProviderError,
    ProviderRefund,
    ProviderRequestError,
    get_provider,
)
from .outcomes import payment_apply_charge, payment_fail, payment_request_refused, refund_apply
from .timeline import charge_summary, event_record, refund_summary

logger = logging.getLogger(__name__)

_Answer = TypeVar("_Answer", ProviderCharge, ProviderRefund)


def provider_route(payment: Payment) -> str:
    """The provider of this payment, chosen once: the primary, or the secondary while the primary's
    breaker is open. Only an authorization never sent anywhere may be routed."""
    if payment.provider:
        return payment.provider
    chosen = settings.PAYMENTS_PRIMARY_PROVIDER
    secondary = settings.PAYMENTS_SECONDARY_PROVIDER
    if secondary and breaker_is_open(chosen) and not breaker_is_open(secondary):
        chosen = secondary
    # Conditional update: if a concurrent delivery chose first, keep its choice.
    Payment.objects.filter(pk=payment.pk, provider="").update(provider=chosen)
    payment.refresh_from_db(fields=["provider"])
    return payment.provider


def _call(
    payment: Payment,
    operation: str,
    call: Callable[[PaymentProvider], _Answer],
    *,
    message_id: str,
    request: dict,
) -> _Answer:
    event_record(
        payment=payment,
        type="provider_request",
        causation_id=message_id,
        request_id=message_id,
        data={"operation": operation, "provider": payment.provider, **request},
    )
    try:
        return provider_call(payment.provider, lambda: call(get_provider(payment.provider)))
    except ProviderRequestError:
        raise
    except ProviderError as exc:
        event_record(
            payment=payment,
            type="provider_error",
            causation_id=message_id,
            request_id=message_id,
            data={
                "operation": operation,
                "code": exc.code,
                "message": exc.message,
                "transient": exc.transient,
            },
        )
        raise


def _provider_operation(
    payment: Payment,
    operation: str,
    call: Callable[[PaymentProvider], _Answer],
    *,
    message_id: str,
    request: dict,
    summary: Callable[[_Answer], dict],
    on_answer: Callable[[_Answer], object],
    on_refused: Callable[[ProviderRequestError], object],
) -> None:
    """Call the provider, put its answer on the timeline and apply it; a refusal goes to on_refused."""
    try:
        answer = _call(payment, operation, call, message_id=message_id, request=request)
    except ProviderRequestError as exc:
        on_refused(exc)
        return
    event_record(
        payment=payment,
        type="provider_response",
        causation_id=message_id,
        request_id=message_id,
        data={"operation": operation, **summary(answer)},
    )
    on_answer(answer)


def _charge_operation(
    payment: Payment,
    operation: str,
    call: Callable[[PaymentProvider], ProviderCharge],
    *,
    message_id: str,
    request: dict,
    on_refused: Callable[[ProviderRequestError], object],
) -> None:
    """A call about the payment's charge, whose answer moves the payment (forward only)."""
    _provider_operation(
        payment,
        operation,
        call,
        message_id=message_id,
        request=request,
        summary=charge_summary,
        on_answer=lambda charge: payment_apply_charge(
            payment_id=payment.pk, charge=charge, causation_id=message_id, source=operation
        ),
        on_refused=on_refused,
    )


def payment_authorize(*, payment_id: UUID | str, message_id: str) -> None:
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentStatus.PROCESSING or payment.provider_charge_id:
        return  # decided, or authorized and waiting for the provider's webhook
    provider_route(payment)
    request = ChargeRequest(
        idempotency_key=payment.provider_idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        payment_method=payment.payment_method,
        capture=payment.capture_method == CaptureMethod.AUTOMATIC,
        reference=str(payment.pk),
        metadata={str(k): str(v) for k, v in payment.metadata.items()},
    )
    _charge_operation(
        payment,
        "authorize",
        lambda p: p.authorize(request),
        message_id=message_id,
        request={
            "amount": payment.amount,
            "currency": payment.currency,
            "payment_method": payment.payment_method,
            "capture": request.capture,
            "idempotency_key": request.idempotency_key,
        },
        on_refused=lambda exc: payment_fail(
            payment_id=payment.pk, code=exc.code, message=exc.message, causation_id=message_id
        ),
    )


def payment_capture(*, payment_id: UUID | str, message_id: str) -> None:
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentStatus.REQUIRES_CAPTURE or payment.capture_requested_amount is None:
        return
    amount = payment.capture_requested_amount
    _charge_operation(
        payment,
        "capture",
        lambda p: p.capture(
            charge_id=payment.provider_charge_id,
            amount=amount,
            idempotency_key=f"cap_{payment.pk.hex}_{amount}",
        ),
        message_id=message_id,
        request={"charge": payment.provider_charge_id, "amount": amount},
        on_refused=lambda exc: _request_refused(payment, "capture", exc, message_id),
    )


def payment_cancel(*, payment_id: UUID | str, message_id: str) -> None:
    payment = Payment.objects.get(pk=payment_id)
    if payment.status != PaymentStatus.REQUIRES_CAPTURE or not payment.cancel_requested:
        return
    _charge_operation(
        payment,
        "cancel",
        lambda p: p.cancel(charge_id=payment.provider_charge_id, idempotency_key=f"can_{payment.pk.hex}"),
        message_id=message_id,
        request={"charge": payment.provider_charge_id},
        on_refused=lambda exc: _request_refused(payment, "cancel", exc, message_id),
    )


def _request_refused(payment: Payment, operation: str, exc: ProviderRequestError, message_id: str) -> None:
    """The provider refused a capture or cancel: let the client decide again (applied by .outcomes)."""
    payment_request_refused(
        payment_id=payment.pk,
        operation=operation,
        code=exc.code,
        message=exc.message,
        causation_id=message_id,
    )


def refund_execute(*, payment_id: UUID | str, refund_id: UUID | str, message_id: str) -> None:
    """Ask the provider to refund, or, when it already has this refund (a webhook went missing),
    ask what became of it."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id, payment_id=payment_id)
    if refund.status != RefundStatus.PENDING:
        return
    payment = refund.payment
    if refund.provider_refund_id:
        operation = "retrieve_refund"
        request: dict[str, object] = {
            "refund_id": str(refund.pk),
            "provider_refund": refund.provider_refund_id,
        }

        def call(provider: PaymentProvider) -> ProviderRefund:
            return provider.retrieve_refund(refund_id=refund.provider_refund_id)
    else:
        operation, request = "refund", {"refund_id": str(refund.pk), "amount": refund.amount}

        def call(provider: PaymentProvider) -> ProviderRefund:
            return provider.refund(
                charge_id=payment.provider_charge_id,
                amount=refund.amount,
                idempotency_key=refund.provider_idempotency_key,
            )

    _provider_operation(
        payment,
        operation,
        call,
        message_id=message_id,
        request=request,
        summary=refund_summary,
        on_answer=lambda answer: refund_apply(
            refund_id=refund.pk, provider_refund=answer, causation_id=message_id, source=operation
        ),
        on_refused=lambda exc: refund_apply(
            refund_id=refund.pk,
            provider_refund=None,
            causation_id=message_id,
            source=operation,
            failure=(exc.code, exc.message),
        ),
    )
