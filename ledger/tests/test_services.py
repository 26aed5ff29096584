from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.errors import LedgerError
from ledger.models import AccountStatus, Entry, TransferStatus
from ledger.services import SystemAccount
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()


def test_transfer_moves_money_and_writes_balanced_entries():
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 10_000)
    transfer = services.transfer_create(
        source_id=source.pk,
        destination_id=destination.pk,
        amount=2_550,
        currency="USD",
        actor=source.owner,
        description="rent",
    ).transfer
    refresh(source, destination)
    assert (source.balance, destination.balance) == (7_450, 2_550)
    assert transfer.status == TransferStatus.POSTED and transfer.posted_amount == 2_550
    entries = list(Entry.objects.filter(transfer=transfer).order_by("id"))
    assert [(e.account_id, e.amount, e.balance_after) for e in entries] == [
        (source.pk, 2_550, 7_450),
        (destination.pk, -2_550, 2_550),
    ]
    assert source.version == 2 and destination.version == 1


@pytest.mark.django_db(transaction=True)
def test_transfer_uses_a_fixed_number_of_queries(django_assert_num_queries):
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 10_000)
    # BEGIN, ledger_transfer_post (locks, checks, writes the transfer, its entries and both accounts), COMMIT
    with django_assert_num_queries(3):
        services.transfer_create(
            source_id=source.pk, destination_id=destination.pk, amount=100, currency="USD", actor=source.owner
        )


def test_transfer_refuses_more_than_the_available_balance():
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 1_000)
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=source.pk,
            destination_id=destination.pk,
            amount=1_001,
            currency="USD",
            actor=source.owner,
        )
    assert excinfo.value.code == "insufficient_funds"
    refresh(source, destination)
    assert (source.balance, destination.balance) == (1_000, 0)


def test_transfer_refuses_a_currency_mismatch():
    source, destination = AccountFactory(), AccountFactory(currency="EUR", accepts_external_transfers=True)
    fund(source, 1_000)
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=source.pk, destination_id=destination.pk, amount=10, currency="USD", actor=source.owner
        )
    assert excinfo.value.code == "currency_mismatch"


def test_transfer_refuses_the_same_account():
    account = AccountFactory()
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=account.pk, destination_id=account.pk, amount=10, currency="USD", actor=account.owner
        )
    assert excinfo.value.code == "same_account"


@pytest.mark.parametrize("frozen", ["source", "destination"])
def test_transfer_refuses_an_inactive_account(frozen):
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 1_000)
    services.account_status_set(
        account_id=(source if frozen == "source" else destination).pk, status=AccountStatus.FROZEN
    )
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=source.pk, destination_id=destination.pk, amount=10, currency="USD", actor=source.owner
        )
    assert excinfo.value.code == "account_inactive"


def test_transfer_out_of_another_users_account_is_not_found():
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 1_000)
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=source.pk, destination_id=destination.pk, amount=10, currency="USD", actor=UserFactory()
        )
    assert (excinfo.value.code, excinfo.value.status) == ("not_found", 404)


def test_clients_cannot_pay_into_system_accounts():
    source = AccountFactory()
    fund(source, 1_000)
    fees = services.system_account_get(code=SystemAccount.FEES_REVENUE, currency="USD")
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_create(
            source_id=source.pk, destination_id=fees.pk, amount=10, currency="USD", actor=source.owner
        )
    assert excinfo.value.code == "not_found"


def test_system_account_is_created_once_per_currency():
    first = services.system_account_get(code=SystemAccount.CASH, currency="EUR")
    again = services.system_account_get(code=SystemAccount.CASH, currency="EUR")
    other = services.system_account_get(code=SystemAccount.CASH, currency="JPY")
    assert first.pk == again.pk != other.pk
    assert first.allow_negative and first.owner is None


