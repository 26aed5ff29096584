"""Property-based: any sequence of transfers, holds, posts and voids keeps every ledger invariant."""

from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import services
from ledger.checks import ledger_check
from ledger.errors import LedgerError
from ledger.models import Account, TransferStatus
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db

ACCOUNTS = 4
amounts = st.integers(min_value=1, max_value=6_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("transfer"), st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1), amounts),
        st.tuples(st.just("hold"), st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1), amounts),
        st.tuples(st.just("post"), st.integers(0, 20), st.integers(0, 100), st.booleans()),
        st.tuples(st.just("void"), st.integers(0, 20)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_random_operations_keep_every_invariant(operations):
    accounts = [AccountFactory() for _ in range(ACCOUNTS)]
    for account in accounts:
        fund(account, 5_000)
    total = ACCOUNTS * 5_000
    holds = []
    for op in operations:
        try:
            if op[0] in ("transfer", "hold"):
                _, src, dst, amount = op
                transfer = services.transfer_create(
                    source_id=accounts[src].pk,
                    destination_id=accounts[dst].pk,
                    amount=amount,
                    currency="USD",
                    pending=op[0] == "hold",
                    expires_in=timedelta(hours=1) if op[0] == "hold" else None,
                ).transfer
                if op[0] == "hold":
                    holds.append(transfer)
            elif op[0] == "post" and holds:
                hold = holds[op[1] % len(holds)]
                amount = max(1, hold.amount * op[2] // 100) if op[3] else None
                services.hold_post(transfer_id=hold.pk, amount=amount)
            elif op[0] == "void" and holds:
                services.hold_void(transfer_id=holds[op[1] % len(holds)].pk)
            elif op[0] == "expire" and holds:
                services.hold_expire_due(now=holds[-1].expires_at)
        except LedgerError as exc:
            assert exc.code in {"insufficient_funds", "same_account", "invalid_state"}, exc

        fresh = list(Account.objects.filter(pk__in=[a.pk for a in accounts]))
        assert all(a.balance >= 0 and a.available >= 0 for a in fresh)
        assert sum(a.balance for a in fresh) == total  # money only moves between them
        open_holds = [h for h in holds if type(h).objects.get(pk=h.pk).status == TransferStatus.PENDING]
        assert sum(a.pending_debits for a in fresh) == sum(h.amount for h in open_holds)

    with connection.cursor() as cursor:  # fire the deferred balance triggers now, as COMMIT would
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    failed = [result.name for result in ledger_check() if not result.ok]
    assert not failed
