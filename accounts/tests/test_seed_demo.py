import pytest
from django.core.management import call_command

from accounts.models import User
from ledger.models import Account
from payments.models import Payment

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_staff_in_their_groups_and_a_funded_client_and_can_run_twice(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    finance = User.objects.get(email="finance@ledgerpay.local")
    assert finance.is_staff and list(finance.groups.values_list("name", flat=True)) == ["finance"]
    assert finance.has_perm("ledger.view_transfer") and not finance.has_perm("ledger.change_transfer")
    client = User.objects.get(email="demo@ledgerpay.local")
    assert not client.is_staff
    usd = Account.objects.get(owner=client, currency="USD")
    # Captured demo payments (the back office's and reconciliation_demo's) credit their net, refunds debit.
    demo_payments = sum(
        p.amount_captured - p.fee - p.amount_refunded for p in Payment.objects.filter(account=usd)
    )
    assert usd.balance == 100_000 + demo_payments and Account.objects.filter(owner=client).count() == 2
    assert "demo@ledgerpay.local" in capsys.readouterr().out