def test_split_transfer_credits_several_accounts_from_one_debit():
    client = AccountFactory()
    clearing = services.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
    fees = services.system_account_get(code=SystemAccount.FEES_REVENUE, currency="USD")
    services.transfer_split_create(
        source_id=clearing.pk,
        credits=[(client.pk, 9_680), (fees.pk, 320)],
        currency="USD",
        kind="payment_capture",
    )
    refresh(client, clearing, fees)
    assert (clearing.balance, client.balance, fees.balance) == (10_000, 9_680, 320)


class TestHolds:
    def hold(self, amount=3_000, funded=10_000, **kwargs):
        source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
        fund(source, funded)
        hold = services.transfer_create(
            source_id=source.pk,
            destination_id=destination.pk,
            amount=amount,
            currency="USD",
            actor=source.owner,
            pending=True,
            **kwargs,
        ).transfer
        return source, destination, hold

    def test_a_hold_reserves_funds_without_moving_them(self):
        source, destination, hold = self.hold()
        refresh(source, destination)
        assert hold.status == TransferStatus.PENDING and not hold.entries.exists()
        assert (source.balance, source.pending_debits, source.available) == (10_000, 3_000, 7_000)
        assert (destination.balance, destination.pending_credits) == (0, 3_000)

    def test_a_hold_cannot_reserve_more_than_is_available(self):
        source, destination, _ = self.hold(amount=8_000)
        with pytest.raises(LedgerError) as excinfo:
            services.transfer_create(
                source_id=source.pk,
                destination_id=destination.pk,
                amount=2_001,
                currency="USD",
                actor=source.owner,
                pending=True,
            )
        assert excinfo.value.code == "insufficient_funds"

    def test_posting_a_hold_moves_the_money_and_releases_the_reservation(self):
        source, destination, hold = self.hold()
        services.hold_post(transfer_id=hold.pk, actor=source.owner)
        refresh(source, destination, hold)
        assert hold.status == TransferStatus.POSTED and hold.posted_amount == 3_000
        assert (source.balance, source.pending_debits) == (7_000, 0)
        assert (destination.balance, destination.pending_credits) == (3_000, 0)

    def test_partial_post_moves_less_and_releases_the_rest(self):
        source, destination, hold = self.hold()
        services.hold_post(transfer_id=hold.pk, amount=1_200)
        refresh(source, destination, hold)
        assert (hold.amount, hold.posted_amount) == (3_000, 1_200)
        assert (source.balance, source.pending_debits, destination.balance) == (8_800, 0, 1_200)

    def test_posting_more_than_held_is_refused(self):
        _, _, hold = self.hold()
        with pytest.raises(LedgerError) as excinfo:
            services.hold_post(transfer_id=hold.pk, amount=3_001)
        assert excinfo.value.code == "amount_exceeds_hold"

    def test_voiding_releases_the_funds(self):
        source, destination, hold = self.hold()
        services.hold_void(transfer_id=hold.pk)
        refresh(source, destination, hold)
        assert hold.status == TransferStatus.VOIDED
        assert (source.balance, source.available, destination.pending_credits) == (10_000, 10_000, 0)

    @pytest.mark.parametrize("finish", [services.hold_post, services.hold_void])
    def test_a_finished_hold_cannot_be_finished_again(self, finish):
        _, _, hold = self.hold()
        services.hold_void(transfer_id=hold.pk)
        with pytest.raises(LedgerError) as excinfo:
            finish(transfer_id=hold.pk)
        assert excinfo.value.code == "invalid_state"

    def test_due_holds_expire_and_expired_holds_cannot_be_posted(self):
        source, _, hold = self.hold(expires_in=timedelta(seconds=60))
        _, _, later = self.hold(expires_in=timedelta(hours=1))
        future = timezone.now() + timedelta(minutes=5)
        assert services.hold_expire_due(now=future) == 1
        refresh(source, hold, later)
        assert (hold.status, later.status) == (TransferStatus.EXPIRED, TransferStatus.PENDING)
        assert source.pending_debits == 0
        with pytest.raises(LedgerError) as excinfo:
            services.hold_post(transfer_id=hold.pk)
        assert excinfo.value.code == "invalid_state"

    def test_posting_after_expires_at_fails_even_before_the_sweep(self):
        _, _, hold = self.hold(expires_in=timedelta(seconds=1))
        with pytest.raises(LedgerError) as excinfo:
            _post_later(hold)  # the expiry sweep has not run yet
        assert excinfo.value.code == "hold_expired"
        hold.refresh_from_db()
        assert hold.status == TransferStatus.PENDING

    def test_only_the_holds_creator_may_post_it(self):
        _, destination, hold = self.hold()
        with pytest.raises(LedgerError) as excinfo:
            services.hold_post(transfer_id=hold.pk, actor=destination.owner)
        assert excinfo.value.code == "not_found"


