"""Four eyes in the admin: finance proposes, a different finance_approver approves or rejects with the
buttons on the proposal's page (POST, CSRF), each decision audited; nobody decides their own."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditAction, AuditLog
from ledger.models import Adjustment, AdjustmentStatus, Transfer, TransferKind
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts():
    debit, credit = AccountFactory(currency="EUR"), AccountFactory(currency="EUR")
    fund(debit, 10_000)
    return debit, credit


def _propose(client: Client, debit, credit, amount: str = "12.34", **extra: str):
    return client.post(
        reverse("admin:ledger_adjustment_add"),
        {
            "debit_account": str(debit.pk),
            "credit_account": str(credit.pk),
            "amount_text": amount,
            "currency": "EUR",
            "reason": "Correct a fee booked twice",
            **extra,
        },
        REMOTE_ADDR="192.0.2.10",
    )


def _action(adjustment: Adjustment, tool: str) -> str:
    return reverse("admin:ledger_adjustment_actions", kwargs={"pk": adjustment.pk, "tool": tool})


def test_finance_proposes_an_adjustment_and_the_proposal_is_audited(admin_client_for, staff, accounts):
    response = _propose(admin_client_for("finance"), *accounts)
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    assert (adjustment.status, adjustment.amount, adjustment.proposed_by) == (
        "proposed",
        1_234,
        staff["finance"],
    )
    assert (
        adjustment.transfer_id is None and not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()
    )
    row = AuditLog.objects.get(action=AuditAction.ADJUSTMENT_PROPOSED)
    assert row.actor == staff["finance"] and row.ip == "192.0.2.10" and row.target_id == str(adjustment.pk)
    assert row.after["amount"] == 1_234 and row.reason == "Correct a fee booked twice"


def test_a_bad_amount_is_refused_with_the_form_and_nothing_is_proposed(admin_client_for, accounts):
    response = _propose(admin_client_for("finance"), *accounts, amount="12.345")
    assert response.status_code == 200 and "at most 2 decimal places" in response.content.decode()
    assert not Adjustment.objects.exists()


def test_operators_cannot_propose(admin_client_for, accounts):
    assert _propose(admin_client_for("operator"), *accounts).status_code == 403
    assert not Adjustment.objects.exists()


def test_an_approver_approves_with_a_note_and_exactly_one_transfer_posts(admin_client_for, staff, accounts):
    _propose(admin_client_for("finance"), *accounts)
    adjustment = Adjustment.objects.get()
    approver = admin_client_for("approver")
    page = approver.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk])).content.decode()
    assert _action(adjustment, "approve") in page and _action(adjustment, "reject") in page
    confirm = approver.post(_action(adjustment, "approve"))
    assert confirm.status_code == 200 and b'name="note"' in confirm.content
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED  # the button alone decides nothing
    approver.post(_action(adjustment, "approve"), {"confirm": "1", "note": "Checked against the bank"})
    approver.post(_action(adjustment, "approve"), {"confirm": "1", "note": "again"})  # a double click
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED and adjustment.decided_by == staff["approver"]
    transfers = Transfer.objects.filter(kind=TransferKind.ADJUSTMENT)
    assert transfers.count() == 1 and transfers.get().amount == 1_234
    assert [e.amount for e in transfers.get().entries.order_by("amount")] == [-1_234, 1_234]
    row = AuditLog.objects.get(action=AuditAction.ADJUSTMENT_APPROVED)
    assert row.before["status"] == "proposed" and row.after["status"] == "approved"
    assert row.reason == "Checked against the bank" and row.actor == staff["approver"]
    after = approver.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk])).content.decode()
    assert _action(adjustment, "approve") not in after


def test_a_rejection_needs_a_note_posts_nothing_and_is_audited(admin_client_for, accounts):
    _propose(admin_client_for("finance"), *accounts)
    adjustment = Adjustment.objects.get()
    approver = admin_client_for("approver")
    approver.post(_action(adjustment, "reject"), {"confirm": "1", "note": ""})
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    approver.post(_action(adjustment, "reject"), {"confirm": "1", "note": "Wrong account"})
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.REJECTED and adjustment.transfer_id is None
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()
    assert AuditLog.objects.get(action=AuditAction.ADJUSTMENT_REJECTED).reason == "Wrong account"


@pytest.mark.parametrize("role", ["finance", "operator", "superuser"])
def test_only_finance_approvers_decide(admin_client_for, accounts, role):
    _propose(admin_client_for("approver"), *accounts)
    adjustment = Adjustment.objects.get()
    client = admin_client_for(role)
    page = client.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk])).content.decode()
    assert _action(adjustment, "approve") not in page
    client.post(_action(adjustment, "approve"), {"confirm": "1", "note": "crafted"})
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not AuditLog.objects.filter(action=AuditAction.ADJUSTMENT_APPROVED).exists()


def test_nobody_approves_their_own_proposal_even_with_a_crafted_post(admin_client_for, accounts):
    approver = admin_client_for("approver")
    _propose(approver, *accounts)
    adjustment = Adjustment.objects.get()
    page = approver.get(reverse("admin:ledger_adjustment_change", args=[adjustment.pk])).content.decode()
    assert _action(adjustment, "approve") not in page
    approver.post(_action(adjustment, "approve"), {"confirm": "1", "note": "mine"})
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()


def test_the_decision_buttons_need_the_csrf_token(staff, admin_client_for, accounts):
    _propose(admin_client_for("finance"), *accounts)
    adjustment = Adjustment.objects.get()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff["approver"])
    assert client.post(_action(adjustment, "approve"), {"confirm": "1"}).status_code == 403
    assert client.get(_action(adjustment, "approve")).status_code == 405
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED


def test_adjustments_cannot_be_edited_or_deleted_in_the_admin(admin_client_for, accounts):
    _propose(admin_client_for("finance"), *accounts)
    adjustment = Adjustment.objects.get()
    client = admin_client_for("superuser")
    change = reverse("admin:ledger_adjustment_change", args=[adjustment.pk])
    assert client.post(change, {"amount_text": "99.00", "reason": "x"}).status_code == 403
    assert (
        client.post(
            reverse("admin:ledger_adjustment_delete", args=[adjustment.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    adjustment.refresh_from_db()
    assert adjustment.amount == 1_234
