"""A discrepancy resolved through the admin: its page offers the adjustment, the form comes prefilled,
an approver's approval posts it and resolves the discrepancy in one commit, both audited."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from core.models import AuditAction, AuditLog
from ledger.models import Adjustment, AdjustmentStatus
from reconciliation.models import Discrepancy

pytestmark = pytest.mark.django_db(transaction=True)  # reconciliation_demo commits its runs


def _client(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def test_a_discrepancy_is_resolved_by_its_approved_adjustment():
    call_command("seed_demo")
    pending = Adjustment.objects.get(status=AdjustmentStatus.PROPOSED)
    discrepancy = Discrepancy.objects.get(adjustment=pending)
    finance = _client("finance@ledgerpay.local")
    other = (
        Discrepancy.objects.filter(status="open", adjustment__isnull=True)
        .exclude(cls="payout_mismatch")
        .first()
    )
    page = finance.get(reverse("admin:reconciliation_discrepancy_change", args=[other.pk])).content.decode()
    add_url = reverse("admin:ledger_adjustment_add") + f"?discrepancy={other.pk}"
    assert add_url in page
    form = finance.get(add_url).content.decode()
    assert str(other.pk) in form and other.currency in form

    approver = _client("approver@ledgerpay.local")
    action = reverse("admin:ledger_adjustment_actions", kwargs={"pk": pending.pk, "tool": "approve"})
    approver.post(action, {"confirm": "1", "note": "Matches the provider's report"})
    pending.refresh_from_db()
    discrepancy.refresh_from_db()
    assert pending.status == AdjustmentStatus.APPROVED and pending.transfer_id is not None
    assert discrepancy.status == "resolved"
    resolved = AuditLog.objects.get(action=AuditAction.DISCREPANCY_RESOLVED)
    assert resolved.target_id == str(discrepancy.pk) and resolved.after["adjustment"] == str(pending.pk)
    assert AuditLog.objects.filter(action=AuditAction.ADJUSTMENT_APPROVED, target_id=str(pending.pk)).exists()
    call_command("check_ledger")
