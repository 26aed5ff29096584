"""Demo data for the back office: payments in every status with their timelines, a refund, a dead
letter, a pending adjustment for a discrepancy, so that a newcomer logging in as the demo finance user finds every page filled.

Everything goes through the payments services and their one outcome door, with the provider's
answers written as the provider would send them (charge ids `ch_demo_*`); the authorize task the
outbox carries for each then finds the payment decided and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApiError
from ledger.models import Account, Adjustment, AdjustmentStatus
from payments.models import CaptureMethod, DeadLetter, Payment
from payments.providers.base import ChargeStatus, ProviderCharge, ProviderRefund
from payments.services import (
    dead_letter_record,
    payment_apply_charge,
    payment_create,
    refund_apply,
    refund_create,
)
from payments.task_names import PaymentTask

from .services import staff_adjustment_propose

DEMO_REFERENCE_PREFIX = "DEMO-"


@dataclass(frozen=True)
class DemoPayment:
    reference: str
    amount: int
    charge: ChargeStatus | None  # None: left processing, the provider has not answered yet
    capture_method: str = CaptureMethod.AUTOMATIC
    failure_code: str | None = None


DEMO_PAYMENTS = (
    DemoPayment("DEMO-1001", 12_500, "succeeded"),
    DemoPayment("DEMO-1002", 4_999, "succeeded"),
    DemoPayment("DEMO-1003", 89_000, "succeeded"),
    DemoPayment("DEMO-1004", 2_000, "failed", failure_code="card_declined"),
    DemoPayment("DEMO-1005", 15_000, "failed", failure_code="insufficient_funds"),
    DemoPayment("DEMO-1006", 30_000, "requires_capture", capture_method=CaptureMethod.MANUAL),
    DemoPayment("DEMO-1007", 7_500, "canceled", capture_method=CaptureMethod.MANUAL),
    DemoPayment("DEMO-1008", 1_000, "pending"),  # async: charge known, the webhook not yet in
)


def _charge(payment: Payment, status: ChargeStatus, failure_code: str | None) -> ProviderCharge:
    captured = payment.amount if status == "succeeded" else 0
    return ProviderCharge(
        id=f"ch_demo_{payment.pk.hex[:16]}",
        status=status,
        amount=payment.amount,
        amount_captured=captured,
        amount_refunded=0,
        currency=payment.currency,
        failure_code=failure_code,
        failure_message="Demo: the card was refused." if failure_code else None,
        created=timezone.now(),
    )


@transaction.atomic
def demo_payments_seed(*, client: User, account: Account) -> list[Payment]:
    """The demo payments, once (again: nothing), on the client's account."""
    if Payment.objects.filter(reference__startswith=DEMO_REFERENCE_PREFIX).exists():
        return []
    payments = []
    for demo in DEMO_PAYMENTS:
        payment = payment_create(
            user=client,
            account_id=account.pk,
            amount=demo.amount,
            currency=account.currency,
            payment_method="pm_card_visa",
            capture_method=demo.capture_method,
            reference=demo.reference,
            description=f"Demo order {demo.reference}",
        )
        if demo.charge is not None:
            payment_apply_charge(
                payment_id=payment.pk,
                charge=_charge(payment, demo.charge, demo.failure_code),
                causation_id="demo",
                source="worker",
            )
        payment.refresh_from_db()
        payments.append(payment)
    # A refund of part of the first payment, confirmed by the provider.
    refund = refund_create(user=client, payment_id=payments[0].pk, amount=2_500)
    refund_apply(
        refund_id=refund.pk,
        provider_refund=ProviderRefund(
            id=f"re_demo_{refund.pk.hex[:16]}",
            charge_id=payments[0].provider_charge_id,
            amount=refund.amount,
            currency=refund.currency,
            status="succeeded",
            failure_code=None,
            failure_message=None,
            created=datetime.now(tz=UTC),
        ),
        causation_id="demo",
        source="webhook",
    )
    # The capture of the manual payment exhausted its retries: a dead letter for operators.
    held = payments[5]
    if not DeadLetter.objects.filter(kwargs__payment_id=str(held.pk)).exists():
        dead_letter_record(
            task=PaymentTask.CAPTURE,
            kwargs={"payment_id": str(held.pk)},
            message_id=f"demo-{held.pk.hex[:12]}",
            error="ProviderUnavailable: 503 from the provider (demo)",
            retries=6,
        )
    return payments


def demo_adjustment_propose(*, finance: User) -> Adjustment | None:
    """A pending adjustment for the approver to decide: the demo finance user proposes the one that
    resolves the first open discrepancy (reconciliation's demo day), once."""
    if Adjustment.objects.filter(status=AdjustmentStatus.PROPOSED).exists() or not apps.is_installed(
        "reconciliation"
    ):
        return None
    discrepancy = (
        apps.get_model("reconciliation.Discrepancy")
        .objects.filter(status="open", adjustment__isnull=True)
        .order_by("created_at", "pk")
        .first()
    )
    if discrepancy is None:
        return None
    from reconciliation.services.discrepancies import discrepancy_adjustment_default

    try:
        debit, credit, amount = discrepancy_adjustment_default(discrepancy)
    except ApiError:
        return None
    return staff_adjustment_propose(
        actor=finance,
        ip=None,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        currency=discrepancy.currency,
        reason=f"Demo: resolves the {discrepancy.cls} discrepancy {discrepancy.key}",
        discrepancy_id=discrepancy.pk,
    )
