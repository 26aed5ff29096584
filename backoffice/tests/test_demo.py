"""The demo data fills every back-office page: payments in every status, a refund, a dead letter."""

import pytest
from django.core.management import call_command

from ledger.checks import ledger_check
from payments.models import DeadLetter, Payment, PaymentStatus, Refund

pytestmark = pytest.mark.django_db(transaction=True)  # reconciliation_demo commits its runs


def test_seed_demo_leaves_payments_in_every_status_a_refund_and_a_dead_letter_once():
    call_command("seed_demo")
    call_command("seed_demo")
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert statuses == set(PaymentStatus.values)
    assert Payment.objects.filter(reference="DEMO-1001", amount_refunded=2_500).exists()
    assert Refund.objects.filter(status="succeeded").count() == 1
    assert DeadLetter.objects.filter(replayed_at__isnull=True).count() == 1
    assert all(result.ok for result in ledger_check())
    # A pending adjustment for a reconciliation discrepancy, waiting for an approver, proposed once.
    from ledger.models import Adjustment

    pending = Adjustment.objects.get(status="proposed")
    assert pending.proposed_by.email == "finance@ledgerpay.local" and pending.cause.startswith("discrepancy:")
