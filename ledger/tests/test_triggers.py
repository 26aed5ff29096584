"""The database itself refuses edits of history and unbalanced transfers, whatever the code does."""

import uuid

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.utils import timezone

from ledger import services
from ledger.models import Entry
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db(transaction=True)

DB_ERRORS = (IntegrityError, InternalError)


@pytest.fixture
def posted():
    source, destination = AccountFactory(), AccountFactory()
    fund(source, 1_000)
    return services.transfer_create(
        source_id=source.pk, destination_id=destination.pk, amount=400, currency="USD"
    ).transfer


def execute(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_update_of_an_entry_is_refused(posted):
    entry = Entry.objects.filter(transfer=posted).first()
    with pytest.raises(DB_ERRORS, match="append-only"):
        execute("UPDATE ledger_entry SET amount = amount + 1 WHERE id = %s", [entry.pk])


def test_raw_delete_of_an_entry_is_refused(posted):
    with pytest.raises(DB_ERRORS, match="append-only"):
        execute("DELETE FROM ledger_entry WHERE transfer_id = %s", [posted.pk])


def test_a_posted_transfer_cannot_be_edited_or_deleted(posted):
    with pytest.raises(DB_ERRORS, match="only a pending transfer may change"):
        execute("UPDATE ledger_transfer SET description = 'edited' WHERE id = %s", [posted.pk])
    with pytest.raises(DB_ERRORS, match="append-only"):
        execute("DELETE FROM ledger_transfer WHERE id = %s", [posted.pk])


def test_a_pending_transfer_may_change_only_its_status(posted):
    source, destination = AccountFactory(), AccountFactory()
    fund(source, 1_000)
    hold = services.transfer_create(
        source_id=source.pk, destination_id=destination.pk, amount=100, currency="USD", pending=True
    ).transfer
    with pytest.raises(DB_ERRORS, match="only status"):
        execute("UPDATE ledger_transfer SET status = 'voided', amount = 1 WHERE id = %s", [hold.pk])


def _insert_transfer(cursor, transfer_id, source, destination, amount):
    cursor.execute(
        "INSERT INTO ledger_transfer (id, kind, status, amount, posted_amount, currency, source_id, destination_id,"
        " description, metadata, cause, created_at, posted_at) VALUES"
        " (%s, 'transfer', 'posted', %s, %s, 'USD', %s, %s, '', '{}', '', %s, %s)",
        [transfer_id, amount, amount, source.pk, destination.pk, timezone.now(), timezone.now()],
    )


def _insert_entry(cursor, transfer_id, account, amount):
    cursor.execute(
        "INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)"
        " VALUES (%s, %s, %s, 'USD', 0, %s)",
        [transfer_id, account.pk, amount, timezone.now()],
    )


def test_an_unbalanced_transfer_inserted_by_raw_sql_fails_at_commit():
    source, destination = AccountFactory(), AccountFactory()
    transfer_id = uuid.uuid4()
    with (
        pytest.raises(DB_ERRORS, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _insert_transfer(cursor, transfer_id, source, destination, 500)
        _insert_entry(cursor, transfer_id, source, 500)
        _insert_entry(cursor, transfer_id, destination, -499)
        # Each statement succeeded: the check is deferred to COMMIT.
    assert not Entry.objects.filter(transfer_id=transfer_id).exists()


def test_a_posted_transfer_without_entries_fails_at_commit():
    source, destination = AccountFactory(), AccountFactory()
    with (
        pytest.raises(DB_ERRORS, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        _insert_transfer(cursor, uuid.uuid4(), source, destination, 500)


def test_a_balanced_transfer_inserted_by_raw_sql_commits():
    source, destination = AccountFactory(), AccountFactory()
    transfer_id = uuid.uuid4()
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_transfer(cursor, transfer_id, source, destination, 500)
        _insert_entry(cursor, transfer_id, source, 500)
        _insert_entry(cursor, transfer_id, destination, -500)
    assert Entry.objects.filter(transfer_id=transfer_id).count() == 2


def test_a_negative_balance_is_refused_by_a_check_constraint():
    account = AccountFactory()
    with pytest.raises(IntegrityError, match="ledger_account_no_overdraft"):
        execute("UPDATE ledger_account SET balance = -1 WHERE id = %s", [account.pk])
