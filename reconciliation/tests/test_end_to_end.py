"""Real payments through the payments services and a real sandbox processor, its settlement report with
every injected fault, then settle and reconcile as an operator runs them: classes, totals, verdicts,
exit codes, the settlement and adjustment transfers, check_ledger after each, and re-runs."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.testing import run_in_threads
from ledger.errors import LedgerError
from ledger.models import Account, Entry, Transfer, TransferKind
from ledger.services import SystemAccount
from payments.models import PaymentEvent, PaymentStatus
from payments.providers import provider_fee_rule
from reconciliation import services
from reconciliation.models import (
    Discrepancy,
    DiscrepancyClass,
    DiscrepancyStatus,
    Match,
    MatchKind,
    ReconciliationRun,
    RunStatus,
    SettlementLine,
    SettlementReport,
)
from reconciliation.tests.conftest import paid, staff, today

pytestmark = pytest.mark.django_db(transaction=True)

ALL_FAULTS = {c.value: 1 for c in DiscrepancyClass}


def balance(code: SystemAccount, currency: str = "USD") -> int:
    account = Account.objects.filter(system_code=code, currency=currency).first()
    return account.balance if account else 0


def injected(sandbox, version: int = 1) -> dict[str, dict]:
    """The faults the sandbox says it injected into a version of today's report, by kind."""
    data = sandbox.request("GET", f"/_sandbox/settlement_reports/{today().isoformat()}").json()["data"]
    faults = next(v for v in data if v["version"] == version)["faults"]
    return {f["kind"]: f for f in faults if "line_id" in f}


def reconcile_json(cli, *extra: str):
    result = cli(
        "reconcile", "--provider", "sandbox", "--date", today().isoformat(), "--format", "json", *extra
    )
    return result, (json.loads(result.out) if result.out else None)


def settle(cli, *extra: str):
    return cli("settle", "--provider", "sandbox", "--date", today().isoformat(), *extra)


def test_a_clean_day_reconciles_and_settles_once(shop, cli):
    payments = paid(shop, [1_000, 2_550, 399])
    shop.refund(payments[0], 300)

    result, data = reconcile_json(cli)
    assert result.code == 0, result.err
    assert data["verdict"] == "reconciled"
    assert data["counts"]["matched"] == 4 and data["counts"]["payouts"] == 1
    assert sum(v for k, v in data["counts"].items() if k not in ("matched", "payouts")) == 0
    assert data["totals"] == {
        "USD": {"provider": "36.49", "ledger": "36.49", "explained": "0.00", "unexplained": "0.00"}
    }
    assert data["discrepancies"] == []
    assert Match.objects.filter(kind=MatchKind.EXACT, settlement__isnull=True).count() == 4
    call_command("check_ledger")

    clearing_before = balance(SystemAccount.PROVIDER_CLEARING)
    assert clearing_before == 1_000 + 2_550 + 399 - 300
    settled = settle(cli)
    assert settled.code == 0, settled.err
    assert "Settlement transfers posted" in settled.out
    transfer = Transfer.objects.get(kind=TransferKind.SETTLEMENT)
    rule = provider_fee_rule("sandbox")
    fees = sum(rule.fee(p.amount, "USD") for p in payments)
    legs = {
        e.account.system_code: e.amount
        for e in Entry.objects.filter(transfer=transfer).select_related("account")
    }
    assert legs == {
        SystemAccount.CASH: clearing_before - fees,
        SystemAccount.PROVIDER_FEES: fees,
        SystemAccount.PROVIDER_CLEARING: -clearing_before,
    }
    assert balance(SystemAccount.PROVIDER_CLEARING) == 0
    assert not Match.objects.filter(settlement__isnull=True).exists()
    call_command("check_ledger")

    again = settle(cli)
    assert again.code == 0 and "Nothing new to settle" in again.out
    rerun, data = reconcile_json(cli)
    assert rerun.code == 0 and data["verdict"] == "reconciled"
    assert Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count() == 1
    assert SettlementReport.objects.count() == 1 and SettlementLine.objects.count() == 5
    assert Match.objects.count() == 4
    call_command("check_ledger")


