"""Matching a report's lines to the ledger's postings and classifying the rest, in SQL.

Everything here is set-based: a handful of statements over temporary tables whatever the number of
lines, never a query per line. classify() builds `reconciliation_items` (one row per line of the
report, with the posting it refers to and its class) and `reconciliation_unsettled` (postings of the
day the report does not mention); the writers then derive discrepancies, matches and totals from them
with INSERT ... SELECT. Callers hold the (provider, day) lock and one transaction around all of it.

A line finds its posting exactly on keys: the provider's reference (psp_reference: the charge or
refund id) first, our id (merchant_reference: the payment id, or `ref_<refund id hex>`) second. Then:
a later line for a posting already referred to (in this report, or matched to another line before) is
a duplicate_line; a line with no posting, or whose payment or refund has no outcome booked here, is
missing_in_ledger; then currency, gross and fee (against the provider's fee rule) are compared. A payout
line whose amount is not its batch's Σ net is a payout_mismatch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from django.db import connection

from payments.providers import FeeRule

from ..models import DiscrepancyClass, DiscrepancyStatus, MatchKind

MATCHED = "matched"
PENDING = "pending"
PAYOUTS = "payouts"  # payout lines that add up (they close a batch; no posting of their own)
_CLASS_OR_PAYOUT = "CASE WHEN line_type = 'payout' AND cls = 'matched' THEN 'payouts' ELSE cls END"
LINE_CLASSES = (
    DiscrepancyClass.AMOUNT_MISMATCH,
    DiscrepancyClass.CURRENCY_MISMATCH,
    DiscrepancyClass.FEE_MISMATCH,
    DiscrepancyClass.MISSING_IN_LEDGER,
    DiscrepancyClass.DUPLICATE_LINE,
    DiscrepancyClass.PAYOUT_MISMATCH,
)
# Classes whose difference is an amount in one currency: the ones the tolerance may auto-resolve.
TOLERATED_CLASSES = (
    DiscrepancyClass.AMOUNT_MISMATCH,
    DiscrepancyClass.FEE_MISMATCH,
    DiscrepancyClass.PAYOUT_MISMATCH,
)

_POSTINGS = """
    CREATE TEMPORARY TABLE reconciliation_postings ON COMMIT DROP AS
    SELECT 'charge'::text AS kind, p.id AS payment_id, NULL::uuid AS refund_id,
           p.provider_charge_id AS psp_ref, p.id::text AS our_ref, p.currency, p.amount_captured AS amount,
           p.capture_transfer_id AS transfer_id, p.status::text AS status,
           (p.status = 'succeeded' AND p.capture_transfer_id IS NOT NULL) AS booked, t.posted_at
      FROM payments_payment p LEFT JOIN ledger_transfer t ON t.id = p.capture_transfer_id
     WHERE p.provider = %(provider)s
    UNION ALL
    SELECT 'refund', r.payment_id, r.id, r.provider_refund_id, 'ref_' || replace(r.id::text, '-', ''),
           r.currency, -r.amount, coalesce(h.id, d.id), r.status::text,
           (r.status = 'succeeded' AND coalesce(h.id, d.id) IS NOT NULL), coalesce(h.posted_at, d.posted_at)
      FROM payments_refund r
      JOIN payments_payment p ON p.id = r.payment_id AND p.provider = %(provider)s
      LEFT JOIN ledger_transfer h ON h.id = r.hold_id AND h.status = 'posted'
      LEFT JOIN ledger_transfer d ON d.kind = 'refund'
           AND d.cause IN ('refund:' || r.id || ':direct', 'refund:' || r.id || ':suspense')
