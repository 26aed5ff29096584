"""`make run`'s demo data: a settled and reconciled day with a discrepancy of every class, made once."""

import pytest
from django.core.management import call_command

from ledger.models import Transfer, TransferKind
from reconciliation.models import Discrepancy, DiscrepancyClass, ReconciliationRun, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_leaves_a_settled_and_reconciled_day_with_every_class(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    runs = ReconciliationRun.objects.filter(schedule="demo")
    assert {(r.kind, r.status, r.verdict) for r in runs} == {
        ("settle", RunStatus.SUCCEEDED, "breaks"),
        ("reconcile", RunStatus.SUCCEEDED, "breaks"),
    }
    assert set(Discrepancy.objects.values_list("cls", flat=True)) == {c.value for c in DiscrepancyClass}
    assert Discrepancy.objects.count() == len(DiscrepancyClass)
    assert Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count() == 1
    assert "already settled and reconciled" in capsys.readouterr().out
    call_command("check_ledger")
