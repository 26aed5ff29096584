"""Real threads, real commits: the ledger under contention never overdraws, deadlocks or loses money."""

from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.testing import run_in_threads
from ledger import services
from ledger.errors import LedgerError
from ledger.models import Account, Entry, Transfer
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db(transaction=True)


def attempt(**kwargs) -> str:
    try:
        services.transfer_create(**kwargs)
        return "ok"
    except LedgerError as exc:
        return exc.code


def customer_total() -> int:
    return Account.objects.filter(owner__isnull=False).aggregate(total=Sum("balance"))["total"]


def test_concurrent_transfers_never_overdraw_the_hot_source():
    hot = AccountFactory()
    destinations = [AccountFactory(accepts_external_transfers=True) for _ in range(10)]
    fund(hot, 3_000)  # enough for 30 transfers of 1.00
    total_before = customer_total()

    outcomes = Counter(
        run_in_threads(
            100,
            lambda i: attempt(
                source_id=hot.pk,
                destination_id=destinations[i % 10].pk,
                amount=100,
                currency="USD",
                actor=hot.owner,
            ),
        )
    )

    assert outcomes == {"ok": 30, "insufficient_funds": 70}
    hot.refresh_from_db()
    assert hot.balance == 0
    assert not Entry.objects.filter(account=hot, balance_after__lt=0).exists()
    assert hot.version == 1 + 30
    assert customer_total() == total_before
    assert Transfer.objects.filter(source=hot).count() == 30
    call_command("check_ledger")


def test_crossing_transfers_between_two_accounts_do_not_deadlock():
    a, b = AccountFactory(accepts_external_transfers=True), AccountFactory(accepts_external_transfers=True)
    fund(a, 10_000)
    fund(b, 10_000)

    def cross(i):
        source, destination = (a, b) if i % 2 else (b, a)
        return attempt(source_id=source.pk, destination_id=destination.pk, amount=10 + i, currency="USD")

    outcomes = Counter(run_in_threads(60, cross))

    assert outcomes == {"ok": 60}  # a deadlock would surface as an OperationalError, failing the thread
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.balance + b.balance == 20_000
    sent_by_a = sum(10 + i for i in range(60) if i % 2)
    sent_by_b = sum(10 + i for i in range(60) if not i % 2)
    assert a.balance == 10_000 - sent_by_a + sent_by_b
    call_command("check_ledger")


def test_concurrent_holds_and_posts_keep_the_reservation_exact():
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 5_000)
    holds = [
        services.transfer_create(
            source_id=source.pk, destination_id=destination.pk, amount=100, currency="USD", pending=True
        ).transfer
        for _ in range(40)
    ]

    def finish(i):
        try:
            (services.hold_post if i % 2 else services.hold_void)(transfer_id=holds[i // 2].pk)
            return "ok"
        except LedgerError as exc:
            return exc.code

    # Two threads race on each hold: one posts, one voids; exactly one of them wins.
    outcomes = Counter(run_in_threads(80, finish))
    assert outcomes == {"ok": 40, "invalid_state": 40}
    source.refresh_from_db()
    assert source.pending_debits == 0
    posted = Transfer.objects.filter(pk__in=[h.pk for h in holds], status="posted").count()
    assert source.balance == 5_000 - 100 * posted
    call_command("check_ledger")