"""

_ITEMS = """
    CREATE TEMPORARY TABLE reconciliation_items ON COMMIT DROP AS
    WITH found AS (
        SELECT l.id AS line_pk, l.line_id, l.line_number, l.line_type, l.psp_reference, l.currency,
               l.gross, l.fee, l.net, l.batch_id, l.payout_id, l.batch_net,
               coalesce(a.payment_id, b.payment_id) AS payment_id,
               coalesce(a.refund_id, b.refund_id) AS refund_id,
               coalesce(a.transfer_id, b.transfer_id) AS transfer_id,
               coalesce(a.currency, b.currency) AS p_currency,
               coalesce(a.amount, b.amount) AS p_amount,
               coalesce(a.status, b.status) AS p_status,
               coalesce(a.booked, b.booked, false) AS booked,
               m.id AS match_id, other.line_key AS matched_to,
               CASE WHEN l.line_type = 'payout' THEN 'payout:' || l.line_id
                    ELSE l.line_type || ':' || coalesce(
                        coalesce(a.payment_id, b.payment_id)::text || ':'
                            || coalesce(coalesce(a.refund_id, b.refund_id)::text, ''),
                        nullif(l.psp_reference, ''), l.line_id) END AS dup_key
          FROM reconciliation_settlementline l
          LEFT JOIN reconciliation_postings a
                 ON l.psp_reference <> '' AND a.kind = l.line_type AND a.psp_ref = l.psp_reference
          LEFT JOIN reconciliation_postings b
                 ON a.kind IS NULL AND l.merchant_reference <> '' AND b.kind = l.line_type
                AND b.our_ref = l.merchant_reference
          LEFT JOIN reconciliation_match m ON m.provider = %(provider)s AND m.line_key = l.line_id
          LEFT JOIN reconciliation_match other
                 ON m.id IS NULL AND other.transfer_id = coalesce(a.transfer_id, b.transfer_id)
         WHERE l.report_id = %(report)s
    ), firsts AS (
        -- The first line referring to each posting (a line matched before comes first): any later one
        -- is a duplicate. An aggregate rather than a window, so the wide rows are never sorted.
        SELECT dup_key, coalesce(min(line_number) FILTER (WHERE match_id IS NOT NULL), min(line_number)) AS first
          FROM found GROUP BY dup_key
    ), ranked AS (
        SELECT found.*, CASE WHEN found.line_number = f.first THEN 1 ELSE 2 END AS rank
          FROM found JOIN firsts f USING (dup_key)
    )
    SELECT ranked.*,
           CASE
               WHEN match_id IS NOT NULL THEN 'matched'
               WHEN line_type = 'payout' THEN
                    CASE WHEN net <> batch_net THEN 'payout_mismatch' ELSE 'matched' END
               WHEN line_type NOT IN ('charge', 'refund') THEN 'missing_in_ledger'
               WHEN rank > 1 OR matched_to IS NOT NULL THEN 'duplicate_line'
               WHEN NOT booked THEN 'missing_in_ledger'
               WHEN currency <> p_currency THEN 'currency_mismatch'
               WHEN gross <> p_amount THEN 'amount_mismatch'
               WHEN line_type = 'charge'
                    AND fee <> coalesce((%(fee_fixed)s::jsonb ->> currency)::bigint, %(fee_fixed_default)s)
                              + floor((gross * %(fee_bps)s + 5000)::numeric / 10000)::bigint THEN 'fee_mismatch'
               WHEN line_type = 'refund' AND fee <> 0 THEN 'fee_mismatch'
               ELSE 'matched'
           END AS cls,
           CASE WHEN line_type = 'charge'
                THEN coalesce((%(fee_fixed)s::jsonb ->> currency)::bigint, %(fee_fixed_default)s)
                     + floor((gross * %(fee_bps)s + 5000)::numeric / 10000)::bigint
                ELSE 0 END AS expected_fee
      FROM ranked
