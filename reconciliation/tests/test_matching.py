"""Classification details on reports we write ourselves: the tolerance boundary, fees against the rule,
refunds, and a payout off by its batch."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from ledger.models import Transfer, TransferKind
from reconciliation import services
from reconciliation.models import Discrepancy, DiscrepancyClass, DiscrepancyStatus, Match, MatchKind
from reconciliation.tests.conftest import paid, today
from reconciliation.tests.reports import charge_line, with_payouts, write_report

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_tolerance_auto_resolves_up_to_its_boundary_exactly(shop, cli, settings, tmp_path):
    settings.RECONCILIATION_TOLERANCE = 5
    at, over, exact = paid(shop, [1_000, 2_000, 3_000])
    day = today()
    lines = [
        charge_line(at, day=day, n=1, gross_delta=5),
        charge_line(over, day=day, n=2, gross_delta=6),
        charge_line(exact, day=day, n=3),
    ]
    path = write_report(tmp_path / "r.csv", with_payouts(lines, day=day))

    result = cli(
        "reconcile",
        "--provider",
        "sandbox",
        "--date",
        day.isoformat(),
        "--file",
        str(path),
        "--format",
        "json",
    )

    assert result.code == 1
    data = json.loads(result.out)
    assert data["counts"]["amount_mismatch"] == 2 and data["counts"]["matched"] == 1
    tolerated = Discrepancy.objects.get(key="sl_test_000001")
    assert tolerated.status == DiscrepancyStatus.RESOLVED and tolerated.auto_resolved
    assert "tolerance of 5" in tolerated.resolution_note
    beyond = Discrepancy.objects.get(key="sl_test_000002")
    assert beyond.status == DiscrepancyStatus.OPEN and not beyond.auto_resolved
    assert Match.objects.get(line_key="sl_test_000001").kind == MatchKind.TOLERANCE
    assert not Match.objects.filter(line_key="sl_test_000002").exists()

    settled = services.settle_day(provider="sandbox", day=day, file=path)
    assert settled.unsettled == 1  # the line beyond the tolerance is left unsettled
    assert Match.objects.filter(settlement__isnull=False).count() == 2
    call_command("check_ledger")


def test_without_a_tolerance_one_minor_unit_is_a_discrepancy(shop, cli, tmp_path):
    (payment,) = paid(shop, [1_000])
    day = today()
    path = write_report(
        tmp_path / "r.csv", with_payouts([charge_line(payment, day=day, n=1, gross_delta=-1)], day=day)
    )
    result = cli("reconcile", "--provider", "sandbox", "--date", day.isoformat(), "--file", str(path))
    assert result.code == 1 and "amount_mismatch" in result.out
    assert Discrepancy.objects.get().status == DiscrepancyStatus.OPEN


def test_a_fee_is_checked_against_the_providers_rule_and_a_payout_against_its_batch(shop, cli, tmp_path):
    a, b = paid(shop, [1_000, 2_000])
    day = today()
    lines = with_payouts(
        [charge_line(a, day=day, n=1, fee_delta=3), charge_line(b, day=day, n=2)], day=day, payout_delta=-7
    )
    path = write_report(tmp_path / "r.csv", lines)
    result = cli(
        "reconcile",
        "--provider",
        "sandbox",
        "--date",
        day.isoformat(),
        "--file",
        str(path),
        "--format",
        "json",
    )
    data = json.loads(result.out)
    assert result.code == 1
    assert data["counts"]["fee_mismatch"] == 1 and data["counts"]["payout_mismatch"] == 1
    fee = Discrepancy.objects.get(cls=DiscrepancyClass.FEE_MISMATCH)
    assert fee.actual - fee.expected == 3
    payout = Discrepancy.objects.get(cls=DiscrepancyClass.PAYOUT_MISMATCH)
    assert payout.actual - payout.expected == -7
    assert {t["unexplained"] for t in data["totals"].values()} == {"0.00"}


def test_a_refund_line_matches_the_refund_posting(shop, cli):
    (payment,) = paid(shop, [5_000])
    refund = shop.refund(payment, 1_200)
    result = cli("settle", "--provider", "sandbox", "--date", today().isoformat())
    assert result.code == 0, result.out
    match = Match.objects.get(line__line_type="refund")
    assert match.transfer_id == refund.hold_id
    settlement = Transfer.objects.get(kind=TransferKind.SETTLEMENT)
    assert settlement.metadata["lines"] == 2
    call_command("check_ledger")


def test_a_capture_not_settled_is_pending_until_late_then_missing_and_stays_so(shop, settings, tmp_path):
    settled, unsettled = paid(shop, [1_000, 2_000])
    day = today()
    path = write_report(tmp_path / "r.csv", with_payouts([charge_line(settled, day=day, n=1)], day=day))
    settings.RECONCILIATION_MISSING_AFTER_DAYS = 1
    early = services.reconcile_day(provider="sandbox", day=day, file=path)
    assert early.verdict == "reconciled_with_pending" and early.counts["pending"] == 1
    assert not Discrepancy.objects.exists()

    late = services.reconcile_day(provider="sandbox", day=day, file=path, missing_after_days=0)
    assert late.verdict == "breaks"
    missing = Discrepancy.objects.get(cls=DiscrepancyClass.MISSING_AT_PROVIDER)
    assert missing.payment_id == unsettled.pk and missing.expected == 2_000

    again = services.reconcile_day(provider="sandbox", day=day, file=path)  # a laxer run does not clear it
    assert again.verdict == "breaks"
    missing.refresh_from_db()
    assert missing.status == DiscrepancyStatus.OPEN
