"""Settlement report files for tests: lines built from payments, written in the provider's format."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from payments.models import Payment
from payments.providers import SettlementLine, SettlementLineType, provider_fee_rule
from payments.providers.settlement import settlement_lines_write


def charge_line(
    payment: Payment, *, day: date, n: int, gross_delta: int = 0, fee_delta: int = 0
) -> SettlementLine:
    gross = payment.amount_captured + gross_delta
    fee = provider_fee_rule("sandbox").fee(gross, payment.currency) + fee_delta
    return line(
        n=n,
        day=day,
        line_type=SettlementLineType.CHARGE,
        psp_reference=payment.provider_charge_id,
        merchant_reference=str(payment.pk),
        currency=payment.currency,
        gross=gross,
        fee=fee,
    )


def line(
    *,
    n: int,
    day: date,
    line_type: SettlementLineType,
    psp_reference: str,
    merchant_reference: str,
    currency: str,
    gross: int,
    fee: int,
) -> SettlementLine:
    stamp = day.strftime("%Y%m%d")
    return SettlementLine(
        line_number=n + 1,
        line_id=f"sl_test_{n:06d}",
        line_type=line_type,
        psp_reference=psp_reference,
        merchant_reference=merchant_reference,
        batch_id=f"ba_test_{stamp}_{currency.lower()}",
        payout_id=f"po_test_{stamp}_{currency.lower()}",
        created_at=datetime(day.year, day.month, day.day, 12, 0, n % 60, tzinfo=UTC),
        available_on=day + timedelta(days=2),
        currency=currency,
        gross=gross,
        fee=fee,
        net=gross - fee,
    )


def with_payouts(
    lines: Iterable[SettlementLine], *, day: date, payout_delta: int = 0
) -> list[SettlementLine]:
    """The lines grouped by currency, each batch closed by its payout line (off by payout_delta)."""
    lines = list(lines)
    out: list[SettlementLine] = []
    for currency in sorted({x.currency for x in lines}):
        batch = [x for x in lines if x.currency == currency]
        out += batch
        total = sum(x.net for x in batch) + payout_delta
        out.append(
            line(
                n=900_000 + len(out),
                day=day,
                line_type=SettlementLineType.PAYOUT,
                psp_reference=batch[0].payout_id,
                merchant_reference="",
                currency=currency,
                gross=total,
                fee=0,
            )
        )
    return out


def write_report(path: Path, lines: Iterable[SettlementLine]) -> Path:
    settlement_lines_write(path, lines)
    return path