"""

# Booked postings of the day (by the UTC date they were posted) that no line of this report and no
# earlier match refers to: pending until the provider is late, then missing_at_provider.
_UNSETTLED = """
    CREATE TEMPORARY TABLE reconciliation_unsettled ON COMMIT DROP AS
    SELECT p.kind, p.payment_id, p.refund_id, p.transfer_id, p.currency, p.amount,
           CASE WHEN %(late)s THEN 'missing_at_provider' ELSE 'pending' END AS cls
      FROM reconciliation_postings p
     WHERE p.booked AND (p.posted_at AT TIME ZONE 'UTC')::date = %(day)s
       AND NOT EXISTS (SELECT 1 FROM reconciliation_match m WHERE m.transfer_id = p.transfer_id)
       AND NOT EXISTS (SELECT 1 FROM reconciliation_items i WHERE i.transfer_id = p.transfer_id)
"""


@dataclass(frozen=True)
class Classified:
    """Counts of a classification, per class (matched, pending and every discrepancy class)."""

    counts: dict[str, int]


def classify(*, provider: str, report_id: UUID, day: date, fee_rule: FeeRule, late: bool) -> None:
    """Build reconciliation_items and reconciliation_unsettled for this report (temporary tables)."""
    fixed = fee_rule.fixed
    params: dict[str, Any] = {
        "provider": provider,
        "report": report_id,
        "day": day,
        "late": late,
        "fee_bps": fee_rule.bps,
        "fee_fixed": json.dumps({} if isinstance(fixed, int) else dict(fixed)),
        "fee_fixed_default": fixed if isinstance(fixed, int) else 0,
    }
    with connection.cursor() as cursor:
        for table in ("reconciliation_items", "reconciliation_unsettled", "reconciliation_postings"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
        # Hash joins over a day of lines and every payment want memory, not temporary files; the
        # planner wants fresh statistics of the lines just imported and the matches just written.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("ANALYZE reconciliation_settlementline")
        cursor.execute("ANALYZE reconciliation_match")
        cursor.execute(_POSTINGS, params)
        cursor.execute("ANALYZE reconciliation_postings")
        cursor.execute(_ITEMS, params)
        cursor.execute("ANALYZE reconciliation_items")
        cursor.execute(_UNSETTLED, params)


def counts() -> dict[str, int]:
    """How many lines (and unsettled postings) fall in each class."""
    result = {MATCHED: 0, PENDING: 0, **{c.value: 0 for c in DiscrepancyClass}, PAYOUTS: 0}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_CLASS_OR_PAYOUT}, count(*) FROM reconciliation_items GROUP BY 1"  # noqa: S608
            " UNION ALL SELECT cls, count(*) FROM reconciliation_unsettled GROUP BY cls"
        )
        for cls, n in cursor.fetchall():
            result[cls] += n
    return result


_DISCREPANCIES = """
    INSERT INTO reconciliation_discrepancy
        (id, provider, day, cls, key, run_id, last_run_id, line_id, payment_id, transfer_id, currency,
         expected_currency, expected, actual, detail, status, auto_resolved, resolution_note, resolved_at,
         created_at)
    SELECT gen_random_uuid(), %(provider)s, %(day)s, d.cls, d.key, %(run)s, %(run)s, d.line_pk, d.payment_id,
           d.transfer_id, d.currency, d.expected_currency, d.expected, d.actual, d.detail,
           CASE WHEN d.tolerated THEN 'resolved' ELSE 'open' END, d.tolerated,
           CASE WHEN d.tolerated THEN %(tolerance_note)s ELSE '' END,
           CASE WHEN d.tolerated THEN now() END, now()
      FROM (
        SELECT i.cls, CASE WHEN i.cls = 'payout_mismatch' THEN i.batch_id ELSE i.line_id END AS key,
               i.line_pk, i.payment_id, CASE WHEN i.rank = 1 THEN i.transfer_id END AS transfer_id,
               i.currency, coalesce(i.p_currency, '') AS expected_currency,
               CASE i.cls WHEN 'fee_mismatch' THEN i.expected_fee
                          WHEN 'payout_mismatch' THEN i.batch_net
                          WHEN 'missing_in_ledger' THEN 0
                          WHEN 'duplicate_line' THEN 0
                          ELSE i.p_amount END AS expected,
               CASE i.cls WHEN 'fee_mismatch' THEN i.fee
                          WHEN 'payout_mismatch' THEN i.net
                          ELSE i.gross END AS actual,
               jsonb_strip_nulls(jsonb_build_object(
                   'line_number', i.line_number, 'line_type', i.line_type, 'psp_reference', i.psp_reference,
                   'refund', i.refund_id, 'payment_status', i.p_status, 'matched_to', i.matched_to,
                   'recovery', (%(recovery)s::jsonb -> i.line_id))) AS detail,
               (%(tolerance)s > 0 AND i.cls IN ('amount_mismatch', 'fee_mismatch', 'payout_mismatch')
                 AND abs(CASE i.cls WHEN 'fee_mismatch' THEN i.fee - i.expected_fee
                                    WHEN 'payout_mismatch' THEN i.net - i.batch_net
                                    ELSE i.gross - i.p_amount END) <= %(tolerance)s) AS tolerated
          FROM reconciliation_items i WHERE i.cls <> 'matched'
        UNION ALL
        SELECT u.cls, u.transfer_id::text, NULL, u.payment_id, u.transfer_id, u.currency, u.currency, u.amount,
               NULL, jsonb_strip_nulls(jsonb_build_object('kind', u.kind, 'refund', u.refund_id)), false
          FROM reconciliation_unsettled u WHERE u.cls = 'missing_at_provider'
      ) AS d
    ON CONFLICT (provider, day, cls, key) DO UPDATE
       SET last_run_id = EXCLUDED.last_run_id, line_id = EXCLUDED.line_id, payment_id = EXCLUDED.payment_id,
           transfer_id = EXCLUDED.transfer_id, currency = EXCLUDED.currency,
           expected_currency = EXCLUDED.expected_currency, expected = EXCLUDED.expected,
           actual = EXCLUDED.actual, detail = EXCLUDED.detail, status = EXCLUDED.status,
           auto_resolved = EXCLUDED.auto_resolved, resolution_note = EXCLUDED.resolution_note,
           resolved_at = EXCLUDED.resolved_at
     WHERE reconciliation_discrepancy.status = 'open'
