"""The batch service: set-based posting of chains, and overlapping batches from many threads."""

import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.testing import run_in_threads
from ledger import services
from ledger.errors import LedgerError
from ledger.models import Account, Entry, Transfer
from ledger.services import BatchItem, PostingRequest
from ledger.tests.factories import AccountFactory, fund


def transfer(source, destination, amount: int, *, linked: bool = False) -> BatchItem:
    return BatchItem(
        posting=PostingRequest(source_id=source.pk, credits=[(destination.pk, amount)], currency="USD"),
        linked=linked,
    )


def customer_total() -> int:
    return Account.objects.filter(owner__isnull=False).aggregate(total=Sum("balance"))["total"]


@pytest.mark.django_db
class TestService:
    def test_chains_end_at_the_first_unlinked_item(self):
        a, b = AccountFactory.build(), AccountFactory.build()
        items = [transfer(a, b, 1, linked=flag) for flag in (False, True, True, False, True, False)]
        assert services.batch_chains(items) == [range(0, 1), range(1, 4), range(4, 6)]

    def test_an_open_chain_is_refused_before_anything_is_locked(self):
        a, b = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(a, 100)
        with pytest.raises(LedgerError) as refused:
            services.transfer_batch_create(items=[transfer(a, b, 1), transfer(a, b, 1, linked=True)])
        assert refused.value.code == "linked_chain_open" and refused.value.status == 400
        assert not Transfer.objects.filter(source=a).exists()

    @pytest.mark.parametrize("n", [0, services.MAX_BATCH_ITEMS + 1])
    def test_a_batch_has_1_to_1000_items(self, n):
        a, b = AccountFactory.build(), AccountFactory.build()
        with pytest.raises(LedgerError) as refused:
            services.transfer_batch_create(items=[transfer(a, b, 1)] * n)
        assert refused.value.code == "validation_error"

    def test_a_failed_chain_gives_back_what_its_earlier_members_took(self):
        source, a, b = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(source, 100)
        results = services.transfer_batch_create(
            items=[transfer(source, a, 80, linked=True), transfer(source, b, 30), transfer(source, b, 100)]
        )
        assert [(r.created, r.code) for r in results] == [
            (False, "linked_event_failed"),
            (False, "insufficient_funds"),
            (True, ""),
        ]
        source.refresh_from_db()
        assert source.balance == 0 and source.version == 2  # the deposit, then the one created transfer
        entry = Entry.objects.get(account=source, amount__gt=0)
        assert entry.balance_after == 0 and entry.transfer_id == results[2].transfer.pk

    def test_each_entry_records_the_running_balance(self):
        source, destination = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(source, 1_000)
        services.transfer_batch_create(items=[transfer(source, destination, n) for n in (100, 200, 300)])
        assert list(
            Entry.objects.filter(account=destination).order_by("id").values_list("balance_after", flat=True)
        ) == [100, 300, 600]
        source.refresh_from_db()
        assert source.balance == 400 and source.version == 4
        call_command("check_ledger")

    def test_holds_in_a_batch_reserve_against_later_items(self):
        source, destination = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(source, 100)
        hold = BatchItem(
            posting=PostingRequest(
                source_id=source.pk, credits=[(destination.pk, 70)], currency="USD", pending=True
            )
        )
        results = services.transfer_batch_create(items=[hold, transfer(source, destination, 40)])
        assert [(r.created, r.code) for r in results] == [(True, ""), (False, "insufficient_funds")]
        source.refresh_from_db()
        destination.refresh_from_db()
        assert (source.balance, source.pending_debits, destination.pending_credits) == (100, 70, 70)


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_concurrent_overlapping_batches_never_deadlock_nor_overdraw(self):
        accounts = [AccountFactory(accepts_external_transfers=True) for _ in range(8)]
        for account in accounts:
            fund(account, 2_000)
        total_before = customer_total()

        def batch(i: int) -> list[tuple[bool, str]]:
            rng = random.Random(i)
            items = []
            for n in range(20):
                source, destination = rng.sample(accounts, 2)
                items.append(transfer(source, destination, rng.randint(50, 400), linked=n % 5 < 2))
            results = services.transfer_batch_create(items=items)
            return [(r.created, r.code) for r in results]

        outcomes = run_in_threads(
            16, batch
        )  # a deadlock raises OperationalError in its thread: the test fails

        counts = Counter(code for results in outcomes for _, code in results)
        created = sum(ok for results in outcomes for ok, _ in results)
        assert set(counts) <= {"", "insufficient_funds", "linked_event_failed"}
        assert created == Transfer.objects.filter(kind="transfer").count() > 0
        assert counts["insufficient_funds"] > 0  # the accounts ran dry: the funds check was exercised
        assert customer_total() == total_before
        assert not Account.objects.filter(balance__lt=0).filter(owner__isnull=False).exists()
        assert not Entry.objects.filter(balance_after__lt=0, account__owner__isnull=False).exists()
        for account in accounts:
            account.refresh_from_db()
            entries = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"]
            assert account.balance == -entries  # credit-normal: the balance is minus the entries' sum
            assert account.version == Entry.objects.filter(account=account).count()
        call_command("check_ledger")

    def test_batches_and_single_transfers_draining_one_account_stop_at_exactly_zero(self):
        hot = AccountFactory(accepts_external_transfers=True)
        destinations = [AccountFactory(accepts_external_transfers=True) for _ in range(4)]
        fund(hot, 1_000)

        def drain(i: int) -> Counter:
            if i % 2:
                try:
                    services.transfer_create(
                        source_id=hot.pk, destination_id=destinations[i % 4].pk, amount=30, currency="USD"
                    )
                    return Counter({"": 1})
                except LedgerError as exc:
                    return Counter({exc.code: 1})
            results = services.transfer_batch_create(
                items=[transfer(hot, destinations[n % 4], 30) for n in range(5)]
            )
            return Counter(r.code for r in results)

        outcomes = sum(run_in_threads(16, drain), Counter())
        assert outcomes == {"": 33, "insufficient_funds": 8 * 5 + 8 - 33}
        hot.refresh_from_db()
        assert hot.balance == 10 and hot.version == 1 + 33
        assert Transfer.objects.filter(source=hot).count() == 33
        call_command("check_ledger")
