"""Settlement postings: one balanced transfer per payout and currency for the day's matched lines not yet
settled (cash debited by the net, provider fees by the fee, provider clearing credited by the gross), and
the count of what is left unsettled. Runs inside a settle run's transaction, under its (provider, day) lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection

from ledger import services as ledger
from ledger.models import TransferKind
from ledger.services import Leg, SystemAccount

from ..models import (
    ReconciliationRun,
)

logger = logging.getLogger(__name__)


@dataclass
class SettlementPosted:
    payout_id: str
    currency: str
    transfer_id: str
    lines: int
    gross: int
    fee: int
    net: int


_SETTLEMENT_GROUPS = """
    WITH day_lines AS (
        SELECT l.id, l.payout_id, l.currency, l.gross, l.fee, l.net
          FROM reconciliation_settlementline l
          JOIN reconciliation_settlementreport r ON r.id = l.report_id
         WHERE r.provider = %(provider)s AND r.day = %(day)s
    ), earlier AS (
        SELECT d.payout_id, d.currency, count(DISTINCT m.settlement_id) AS n
          FROM reconciliation_match m JOIN day_lines d ON d.id = m.line_id
         WHERE m.provider = %(provider)s AND m.settlement_id IS NOT NULL
         GROUP BY d.payout_id, d.currency
    )
    SELECT d.payout_id, d.currency, sum(d.gross), sum(d.fee), sum(d.net), count(*), coalesce(max(e.n), 0)
      FROM reconciliation_match m
      JOIN day_lines d ON d.id = m.line_id
      LEFT JOIN earlier e ON e.payout_id = d.payout_id AND e.currency = d.currency
     WHERE m.provider = %(provider)s AND m.settlement_id IS NULL
     GROUP BY d.payout_id, d.currency ORDER BY d.payout_id, d.currency
"""
_SETTLED = """
    UPDATE reconciliation_match m SET settlement_id = v.transfer_id
      FROM reconciliation_settlementline l, reconciliation_settlementreport r,
           (SELECT * FROM unnest(%(payouts)s::text[], %(currencies)s::text[], %(transfers)s::uuid[]))
             AS v(payout_id, currency, transfer_id)
     WHERE l.id = m.line_id AND r.id = l.report_id AND m.provider = %(provider)s AND m.settlement_id IS NULL
       AND r.provider = %(provider)s AND r.day = %(day)s AND l.payout_id = v.payout_id AND l.currency = v.currency
"""


def payouts_settle(*, provider: str, day: date, run: ReconciliationRun) -> list[SettlementPosted]:
    """One balanced transfer per payout and currency for the matched lines of the day not yet settled:
    cash debited by the net, provider fees by the fee, provider clearing credited by the gross. The
    matches are marked settled by one UPDATE for all payouts."""
    with connection.cursor() as cursor:
        cursor.execute(_SETTLEMENT_GROUPS, {"provider": provider, "day": day})
        groups = cursor.fetchall()
    posted = []
    accounts: dict[str, dict[SystemAccount, Any]] = {}
    for payout_id, currency, gross, fee, net, count, earlier in groups:
        gross, fee, net = int(gross), int(fee), int(net)
        if currency not in accounts:
            accounts[currency] = {
                code: ledger.system_account_get(code=code, currency=currency).pk
                for code in (SystemAccount.CASH, SystemAccount.PROVIDER_FEES, SystemAccount.PROVIDER_CLEARING)
            }
        ids = accounts[currency]
        legs = [
            Leg(ids[SystemAccount.CASH], net),
            Leg(ids[SystemAccount.PROVIDER_FEES], fee),
            Leg(ids[SystemAccount.PROVIDER_CLEARING], -gross),
        ]
        if not any(leg.amount for leg in legs):
            continue
        transfer = ledger.transfer_legs_create(
            legs=legs,
            currency=currency,
            kind=TransferKind.SETTLEMENT,
            description=f"Settlement of {provider} payout {payout_id} ({count} lines)"[:255],
            metadata={
                "provider": provider,
                "payout_id": payout_id,
                "day": day.isoformat(),
                "run": str(run.pk),
                "lines": count,
            },
            cause=f"settlement:{provider}:{payout_id}"[:90] + f":{currency}:{earlier + 1}",
        ).transfer
        posted.append(SettlementPosted(payout_id, currency, str(transfer.pk), count, gross, fee, net))
    if posted:
        with connection.cursor() as cursor:
            cursor.execute(
                _SETTLED,
                {
                    "provider": provider,
                    "day": day,
                    "payouts": [p.payout_id for p in posted],
                    "currencies": [p.currency for p in posted],
                    "transfers": [p.transfer_id for p in posted],
                },
            )
    return posted


def unsettled_count(*, provider: str, day: date) -> int:
    """Item lines of the report not settled, and payouts whose mismatch is still open."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM reconciliation_items i
                        LEFT JOIN reconciliation_match m ON m.provider = %s AND m.line_key = i.line_id
                       WHERE i.line_type <> 'payout' AND (m.id IS NULL OR m.settlement_id IS NULL))
                    + (SELECT count(*) FROM reconciliation_discrepancy
                        WHERE provider = %s AND day = %s AND cls = 'payout_mismatch' AND status = 'open')""",
            [provider, provider, day],
        )
        return cursor.fetchone()[0]
