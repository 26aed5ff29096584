"""Four-eyes adjustments: proposed by one person, decided by another, posted once on approval."""

from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import FINANCE_APPROVER_GROUP, User
from accounts.tests.factories import UserFactory
from core.testing import run_in_threads
from ledger import services
from ledger.errors import LedgerError
from ledger.models import Adjustment, AdjustmentStatus, Entry, Transfer, TransferKind
from ledger.services import SystemAccount


def approver_user() -> User:
    user = UserFactory()
    group, _ = Group.objects.get_or_create(name=FINANCE_APPROVER_GROUP)
    user.groups.add(group)
    return user


def propose(proposer: User, amount: int = 1_250) -> Adjustment:
    suspense = services.system_account_get(code=SystemAccount.SUSPENSE, currency="USD")
    clearing = services.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
    return services.adjustment_propose(
        proposed_by=proposer,
        debit_account_id=clearing.pk,
        credit_account_id=suspense.pk,
        amount=amount,
        currency="USD",
        reason="Provider settled more than we captured",
        cause="discrepancy:test",
    )


@pytest.mark.django_db
def test_proposing_posts_nothing():
    adjustment = propose(UserFactory())
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()


@pytest.mark.django_db
def test_self_approval_is_refused_by_the_service_even_for_an_approver():
    proposer = approver_user()
    adjustment = propose(proposer)
    with pytest.raises(LedgerError) as refused:
        services.adjustment_approve(adjustment_id=adjustment.pk, approver=proposer)
    assert refused.value.code == "self_approval"
    with pytest.raises(LedgerError) as refused:
        services.adjustment_reject(adjustment_id=adjustment.pk, approver=proposer, note="no")
    assert refused.value.code == "self_approval"
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()


@pytest.mark.django_db
def test_self_decision_is_refused_by_the_database():
    adjustment = propose(UserFactory())
    with (
        pytest.raises(IntegrityError, match="ledger_adjustment_four_eyes"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE ledger_adjustment SET status = 'rejected', decided_by_id = proposed_by_id,"
            " decided_at = now() WHERE id = %s",
            [adjustment.pk],
        )
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED


@pytest.mark.django_db
def test_the_database_refuses_an_approval_without_its_transfer():
    adjustment = propose(UserFactory())
    other = approver_user()
    with pytest.raises(IntegrityError, match="ledger_adjustment_status_consistent"), transaction.atomic():
        Adjustment.objects.filter(pk=adjustment.pk).update(
            status=AdjustmentStatus.APPROVED, decided_by=other, decided_at=timezone.now()
        )


@pytest.mark.django_db
def test_a_user_outside_finance_approver_cannot_decide():
    adjustment = propose(UserFactory())
    with pytest.raises(LedgerError) as refused:
        services.adjustment_approve(adjustment_id=adjustment.pk, approver=UserFactory())
    assert refused.value.code == "not_an_approver"


@pytest.mark.django_db
def test_rejection_posts_nothing_and_is_final():
    adjustment = propose(UserFactory())
    approver = approver_user()
    with pytest.raises(LedgerError) as refused:
        services.adjustment_reject(adjustment_id=adjustment.pk, approver=approver, note="  ")
    assert refused.value.code == "validation_error"
    rejected = services.adjustment_reject(adjustment_id=adjustment.pk, approver=approver, note="Duplicate")
    assert rejected.status == AdjustmentStatus.REJECTED
    assert rejected.decided_by == approver
    assert rejected.transfer is None
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()
    with pytest.raises(LedgerError) as refused:
        services.adjustment_approve(adjustment_id=adjustment.pk, approver=approver_user())
    assert refused.value.code == "adjustment_already_decided"
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()


@pytest.mark.django_db
def test_a_decided_adjustment_cannot_be_edited_or_deleted_in_the_database():
    adjustment = services.adjustment_reject(
        adjustment_id=propose(UserFactory()).pk, approver=approver_user(), note="No"
    )
    for statement in (
        "UPDATE ledger_adjustment SET decision_note = 'changed' WHERE id = %s",
        "DELETE FROM ledger_adjustment WHERE id = %s",
    ):
        with (
            pytest.raises(IntegrityError, match="adjustment"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [adjustment.pk])


@pytest.mark.django_db
def test_proposal_input_is_checked():
    proposer = UserFactory()
    usd = services.system_account_get(code=SystemAccount.SUSPENSE, currency="USD")
    eur = services.system_account_get(code=SystemAccount.SUSPENSE, currency="EUR")
    clearing = services.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
    cases = [
        ({"amount": 0}, "validation_error"),
        ({"amount": -5}, "validation_error"),
        ({"reason": " "}, "validation_error"),
        ({"credit_account_id": clearing.pk}, "same_account"),
        ({"credit_account_id": eur.pk}, "currency_mismatch"),
    ]
    for override, code in cases:
        kwargs = {
            "proposed_by": proposer,
            "debit_account_id": clearing.pk,
            "credit_account_id": usd.pk,
            "amount": 100,
            "currency": "USD",
            "reason": "r",
            **override,
        }
        with pytest.raises(LedgerError) as refused:
            services.adjustment_propose(**kwargs)
        assert refused.value.code == code, override
    assert not Adjustment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_approval_posts_exactly_one_balanced_adjustment_transfer():
    adjustment = propose(UserFactory(), amount=1_250)
    approved = services.adjustment_approve(adjustment_id=adjustment.pk, approver=approver_user(), note="ok")
    assert approved.status == AdjustmentStatus.APPROVED
    transfer = Transfer.objects.get(kind=TransferKind.ADJUSTMENT)
    assert approved.transfer == transfer
    assert transfer.cause == f"adjustment:{adjustment.pk}"
    entries = {e.account_id: e.amount for e in Entry.objects.filter(transfer=transfer)}
    assert entries == {adjustment.debit_account_id: 1_250, adjustment.credit_account_id: -1_250}
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_post_once():
    adjustment = propose(UserFactory())
    approvers = [approver_user() for _ in range(2)]

    def decide(i: int) -> str:
        try:
            services.adjustment_approve(adjustment_id=adjustment.pk, approver=approvers[i])
            return "approved"
        except LedgerError as exc:
            return exc.code

    outcomes = Counter(run_in_threads(2, decide))
    assert outcomes == {"approved": 1, "adjustment_already_decided": 1}
    assert Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).count() == 1
    adjustment.refresh_from_db()
    assert adjustment.decided_by in approvers
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_an_approval_and_a_rejection_at_once_leave_one_decision():
    adjustment = propose(UserFactory())
    approvers = [approver_user() for _ in range(2)]

    def decide(i: int) -> str:
        try:
            if i == 0:
                services.adjustment_approve(adjustment_id=adjustment.pk, approver=approvers[0])
                return "approved"
            services.adjustment_reject(adjustment_id=adjustment.pk, approver=approvers[1], note="no")
            return "rejected"
        except LedgerError as exc:
            return exc.code

    outcomes = Counter(run_in_threads(2, decide))
    assert outcomes["adjustment_already_decided"] == 1
    adjustment.refresh_from_db()
    posted = Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).count()
    assert posted == (1 if adjustment.status == AdjustmentStatus.APPROVED else 0)
    call_command("check_ledger")


