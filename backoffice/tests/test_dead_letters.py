"""Replaying a dead letter from its admin page: operators only, POST with CSRF, audited."""

import pytest
from django.test import Client
from django.urls import reverse

from core.models import AuditAction, AuditLog
from payments.models import DeadLetter, OutboxMessage
from payments.services import dead_letter_record
from payments.task_names import PaymentTask
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def letter(db) -> DeadLetter:
    # An authorization that exhausted its retries while the payment is still processing: it needs a person
    # (a letter whose work is already done is resolved on its own and offers no replay).
    payment = PaymentFactory(reference="ORDER-1002")
    return dead_letter_record(
        task=PaymentTask.AUTHORIZE,
        kwargs={"payment_id": str(payment.pk)},
        message_id="m-1",
        error="503",
        retries=6,
    )


def _replay_url(letter: DeadLetter) -> str:
    return reverse("admin:payments_deadletter_actions", kwargs={"pk": letter.pk, "tool": "replay"})


def test_an_operator_replays_a_dead_letter_and_the_replay_is_audited(admin_client_for, staff, letter):
    client = admin_client_for("operator")
    page = client.get(reverse("admin:payments_deadletter_change", args=[letter.pk])).content.decode()
    assert _replay_url(letter) in page and 'method="post"' in page
    assert client.get(_replay_url(letter)).status_code == 405  # a link cannot replay
    response = client.post(_replay_url(letter), REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.replayed_at is not None and OutboxMessage.objects.filter(pk=letter.replayed_as_id).exists()
    row = AuditLog.objects.get(action=AuditAction.DEAD_LETTER_REPLAYED)
    assert row.actor == staff["operator"] and row.ip == "192.0.2.44" and row.target_id == str(letter.pk)
    assert row.after["outbox_message"] == str(letter.replayed_as_id)
    # Replayed once: the button is gone and a second POST replays nothing.
    assert (
        _replay_url(letter)
        not in client.get(reverse("admin:payments_deadletter_change", args=[letter.pk])).content.decode()
    )
    client.post(_replay_url(letter))
    assert AuditLog.objects.filter(action=AuditAction.DEAD_LETTER_REPLAYED).count() == 1


@pytest.mark.parametrize("role", ["finance", "approver"])
def test_finance_staff_cannot_replay(admin_client_for, letter, role):
    client = admin_client_for(role)
    page = client.get(reverse("admin:payments_deadletter_change", args=[letter.pk])).content.decode()
    assert _replay_url(letter) not in page
    client.post(_replay_url(letter))
    letter.refresh_from_db()
    assert (
        letter.replayed_at is None
        and not AuditLog.objects.filter(action=AuditAction.DEAD_LETTER_REPLAYED).exists()
    )


def test_the_replay_button_needs_the_csrf_token(staff, letter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff["operator"])
    assert client.post(_replay_url(letter)).status_code == 403
    letter.refresh_from_db()
    assert letter.replayed_at is None


def test_a_replay_from_the_command_line_is_audited_too(letter):
    from django.core.management import call_command

    call_command("dead_letters", "replay", str(letter.pk))
    row = AuditLog.objects.get(action=AuditAction.DEAD_LETTER_REPLAYED)
    assert row.actor is None and row.actor_label.startswith("cli:") and row.target_id == str(letter.pk)
