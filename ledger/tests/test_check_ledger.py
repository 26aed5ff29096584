import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger import services
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


def test_check_ledger_passes_on_a_consistent_ledger(capsys):
    source, destination = AccountFactory(), AccountFactory()
    fund(source, 1_000)
    services.transfer_create(source_id=source.pk, destination_id=destination.pk, amount=300, currency="USD")
    services.transfer_create(
        source_id=source.pk, destination_id=destination.pk, amount=200, currency="USD", pending=True
    )
    call_command("check_ledger")
    out = capsys.readouterr().out
    assert "Ledger is consistent." in out and "FAIL" not in out


def test_check_ledger_reports_a_cached_balance_that_disagrees_with_its_entries(capsys):
    account = AccountFactory()
    fund(account, 1_000)
    with connection.cursor() as cursor:  # a bug that bypassed the services
        cursor.execute("UPDATE ledger_account SET balance = 1500 WHERE id = %s", [account.pk])
    with pytest.raises(CommandError) as excinfo:
        call_command("check_ledger")
    assert excinfo.value.returncode == 1
    out = capsys.readouterr().out
    assert "FAIL  balance_matches_entries" in out and str(account.pk) in out


def test_check_ledger_reports_pending_totals_that_disagree_with_open_holds(capsys):
    account = AccountFactory()
    fund(account, 1_000)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_account SET pending_debits = 10 WHERE id = %s", [account.pk])
    with pytest.raises(CommandError):
        call_command("check_ledger")
    assert "FAIL  pending_matches_holds" in capsys.readouterr().out
