"""The three-way check: ledger ↔ provider API ↔ report, for lines LedgerPay has no outcome for.

A report line for a payment (or refund) we know but whose outcome never reached us — a lost webhook —
would be missing_in_ledger. Before classifying, the provider's API is asked about each such object
(at most `limit` per run); when it says the charge succeeded (or the refund is final), the answer is
applied through payments' one outcome door (payment_apply_charge, refund_apply), which posts the
capture or refund in the ledger under the payment's lock exactly as a webhook would have. The line then
matches, its match recorded as recovered. A line for an object unknown here is not asked about: there
is nothing here to apply it to, and it stays a discrepancy. Calls happen outside any transaction; each
application is its own.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.db import connection

from payments import providers
from payments.services.outcomes import payment_apply_charge, refund_apply

logger = logging.getLogger(__name__)

_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

_CANDIDATES = f"""
    SELECT * FROM (
        SELECT DISTINCT ON (l.line_id) l.line_id, l.line_type, l.psp_reference, p.id AS payment_id,
               NULL::uuid AS refund_id, p.provider_charge_id AS known_id
          FROM reconciliation_settlementline l
          JOIN payments_payment p
            ON p.provider = %(provider)s AND p.status IN ('processing', 'requires_capture')
           AND ((l.psp_reference <> '' AND p.provider_charge_id = l.psp_reference)
                OR p.id = CASE WHEN l.merchant_reference ~ '{_UUID}' THEN l.merchant_reference::uuid END)
         WHERE l.report_id = %(report)s AND l.line_type = 'charge'
        UNION ALL
        SELECT DISTINCT ON (l.line_id) l.line_id, l.line_type, l.psp_reference, r.payment_id, r.id,
               r.provider_refund_id
          FROM reconciliation_settlementline l
          JOIN payments_refund r
            ON r.status = 'pending'
           AND ((l.psp_reference <> '' AND r.provider_refund_id = l.psp_reference)
                OR l.merchant_reference = 'ref_' || replace(r.id::text, '-', ''))
          JOIN payments_payment p ON p.id = r.payment_id AND p.provider = %(provider)s
         WHERE l.report_id = %(report)s AND l.line_type = 'refund'
    ) AS c
    WHERE NOT EXISTS (
        SELECT 1 FROM reconciliation_match m WHERE m.provider = %(provider)s AND m.line_key = c.line_id)
    ORDER BY c.line_id
    LIMIT %(limit)s
"""  # noqa: S608  (formatted with a constant pattern, no input)


def _candidates(*, provider: str, report_id: UUID, limit: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES, {"provider": provider, "report": report_id, "limit": limit})
        return cursor.fetchall()


def lost_outcomes_recover(
    *, provider: str, report_id: UUID, limit: int
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Ask the provider about lines whose payment or refund has no outcome here; apply what it says.

    Returns the line_ids recovered, and per line asked what the provider answered.
    """
    candidates = _candidates(provider=provider, report_id=report_id, limit=limit)
    if not candidates:
        return [], {}
    api = providers.get_provider(provider)
    recovered: list[str] = []
    answers: dict[str, dict[str, Any]] = {}
    for line_id, line_type, psp_reference, payment_id, refund_id, known_id in candidates:
        object_id = psp_reference or known_id
        causation_id = f"settlement:{line_id}"[:64]
        try:
            if line_type == "charge":
                charge = api.retrieve_charge(charge_id=object_id)
                answers[line_id] = {"provider_status": charge.status}
                if charge.status != "succeeded" or (charge.reference and charge.reference != str(payment_id)):
                    continue
                moved = payment_apply_charge(
                    payment_id=payment_id,
                    charge=charge,
                    causation_id=causation_id,
                    source="settlement_report",
                )
            else:
                refund = api.retrieve_refund(refund_id=object_id)
                answers[line_id] = {"provider_status": refund.status}
                if refund.status == "pending":
                    continue
                applied = refund_apply(
                    refund_id=refund_id,
                    provider_refund=refund,
                    causation_id=causation_id,
                    source="settlement_report",
                )
                moved = applied.status == "succeeded"
        except providers.ProviderError as exc:
            answers[line_id] = {"provider_error": exc.code}
            logger.warning("three-way check of %s %s failed: %s", line_type, object_id, exc)
            continue
        answers[line_id]["applied"] = moved
        if moved:
            recovered.append(line_id)
    return recovered, answers
