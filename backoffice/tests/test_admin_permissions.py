"""Who may do what in the admin: every group views the money apps, nobody (superusers included)
adds, changes or deletes history, through the admin's pages or a crafted POST."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ledger.models import Entry, Transfer
from payments.models import PaymentEvent

from .conftest import ROLES

pytestmark = pytest.mark.django_db

READ_ONLY_MODELS = [
    ("ledger", "account"),
    ("ledger", "transfer"),
    ("ledger", "entry"),
    ("payments", "payment"),
    ("payments", "refund"),
    ("payments", "paymentevent"),
    ("payments", "outboxmessage"),
    ("payments", "providerwebhook"),
    ("payments", "deadletter"),
]


def _objects(payment):
    """One object of each read-only model, from the captured payment's story."""
    transfer = payment.capture_transfer
    return {
        ("ledger", "account"): payment.account,
        ("ledger", "transfer"): transfer,
        ("ledger", "entry"): transfer.entries.first(),
        ("payments", "payment"): payment,
        ("payments", "paymentevent"): payment.events.first(),
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("app", "model"), READ_ONLY_MODELS)
def test_every_group_views_lists_and_nobody_may_add(admin_client_for, role, app, model):
    client = admin_client_for(role)
    assert client.get(reverse(f"admin:{app}_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == 403
    assert client.post(reverse(f"admin:{app}_{model}_add"), {"amount": 1}).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_history_pages_are_read_only_and_crafted_posts_change_nothing(
    admin_client_for, captured_payment, role
):
    client = admin_client_for(role)
    for (app, model), obj in _objects(captured_payment).items():
        change = reverse(f"admin:{app}_{model}_change", args=[obj.pk])
        page = client.get(change)
        assert page.status_code == 200
        assert b'name="_save"' not in page.content  # no save button: a view-only page
        assert client.post(change, {"amount": "1", "status": "voided", "_save": "Save"}).status_code == 403
        delete = reverse(f"admin:{app}_{model}_delete", args=[obj.pk])
        assert client.get(delete).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
        changelist = reverse(f"admin:{app}_{model}_changelist")
        bulk = client.post(
            changelist, {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        )
        assert bulk.status_code in (200, 302)  # no such action: the list answers, nothing is deleted
    transfer = captured_payment.capture_transfer
    transfer.refresh_from_db()
    assert transfer.status == "posted" and transfer.posted_amount == 2_500
    assert Entry.objects.filter(transfer=transfer).count() >= 2
    assert Transfer.objects.filter(pk=transfer.pk).exists()
    assert PaymentEvent.objects.filter(payment=captured_payment).exists()


def test_a_superuser_cannot_change_an_entry_or_a_transfer_with_a_crafted_post(
    admin_client_for, captured_payment
):
    client = admin_client_for("superuser")
    transfer = captured_payment.capture_transfer
    entry = transfer.entries.first()
    before = (entry.amount, entry.balance_after)
    for url, data in (
        (reverse("admin:ledger_entry_change", args=[entry.pk]), {"amount": "999999", "balance_after": "0"}),
        (reverse("admin:ledger_transfer_change", args=[transfer.pk]), {"amount": "1", "status": "voided"}),
    ):
        assert client.post(url, {**data, "_save": "Save"}).status_code == 403
    entry.refresh_from_db()
    transfer.refresh_from_db()
    assert (entry.amount, entry.balance_after) == before and transfer.status == "posted"


def test_no_delete_action_on_history_lists(admin_client_for):
    page = admin_client_for("superuser").get(reverse("admin:ledger_entry_changelist"))
    assert b"delete_selected" not in page.content


def test_a_user_who_is_not_staff_is_sent_to_the_login(db, client):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("admin:ledger_transfer_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize(("role", "sees"), [("finance", True), ("approver", True), ("operator", False)])
def test_operators_see_ids_but_no_customer_personal_data(admin_client_for, captured_payment, role, sees):
    client = admin_client_for(role)
    email = captured_payment.user.email.encode()
    pages = [
        reverse("admin:payments_payment_changelist"),
        reverse("admin:payments_payment_change", args=[captured_payment.pk]),
        reverse("admin:ledger_account_changelist"),
        reverse("admin:ledger_account_change", args=[captured_payment.account_id]),
    ]
    for url in pages:
        content = client.get(url).content
        assert (
            str(captured_payment.pk).encode() in content
            or str(captured_payment.account_id).encode() in content
        )
        assert (email in content) is sees, url
        if "payment" in url:
            assert (b"ORDER-1001" in content) is sees, url
    # Searching by a customer's email or reference finds nothing for an operator.
    found = client.get(reverse("admin:payments_payment_changelist"), {"q": "ORDER-1001"}).content
    assert (str(captured_payment.pk).encode() in found) is sees


@pytest.mark.parametrize(("role", "allowed"), [("finance", True), ("approver", True), ("operator", False)])
def test_the_audit_log_is_for_finance_staff_and_read_only(admin_client_for, role, allowed):
    client = admin_client_for(role)
    assert (client.get(reverse("admin:core_auditlog_changelist")).status_code == 200) is allowed
    assert client.get(reverse("admin:core_auditlog_add")).status_code == 403