def _post_later(hold):
    from unittest import mock

    later = hold.expires_at + timedelta(seconds=1)
    with mock.patch("ledger.services.holds.timezone.now", return_value=later):
        return services.hold_post(transfer_id=hold.pk).transfer


def test_reversal_negates_every_entry_and_only_once():
    source, destination = AccountFactory(), AccountFactory(accepts_external_transfers=True)
    fund(source, 5_000)
    transfer = services.transfer_create(
        source_id=source.pk, destination_id=destination.pk, amount=2_000, currency="USD"
    ).transfer
    reversal = services.transfer_reverse(transfer_id=transfer.pk, description="sent by mistake").transfer
    refresh(source, destination)
    assert (source.balance, destination.balance) == (5_000, 0)
    assert reversal.reverses_id == transfer.pk and reversal.kind == "reversal"
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_reverse(transfer_id=transfer.pk)
    assert excinfo.value.code == "invalid_state"


def test_reversal_refuses_to_overdraw_the_account_that_received_the_money():
    source, destination, third = (
        AccountFactory(),
        AccountFactory(accepts_external_transfers=True),
        AccountFactory(accepts_external_transfers=True),
    )
    fund(source, 5_000)
    transfer = services.transfer_create(
        source_id=source.pk, destination_id=destination.pk, amount=2_000, currency="USD"
    ).transfer
    services.transfer_create(source_id=destination.pk, destination_id=third.pk, amount=1_500, currency="USD")
    with pytest.raises(LedgerError) as excinfo:
        services.transfer_reverse(transfer_id=transfer.pk)
    assert excinfo.value.code == "insufficient_funds"


def test_a_closed_account_needs_a_zero_balance():
    account = AccountFactory()
    fund(account, 100)
    with pytest.raises(LedgerError) as excinfo:
        services.account_status_set(account_id=account.pk, status=AccountStatus.CLOSED)
    assert excinfo.value.code == "invalid_state"


def test_a_client_credits_another_customers_account_only_if_it_accepts_external_transfers():
    source, destination = AccountFactory(), AccountFactory()
    fund(source, 1_000)
    kwargs = {"source_id": source.pk, "destination_id": destination.pk, "amount": 10, "currency": "USD"}
    with pytest.raises(LedgerError) as refused:
        services.transfer_create(**kwargs, actor=source.owner)
    assert refused.value.code == "not_found" and refused.value.status == 404
    services.transfer_create(**kwargs)  # the platform itself (actor None) is not bound by the opt-in
    services.account_update(
        user=destination.owner, account_id=destination.pk, accepts_external_transfers=True
    )
    services.transfer_create(**kwargs, actor=source.owner)
    destination.refresh_from_db()
    assert destination.balance == 20


def test_only_the_owner_updates_an_account():
    account = AccountFactory()
    with pytest.raises(LedgerError) as refused:
        services.account_update(user=UserFactory(), account_id=account.pk, accepts_external_transfers=True)
    assert refused.value.code == "not_found"
    account.refresh_from_db()
    assert account.accepts_external_transfers is False
