"""Ledger integrity checks: cached balances against entries, transfers against the double-entry rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

# Each query returns the rows that break one invariant; an empty result means it holds.
CHECKS: dict[str, tuple[str, str]] = {
    "balance_matches_entries": (
        "cached balance equals the sum of the account's posted entries",
        """
        SELECT a.id, a.currency, a.balance,
               COALESCE(SUM(e.amount), 0) * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS from_entries
          FROM ledger_account a LEFT JOIN ledger_entry e ON e.account_id = a.id
         GROUP BY a.id
        HAVING a.balance <> COALESCE(SUM(e.amount), 0) * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END
        """,
    ),
    "balance_after_matches_last_entry": (
        "the last entry's balance_after equals the cached balance",
        """
        SELECT a.id, a.currency, a.balance, last.balance_after
          FROM ledger_account a
          JOIN LATERAL (SELECT balance_after FROM ledger_entry WHERE account_id = a.id ORDER BY id DESC LIMIT 1) last
            ON TRUE
         WHERE last.balance_after <> a.balance
        """,
    ),
    "pending_matches_holds": (
        "pending debits and credits equal the open holds",
        """
        SELECT a.id, a.currency, a.pending_debits, COALESCE(d.total, 0), a.pending_credits, COALESCE(c.total, 0)
          FROM ledger_account a
          LEFT JOIN (SELECT source_id, SUM(amount) total FROM ledger_transfer WHERE status = 'pending'
                      GROUP BY source_id) d ON d.source_id = a.id
          LEFT JOIN (SELECT destination_id, SUM(amount) total FROM ledger_transfer WHERE status = 'pending'
                      GROUP BY destination_id) c ON c.destination_id = a.id
         WHERE a.pending_debits <> COALESCE(d.total, 0) OR a.pending_credits <> COALESCE(c.total, 0)
        """,
    ),
    "no_overdraft": (
        "accounts that may not go negative are not negative",
        """
        SELECT id, currency, balance FROM ledger_account WHERE NOT allow_negative AND balance < 0
        """,
    ),
    "posted_transfers_balance": (
        "every posted transfer has two or more entries summing to zero, debits equal to its posted amount",
        """
        SELECT t.id, t.currency, COUNT(e.id), COALESCE(SUM(e.amount), 0), t.posted_amount
          FROM ledger_transfer t LEFT JOIN ledger_entry e ON e.transfer_id = t.id
         WHERE t.status = 'posted'
         GROUP BY t.id
        HAVING COUNT(e.id) < 2 OR COALESCE(SUM(e.amount), 0) <> 0
            OR COALESCE(SUM(e.amount) FILTER (WHERE e.amount > 0), 0) <> t.posted_amount
            OR COUNT(e.id) FILTER (WHERE e.currency <> t.currency) > 0
        """,
    ),
    "unposted_transfers_have_no_entries": (
        "pending, voided and expired transfers have no entries",
        """
        SELECT t.id, t.status, COUNT(e.id)
          FROM ledger_transfer t JOIN ledger_entry e ON e.transfer_id = t.id
         WHERE t.status <> 'posted'
         GROUP BY t.id
        """,
    ),
    "entries_sum_to_zero_per_currency": (
        "all entries of each currency sum to zero",
        """
        SELECT currency, SUM(amount) FROM ledger_entry GROUP BY currency HAVING SUM(amount) <> 0
        """,
    ),
}


@dataclass
class CheckResult:
    name: str
    description: str
    violations: list[tuple] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def ledger_check(*, limit: int = 20) -> list[CheckResult]:
    """Run every invariant check in one repeatable-read snapshot; up to `limit` violations each."""
    results = []
    with connection.cursor() as cursor:
        in_transaction = not connection.get_autocommit()
        if not in_transaction:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            for name, (description, sql) in CHECKS.items():
                cursor.execute(f"{sql} LIMIT {int(limit)}")
                results.append(CheckResult(name, description, [tuple(row) for row in cursor.fetchall()]))
        finally:
            if not in_transaction:
                cursor.execute("COMMIT")
    return results