def test_every_injected_fault_becomes_its_discrepancy_and_resolution_settles_it(shop, cli, settings):
    shop.sandbox.configure(settlement_faults=ALL_FAULTS, seed=11)
    payments = paid(shop, [1_000 + 111 * i for i in range(9)])

    result, data = reconcile_json(cli)
    faults = injected(shop.sandbox)
    assert set(faults) == set(ALL_FAULTS)
    assert result.code == 1
    assert data["verdict"] == "breaks"
    for kind in ALL_FAULTS:
        assert data["counts"][kind] == 1, (kind, data["counts"])
    assert data["counts"]["matched"] == len(payments) - 4  # amount, currency, fee, missing_at_provider
    assert all(t["unexplained"].strip("0.") == "" for t in data["totals"].values()), data["totals"]
    found = {d["class"]: d for d in data["discrepancies"]}
    for kind in (
        "amount_mismatch",
        "currency_mismatch",
        "fee_mismatch",
        "missing_in_ledger",
        "duplicate_line",
    ):
        assert found[kind]["line_id"] == faults[kind]["line_id"], kind
    assert found["payout_mismatch"]["key"] == faults["payout_mismatch"]["batch_id"]
    missing = Discrepancy.objects.get(cls=DiscrepancyClass.MISSING_AT_PROVIDER)
    assert str(missing.payment_id) == faults["missing_at_provider"]["merchant_reference"]
    amount = Discrepancy.objects.get(cls=DiscrepancyClass.AMOUNT_MISMATCH)
    assert amount.expected == next(
        p.amount for p in payments if str(p.pk) == faults["amount_mismatch"]["merchant_reference"]
    )
    assert 1 <= amount.actual - amount.expected <= 100
    assert "Open items: 7" in cli("reconcile", "--provider", "sandbox", "--date", today().isoformat()).out
    call_command("check_ledger")

    # Settling posts the matched lines only and says lines were left unsettled.
    settled = settle(cli)
    assert settled.code == 1
    assert Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count() >= 1
    unsettled_lines = SettlementLine.objects.filter(match__isnull=True).exclude(line_type="payout").count()
    assert unsettled_lines == 5  # amount, currency, fee, missing_in_ledger, duplicate
    call_command("check_ledger")
    assert Discrepancy.objects.count() == 7  # re-runs refreshed, never duplicated

    # Four eyes resolve the amount mismatch: the provider settled more than we captured.
    proposer, approver = staff("finance"), staff("finance_approver")
    adjustment = services.discrepancy_adjustment_propose(
        discrepancy_id=amount.pk, proposed_by=proposer, reason="Provider settled more"
    )
    assert adjustment.amount == amount.actual - amount.expected
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()
    resolved = services.discrepancy_resolve(discrepancy_id=amount.pk, approver=approver, note="ok")
    assert resolved.status == DiscrepancyStatus.RESOLVED and resolved.resolved_by == approver
    posted = Transfer.objects.get(kind=TransferKind.ADJUSTMENT)
    assert posted.cause == f"adjustment:{adjustment.pk}" and posted.amount == adjustment.amount
    call_command("check_ledger")

    # A re-run after the resolution: the resolved item stays resolved, is matched, and settles.
    settlements_before = Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count()
    settled = settle(cli)
    assert settled.code == 1  # the other discrepancies are still open
    line = amount.line
    match = Match.objects.get(line_key=line.line_id)
    assert match.kind == MatchKind.RESOLVED and match.settlement is not None
    assert Transfer.objects.filter(kind=TransferKind.SETTLEMENT).count() == settlements_before + 1
    assert Discrepancy.objects.count() == 7
    assert Discrepancy.objects.get(pk=amount.pk).status == DiscrepancyStatus.RESOLVED
    call_command("check_ledger")


def test_a_new_report_version_supersedes_the_faulty_one(shop, cli):
    shop.sandbox.configure(settlement_faults=ALL_FAULTS, seed=5)
    paid(shop, [2_000 + 7 * i for i in range(8)])
    first, data = reconcile_json(cli)
    assert first.code == 1 and data["report_version"] == 1

    # The provider publishes a corrected version of the day.
    shop.sandbox.configure(settlement_faults={})
    shop.sandbox.request("POST", f"/_sandbox/settlement_reports/{today().isoformat()}")
    second, data = reconcile_json(cli)
    assert second.code == 0, data
    assert data["report_version"] == 2 and data["verdict"] == "reconciled"
    assert SettlementReport.objects.count() == 2
    assert not Discrepancy.objects.filter(status=DiscrepancyStatus.OPEN).exists()
    cleared = Discrepancy.objects.filter(auto_resolved=True)
    assert cleared.count() == 7 and all(d.resolution_note.startswith("cleared") for d in cleared)
    settled = settle(cli)
    assert settled.code == 0
    assert balance(SystemAccount.PROVIDER_CLEARING) == 0
    call_command("check_ledger")


