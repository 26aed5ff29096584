"""`manage.py reconciliation_demo` (run by seed_demo): a settled and reconciled day for `make run`, with
one discrepancy of every class. Safe to run again: it does its work once.

Runs before the stack's processes start, so it needs no provider: the demo client's card payments are
routed and their success applied through payments' own services (as a provider's answer would be), and
the provider's report for today is written as a file with one fault of each kind, then settled and
reconciled through the same services as `settle` and `reconcile`.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import User
from ledger.models import Account
from payments import services as payments
from payments.models import Payment
from payments.providers import ProviderCharge, SettlementLine, SettlementLineType, provider_fee_rule
from payments.providers.settlement import settlement_lines_write
from payments.services.outcomes import payment_apply_charge
from payments.services.provider_calls import provider_route

from ...models import ReconciliationRun
from ...services import reconcile_day, settle_day

CLIENT_EMAIL = "demo@ledgerpay.local"
SCHEDULE = "demo"
AMOUNTS = (1_250, 4_999, 2_000, 15_000, 780, 3_330, 9_900, 640, 5_500, 12_345)


def _paid(user: User, account: Account, amount: int) -> Payment:
    payment = payments.payment_create(
        user=user, account_id=account.pk, amount=amount, currency="USD", payment_method="pm_card_visa"
    )
    provider_route(payment)
    charge = ProviderCharge(
        id=f"ch_demo_{payment.pk.hex[:20]}",
        status="succeeded",
        amount=amount,
        amount_captured=amount,
        amount_refunded=0,
        currency="USD",
        failure_code=None,
        failure_message=None,
        created=timezone.now(),
        reference=str(payment.pk),
    )
    payment_apply_charge(payment_id=payment.pk, charge=charge, causation_id="demo", source="demo")
    payment.refresh_from_db()
    return payment


def _line(
    n: int, day: Any, *, currency: str, gross: int, fee: int, psp: str, ref: str, kind: str = "charge"
) -> SettlementLine:
    stamp = day.strftime("%Y%m%d")
    return SettlementLine(
        line_number=0,
        line_id=f"sl_demo_{stamp}_{n:04d}",
        line_type=SettlementLineType(kind),
        psp_reference=psp,
        merchant_reference=ref,
        batch_id=f"ba_demo_{stamp}_{currency.lower()}",
        payout_id=f"po_demo_{stamp}_{currency.lower()}",
        created_at=datetime(day.year, day.month, day.day, 0, 0, tzinfo=UTC) + timedelta(minutes=n),
        available_on=day + timedelta(days=2),
        currency=currency,
        gross=gross,
        fee=fee,
        net=gross - fee,
    )


def demo_report_lines(found: list[Payment], *, provider: str, day: Any) -> list[SettlementLine]:
    """The provider's report of the day: every payment, with one fault of each kind."""
    rule = provider_fee_rule(provider)
    usd: list[SettlementLine] = []
    eur: list[SettlementLine] = []
    for n, payment in enumerate(found):
        gross, currency = payment.amount_captured, "USD"
        fee = rule.fee(gross, currency)
        if n == 0:  # amount_mismatch
            gross += 25
            fee = rule.fee(gross, currency)
        elif n == 2:  # fee_mismatch
            fee += 15
        elif n == 3:  # missing_at_provider: not in the report
            continue
        target = usd
        if n == 1:  # currency_mismatch
            currency, target = "EUR", eur
        line = _line(
            n,
            day,
            currency=currency,
            gross=gross,
            fee=fee,
            psp=payment.provider_charge_id,
            ref=str(payment.pk),
        )
        target.append(line)
        if n == 4:  # duplicate_line
            target.append(
                _line(
                    100 + n,
                    day,
                    currency=currency,
                    gross=gross,
                    fee=fee,
                    psp=line.psp_reference,
                    ref=line.merchant_reference,
                )
            )
    # missing_in_ledger: a charge LedgerPay never asked for
    usd.append(
        _line(
            200,
            day,
            currency="USD",
            gross=7_700,
            fee=rule.fee(7_700, "USD"),
            psp="ch_demo_unknown",
            ref="order-4711",
        )
    )
    out: list[SettlementLine] = []
    for currency, lines, off_by in (("USD", usd, 7), ("EUR", eur, 0)):  # payout_mismatch on the USD batch
        out += lines
        total = sum(x.net for x in lines) + off_by
        out.append(
            _line(
                300 + len(out),
                day,
                currency=currency,
                gross=total,
                fee=0,
                psp=lines[0].payout_id,
                ref="",
                kind="payout",
            )
        )
    return out


class Command(BaseCommand):
    help = "Demo data: a settled and reconciled day with one discrepancy of every class (once)."

    def handle(self, *args: Any, **options: Any) -> None:
        provider = settings.PAYMENTS_PRIMARY_PROVIDER
        done = ReconciliationRun.objects.filter(schedule=SCHEDULE).order_by("-started_at").first()
        if done is not None:
            self.stdout.write(
                f"Reconciliation demo: {provider} {done.day} already settled and reconciled ({done.verdict})."
            )
            return
        user = User.objects.get(email=CLIENT_EMAIL)
        account = Account.objects.get(owner=user, currency="USD")
        found = [_paid(user, account, amount) for amount in AMOUNTS]
        day = timezone.now().date()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{provider}-{day.isoformat()}.csv"
            settlement_lines_write(path, demo_report_lines(found, provider=provider, day=day))
            settle_day(provider=provider, day=day, file=path, schedule=SCHEDULE, missing_after_days=0)
            result = reconcile_day(
                provider=provider, day=day, file=path, schedule=SCHEDULE, missing_after_days=0
            )
        classes = ", ".join(f"{k} {v}" for k, v in result.counts.items() if v)
        self.stdout.write(
            f"Reconciliation demo: {provider} {day} settled and reconciled, verdict {result.verdict} ({classes});"
            " see /admin/reconciliation/ or `manage.py reconcile --provider"
            f" {provider} --date {day}`."
        )