@pytest.mark.django_db(transaction=True)
def test_approval_inside_an_outer_transaction_rolls_back_with_it():
    adjustment = propose(UserFactory())
    approver = approver_user()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.adjustment_approve(adjustment_id=adjustment.pk, approver=approver)
        raise Abort
    adjustment.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not Transfer.objects.filter(kind=TransferKind.ADJUSTMENT).exists()


@pytest.mark.django_db(transaction=True)
def test_a_transfer_of_several_legs_balances_and_refuses_legs_that_do_not():
    cash = services.system_account_get(code=SystemAccount.CASH, currency="USD")
    fees = services.system_account_get(code=SystemAccount.PROVIDER_FEES, currency="USD")
    clearing = services.system_account_get(code=SystemAccount.PROVIDER_CLEARING, currency="USD")
    with pytest.raises(LedgerError) as refused:
        services.transfer_legs_create(
            legs=[services.Leg(cash.pk, 970), services.Leg(clearing.pk, -1_000)],
            currency="USD",
            kind=TransferKind.SETTLEMENT,
        )
    assert refused.value.code == "validation_error"
    transfer = services.transfer_legs_create(
        legs=[
            services.Leg(cash.pk, 900),
            services.Leg(cash.pk, 70),  # legs on one account are netted
            services.Leg(fees.pk, 30),
            services.Leg(clearing.pk, -1_000),
        ],
        currency="USD",
        kind=TransferKind.SETTLEMENT,
        cause="settlement:test:1",
    ).transfer
    assert (transfer.source_id, transfer.destination_id, transfer.amount) == (cash.pk, clearing.pk, 1_000)
    entries = {e.account_id: e.amount for e in Entry.objects.filter(transfer=transfer)}
    assert entries == {cash.pk: 970, fees.pk: 30, clearing.pk: -1_000}
    with pytest.raises(IntegrityError):  # a settlement's cause is unique, like a capture's
        services.transfer_legs_create(
            legs=[services.Leg(cash.pk, 5), services.Leg(clearing.pk, -5)],
            currency="USD",
            kind=TransferKind.SETTLEMENT,
            cause="settlement:test:1",
        )
    call_command("check_ledger")