"""

# Open discrepancies of the day this run did not find again: the report or the ledger no longer shows them.
_CLEAR = """
    UPDATE reconciliation_discrepancy
       SET status = 'resolved', auto_resolved = true, resolved_at = now(), last_run_id = %(run)s,
           resolution_note = %(note)s
     WHERE provider = %(provider)s AND day = %(day)s AND status = 'open' AND last_run_id <> %(run)s
       -- a posting still unsettled, only not yet late by this run's measure, stays missing
       AND NOT (cls = 'missing_at_provider' AND key IN (SELECT transfer_id::text FROM reconciliation_unsettled))
"""


def discrepancies_write(
    *, provider: str, day: date, run_id: UUID, tolerance: int, recovery: dict[str, dict], note: str
) -> None:
    """Insert this run's discrepancies, refresh the open ones found again, close those not found."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DISCREPANCIES,
            {
                "provider": provider,
                "day": day,
                "run": run_id,
                "tolerance": tolerance,
                "tolerance_note": f"auto-resolved: within the tolerance of {tolerance} minor units",
                "recovery": json.dumps(recovery),
            },
        )
        cursor.execute(_CLEAR, {"provider": provider, "day": day, "run": run_id, "note": note})


_MATCHES = """
    INSERT INTO reconciliation_match
        (run_id, provider, line_key, line_id, transfer_id, payment_id, kind, note, created_at)
    SELECT %(run)s, %(provider)s, i.line_id, i.line_pk,
           CASE WHEN i.cls IN ('matched', 'amount_mismatch', 'currency_mismatch', 'fee_mismatch')
                     AND i.rank = 1 THEN i.transfer_id END,
           i.payment_id,
           CASE WHEN i.cls = 'matched' AND i.line_id = ANY(%(recovered)s) THEN %(recovered_kind)s
                WHEN i.cls = 'matched' THEN %(exact)s
                WHEN d.auto_resolved THEN %(tolerance_kind)s
                ELSE %(resolved_kind)s END,
           CASE WHEN i.cls = 'matched' AND i.line_id = ANY(%(recovered)s)
                THEN 'the provider''s answer was missing here; applied from its API'
                WHEN d.id IS NOT NULL THEN 'discrepancy ' || d.id::text
                ELSE '' END,
           now()
      FROM reconciliation_items i
      LEFT JOIN reconciliation_discrepancy d
             ON d.provider = %(provider)s AND d.day = %(day)s AND d.cls = i.cls AND d.key = i.line_id
            AND d.status = 'resolved'
     WHERE i.match_id IS NULL AND i.line_type <> 'payout' AND (i.cls = 'matched' OR d.id IS NOT NULL)
    ON CONFLICT DO NOTHING
"""


