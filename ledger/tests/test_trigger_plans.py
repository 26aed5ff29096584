"""The balanced-transfer trigger reaches its rows by index only, so its cost does not depend on statistics."""

import pytest
from django.db import connection

from ledger import services
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db

TABLES = ("ledger_account", "ledger_entry", "ledger_transfer")


def scans() -> dict[str, tuple[int, int]]:
    """(sequential, index) scans of the ledger's tables so far in this transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        found = {name: (seq, idx) for name, seq, idx in cursor.fetchall()}
    return {name: found.get(name, (0, 0)) for name in TABLES}


def test_the_balanced_check_at_commit_scans_no_table_even_when_tables_are_tiny():
    # Tiny tables are where a planner left to itself prefers sequential scans (as it does, with
    # any number of rows, when statistics are missing): the trigger must not.
    source, destination = AccountFactory(), AccountFactory()
    fund(source, 1_000)
    services.transfer_split_create(
        source_id=source.pk, credits=[(destination.pk, 300), (AccountFactory().pk, 200)], currency="USD"
    )
    before = scans()
    with connection.cursor() as cursor:
        # Run the balanced checks now, in this transaction, and only them: the foreign-key checks, also
        # deferred, reuse plans cached earlier in the session, which may scan tiny tables; they are not
        # what this test is about.
        cursor.execute("SET CONSTRAINTS ledger_entry_balanced, ledger_transfer_balanced IMMEDIATE")
    after = scans()

    assert {name: after[name][0] - before[name][0] for name in TABLES} == dict.fromkeys(TABLES, 0)
    # Two transfers (the deposit and the split), each checked once per row: by index every time.
    assert after["ledger_transfer"][1] > before["ledger_transfer"][1]
    assert after["ledger_entry"][1] > before["ledger_entry"][1]
    assert after["ledger_account"][1] > before["ledger_account"][1]