def test_a_lost_webhook_is_recovered_through_the_outcome_door(shop, cli):
    paid(shop, [1_500])
    shop.sandbox.configure(lost_webhooks=1)
    lost = shop.pay(4_200, method="pm_card_async")
    assert lost.status == PaymentStatus.PROCESSING and lost.provider_charge_id
    shop.wait_settled_at_provider(lost)
    lost.refresh_from_db()
    assert lost.status == PaymentStatus.PROCESSING  # the webhook never came

    dry, data = reconcile_json(cli, "--dry-run")
    assert dry.code == 1 and data["counts"]["missing_in_ledger"] == 1 and data["dry_run"] is True
    lost.refresh_from_db()
    assert lost.status == PaymentStatus.PROCESSING and not ReconciliationRun.objects.exists()

    result, data = reconcile_json(cli)
    assert result.code == 0, data
    assert data["verdict"] == "reconciled" and len(data["recovered"]) == 1
    lost.refresh_from_db()
    assert lost.status == PaymentStatus.SUCCEEDED and lost.capture_transfer is not None
    match = Match.objects.get(payment=lost)
    assert match.kind == MatchKind.RECOVERED and match.transfer == lost.capture_transfer
    event = PaymentEvent.objects.get(payment=lost, type="status_changed", data__to="succeeded")
    assert event.data["source"] == "settlement_report"
    call_command("check_ledger")


def test_an_unknown_charge_stays_missing_in_ledger(shop, cli):
    shop.sandbox.configure(settlement_faults={"missing_in_ledger": 2}, seed=3)
    paid(shop, [700])
    result, data = reconcile_json(cli)
    assert result.code == 1 and data["counts"]["missing_in_ledger"] == 2 and data["recovered"] == []


def test_two_reconcile_runs_of_the_same_day_at_once_find_one_set_of_discrepancies(shop):
    shop.sandbox.configure(settlement_faults=ALL_FAULTS, seed=2)
    paid(shop, [900 + i for i in range(8)])

    def run(i: int) -> str:
        return services.reconcile_day(provider="sandbox", day=today()).verdict

    verdicts = run_in_threads(2, run)
    assert verdicts == ["breaks", "breaks"]
    assert ReconciliationRun.objects.filter(status=RunStatus.SUCCEEDED).count() == 2
    assert SettlementReport.objects.count() == 1
    assert Counter(Discrepancy.objects.values_list("cls", flat=True)) == Counter(ALL_FAULTS)
    call_command("check_ledger")


def test_a_resolution_needs_two_people_and_rejection_keeps_it_open(shop):
    shop.sandbox.configure(settlement_faults={"duplicate_line": 1}, seed=9)
    paid(shop, [1_234, 999])
    services.reconcile_day(provider="sandbox", day=today())
    duplicate = Discrepancy.objects.get(cls=DiscrepancyClass.DUPLICATE_LINE)
    proposer, approver = staff("finance_approver"), staff("finance_approver")
    adjustment = services.discrepancy_adjustment_propose(
        discrepancy_id=duplicate.pk, proposed_by=proposer, reason="Provider paid the charge twice"
    )
    assert adjustment.amount == duplicate.actual
    with pytest.raises(LedgerError) as refused:
        services.discrepancy_resolve(discrepancy_id=duplicate.pk, approver=proposer)
    assert refused.value.code == "self_approval"
    services.discrepancy_adjustment_reject(
        discrepancy_id=duplicate.pk, approver=approver, note="Wrong account"
    )
    duplicate.refresh_from_db()
    assert duplicate.status == DiscrepancyStatus.OPEN and duplicate.adjustment is None
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()
    services.discrepancy_adjustment_propose(discrepancy_id=duplicate.pk, proposed_by=proposer, reason="Again")
    services.discrepancy_resolve(discrepancy_id=duplicate.pk, approver=approver)
    suspense = Account.objects.get(system_code=SystemAccount.SUSPENSE, currency="USD")
    assert suspense.balance == duplicate.actual
    assert Entry.objects.filter(transfer__kind=TransferKind.ADJUSTMENT).aggregate(s=Sum("amount"))["s"] == 0
    result = services.settle_day(provider="sandbox", day=today())
    assert result.unsettled == 0 and result.verdict == "reconciled"
    assert balance(SystemAccount.PROVIDER_CLEARING) == 0
    call_command("check_ledger")
