"""One set of rules, two implementations: single postings run in PostgreSQL (ledger_transfer_post, one
round trip) and batches in Python (posting_plan, set-based). Every case runs through both on twin
accounts: the same refusal with the same detail, or the same entries and account totals."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.errors import LedgerError
from ledger.models import Account, AccountKind, AccountStatus, Entry
from ledger.services import BatchItem, PostingRequest, SystemAccount

from .factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    """A posting: its accounts (made twice), who asks, and the request."""

    accounts: list[dict]  # AccountFactory kwargs, plus "fund" and "status"; index 0 is the source
    credits: list[tuple[int, int]]  # (index of the account, amount)
    actor: int | None = 0  # index of the account whose owner asks; None: the platform
    currency: str = "USD"
    pending: bool = False
    missing: set[int] = field(default_factory=set)  # indexes replaced by ids of no account
    system: dict[int, SystemAccount] = field(default_factory=dict)  # indexes that are system accounts


def customer(**kwargs) -> dict:
    return {"fund": 1_000, **kwargs}


CASES: dict[str, Case] = {
    "posted": Case([customer(), customer(accepts_external_transfers=True)], [(1, 300)]),
    "to one's own account": Case([customer(), customer(same_owner=True)], [(1, 1_000)]),
    "insufficient funds": Case([customer(), customer(accepts_external_transfers=True)], [(1, 1_001)]),
    "funds held by a hold": Case([customer(held=600), customer(accepts_external_transfers=True)], [(1, 500)]),
    "currency of the destination": Case(
        [customer(), customer(currency="EUR", fund=0, accepts_external_transfers=True)], [(1, 100)]
    ),
    "currency of the request": Case(
        [customer(), customer(accepts_external_transfers=True)], [(1, 100)], currency="EUR"
    ),
    "frozen destination": Case(
        [customer(), customer(status=AccountStatus.FROZEN, accepts_external_transfers=True)], [(1, 100)]
    ),
    "closed source": Case([customer(status=AccountStatus.CLOSED), customer(same_owner=True)], [(1, 100)]),
    "no such destination": Case([customer(), customer()], [(1, 100)], missing={1}),
    "another customer's source": Case([customer(), customer(same_owner=True)], [(1, 100)], actor=1),
    "destination not accepting transfers": Case([customer(), customer()], [(1, 100)]),
    "a system account as destination": Case(
        [customer(), customer()], [(1, 100)], system={1: SystemAccount.FEES_REVENUE}
    ),
    "hold": Case([customer(), customer(accepts_external_transfers=True)], [(1, 400)], pending=True),
    "hold beyond the available": Case(
        [customer(held=700), customer(accepts_external_transfers=True)], [(1, 400)], pending=True
    ),
    "platform split from an asset account": Case(
        [
            {"kind": AccountKind.ASSET, "allow_negative": True, "owner": None, "fund": 0},
            customer(fund=0),
            customer(fund=0),
        ],
        [(1, 700), (2, 30)],
        actor=None,
    ),
    "platform split, one destination frozen": Case(
        [
            {"kind": AccountKind.ASSET, "allow_negative": True, "owner": None, "fund": 0},
            customer(),
            customer(),
        ],
        [(1, 700), (2, 30)],
        actor=None,
    ),
}
CASES["platform split, one destination frozen"].accounts[2]["status"] = AccountStatus.FROZEN


def _twin(case: Case) -> tuple[list[uuid.UUID], Callable[[uuid.UUID], int], object]:
    """Make the case's accounts; returns their ids, an index lookup and the actor."""
    owner = UserFactory()
    ids: list[uuid.UUID] = []
    for index, spec in enumerate(case.accounts):
        spec = dict(spec)
        amount, held = spec.pop("fund", 0), spec.pop("held", 0)
        status = spec.pop("status", AccountStatus.ACTIVE)
        if spec.pop("same_owner", False) or index == 0:
            spec.setdefault("owner", owner)
        if index in case.system:
            ids.append(services.system_account_get(code=case.system[index], currency="USD").pk)
            continue
        account = AccountFactory(**spec)
        if amount:
            fund(account, amount)
        if held:
            services.transfer_create(
                source_id=account.pk,
                destination_id=services.system_account_get(code=SystemAccount.WORLD, currency="USD").pk,
                amount=held,
                currency="USD",
                pending=True,
            )
        if status != AccountStatus.ACTIVE:
            Account.objects.filter(pk=account.pk).update(status=status)
        ids.append(uuid.uuid4() if index in case.missing else account.pk)
    actor = None
    if case.actor is not None:
        first = Account.objects.get(pk=ids[0])
        actor = first.owner if case.actor == 0 else UserFactory()
    return ids, ids.index, actor


def _request(case: Case, ids: list[uuid.UUID]) -> PostingRequest:
    return PostingRequest(
        source_id=ids[0],
        credits=[(ids[index], amount) for index, amount in case.credits],
        currency=case.currency,
        pending=case.pending,
    )


def _outcome(case: Case, ids: list[uuid.UUID], index_of, result) -> tuple:
    """What happened, with account ids replaced by the case's indexes."""
    if isinstance(result, LedgerError):
        detail = result.detail
        for account_id in ids:
            detail = detail.replace(str(account_id), f"#{index_of(account_id)}")
        return ("refused", result.code, detail)
    transfer, entries = result
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=ids)}
    stored = sorted(
        (index_of(e.account_id), e.amount, e.balance_after) for e in Entry.objects.filter(transfer=transfer)
    )
    returned = sorted((index_of(e.account_id), e.amount, e.balance_after) for e in entries)
    assert stored == returned, "the entries a posting returns are the ones it stored"
    totals = [
        (index_of(pk), a.balance, a.pending_debits, a.pending_credits, a.version)
        for pk, a in accounts.items()
    ]
    return ("created", transfer.status, transfer.amount, stored, sorted(totals))


@pytest.mark.parametrize("name", list(CASES))
def test_a_single_posting_and_a_one_item_batch_agree(name):
    case = CASES[name]

    ids, index_of, actor = _twin(case)
    try:
        posting = services.transfer_split_create(
            source_id=ids[0],
            credits=_request(case, ids).credits,
            currency=case.currency,
            actor=actor,
            pending=case.pending,
        )
        single = _outcome(case, ids, index_of, (posting.transfer, posting.entries))
    except LedgerError as exc:
        single = _outcome(case, ids, index_of, exc)

    ids, index_of, actor = _twin(case)
    [result] = services.transfer_batch_create(items=[BatchItem(_request(case, ids))], actor=actor)
    if result.created:
        batch = _outcome(case, ids, index_of, (result.transfer, result.entries))
    else:
        batch = _outcome(case, ids, index_of, LedgerError(result.code, result.detail))

    assert single == batch