def matches_write(*, provider: str, day: date, run_id: UUID, recovered: list[str]) -> int:
    """Match the matched lines, and the lines whose discrepancy was resolved, to their postings."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MATCHES,
            {
                "provider": provider,
                "day": day,
                "run": run_id,
                "recovered": recovered,
                "exact": MatchKind.EXACT.value,
                "recovered_kind": MatchKind.RECOVERED.value,
                "tolerance_kind": MatchKind.TOLERANCE.value,
                "resolved_kind": MatchKind.RESOLVED.value,
            },
        )
        return cursor.rowcount


_TOTALS = """
    WITH lines AS (
        SELECT currency, gross AS provider, 0::bigint AS ledger, 0::bigint AS explained
          FROM reconciliation_items WHERE line_type <> 'payout'
        UNION ALL
        SELECT p_currency, 0, p_amount, 0 FROM reconciliation_items
         WHERE line_type <> 'payout' AND booked AND rank = 1 AND cls <> 'duplicate_line'
        UNION ALL
        SELECT currency, 0, 0, gross FROM reconciliation_items
         WHERE line_type <> 'payout' AND cls <> 'matched'
        UNION ALL
        SELECT p_currency, 0, 0, -p_amount FROM reconciliation_items
         WHERE line_type <> 'payout' AND cls <> 'matched' AND booked AND rank = 1 AND cls <> 'duplicate_line'
        UNION ALL
        SELECT currency, 0, amount, -amount FROM reconciliation_unsettled
    )
    SELECT currency, sum(provider), sum(ledger), sum(explained) FROM lines GROUP BY currency ORDER BY currency
"""


def totals() -> dict[str, dict[str, int]]:
    """Per currency, in minor units: the provider's gross, the ledger's, the part the discrepancies and
    pending postings explain, and what is left unexplained (0 unless the matching itself is wrong)."""
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS)
        rows = cursor.fetchall()
    return {
        currency: {
            "provider": int(provider),
            "ledger": int(ledger),
            "explained": int(explained),
            "unexplained": int(provider) - int(ledger) - int(explained),
        }
        for currency, provider, ledger, explained in rows
    }


def open_discrepancy_count(*, provider: str, day: date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM reconciliation_discrepancy WHERE provider = %s AND day = %s AND status = %s",
            [provider, day, DiscrepancyStatus.OPEN.value],
        )
        return cursor.fetchone()[0]


def class_totals() -> list[tuple[str, str, int, int]]:
    """(class, currency, count, Σ gross) of the report's lines and the day's unsettled postings."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {_CLASS_OR_PAYOUT}, currency, count(*),
                      sum(CASE WHEN line_type = 'payout' THEN net ELSE gross END)
                 FROM reconciliation_items GROUP BY 1, currency
               UNION ALL
               SELECT cls, currency, count(*), sum(amount) FROM reconciliation_unsettled GROUP BY cls, currency
               ORDER BY 1, 2"""  # noqa: S608  (constant SQL)
        )
        return [(cls, currency, int(n), int(total)) for cls, currency, n, total in cursor.fetchall()]
