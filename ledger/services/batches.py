"""Batches of transfers with linked chains, posted set-based: one lock, one statement per table.

Driven by POST /api/v1/transfers/batch (payroll runs, marketplace splits, sweeps). Chains follow
TigerBeetle's linked events: an item with `linked` is chained to the next one, a chain ends at the
first item without the flag, and it succeeds or fails as a whole. Chains and lone items succeed or
fail independently, in order.

How it stays correct and cheap:
1. Every account of the batch is locked once, all together, in the one global order
   (ledger.locks.accounts_lock), so overlapping batches and single transfers never deadlock.
2. Items are checked in order against the running balances in memory, by the same `posting_plan`
   that single transfers use. A refused item puts its chain's accounts back as they were before
   the chain, so a failed chain leaves no trace: nothing of it reaches the database.
3. What succeeded is written by one statement (new transfers, entries and account totals:
   `writes.postings_write`), in the caller's transaction; the same constraints and deferred triggers check it at
   commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from accounts.models import User

from .. import locks
from ..errors import LedgerError
from ..models import Entry, Transfer
from .postings import PostingRequest, accounts_restore, accounts_snapshot, posting_plan
from .writes import postings_write

MAX_BATCH_ITEMS = 1_000
LINKED_EVENT_FAILED = "linked_event_failed"


@dataclass(frozen=True)
class BatchItem:
    """One transfer of a batch; `linked` chains it to the next item."""

    posting: PostingRequest
    linked: bool = False


@dataclass
class BatchResult:
    """The outcome of one item: its transfer, or the code and detail of its refusal."""

    index: int
    transfer: Transfer | None = None
    entries: list[Entry] = field(default_factory=list)
    code: str = ""
    detail: str = ""

    @property
    def created(self) -> bool:
        return self.transfer is not None


def batch_chains(items: list[BatchItem]) -> list[range]:
    """The index ranges of the chains: a chain runs to the first item without `linked`.

    A batch whose last item is linked leaves its chain open: refused as a whole.
    """
    if items and items[-1].linked:
        raise LedgerError(
            "linked_chain_open",
            f"Item {len(items) - 1} is linked but is the last item: a chain must end with an unlinked item.",
            status=400,
            errors={f"transfers.{len(items) - 1}.linked": ["The last item of a batch cannot be linked."]},
        )
    chains, start = [], 0
    for index, item in enumerate(items):
        if not item.linked:
            chains.append(range(start, index + 1))
            start = index + 1
    return chains


@transaction.atomic
def transfer_batch_create(*, items: list[BatchItem], actor: User | None = None) -> list[BatchResult]:
    """Post each chain of the batch, or refuse it, in order; one result per item, in order.

    Refused as a whole (LedgerError, nothing written) only for an empty or oversized batch or an
    open chain; business refusals (funds, status, currency, another user's account) are results.
    """
    if not 1 <= len(items) <= MAX_BATCH_ITEMS:
        raise LedgerError("validation_error", f"A batch has 1 to {MAX_BATCH_ITEMS} transfers.", status=400)
    chains = batch_chains(items)
    results = [BatchResult(index=index) for index in range(len(items))]

    ids = {account_id for item in items for account_id in item.posting.account_ids}
    accounts = locks.accounts_lock(ids)
    now = timezone.now()
    transfers: list[Transfer] = []
    entries: list[Entry] = []
    touched: set[UUID] = set()
    for chain in chains:
        chain_ids = {account_id for index in chain for account_id in items[index].posting.account_ids}
        saved = accounts_snapshot(accounts, chain_ids)
        planned: list[tuple[int, Transfer, list[Entry]]] = []
        failure: tuple[int, LedgerError] | None = None
        for index in chain:
            try:
                items[index].posting.validate()
                transfer, transfer_entries = posting_plan(
                    posting=items[index].posting, accounts=accounts, actor=actor, now=now
                )
            except LedgerError as exc:
                failure = (index, exc)
                break
            planned.append((index, transfer, transfer_entries))
        if failure is not None:
            accounts_restore(accounts, saved)
            _fail_chain(results, chain, *failure)
            continue
        touched |= chain_ids
        for index, transfer, transfer_entries in planned:
            results[index].transfer, results[index].entries = transfer, transfer_entries
            transfers.append(transfer)
            entries.extend(transfer_entries)

    if transfers:
        postings_write(
            transfers=transfers,
            entries=entries,
            accounts=[accounts[account_id] for account_id in sorted(touched)],
        )
    return results


def _fail_chain(results: list[BatchResult], chain: range, failed: int, exc: LedgerError) -> None:
    for index in chain:
        if index == failed:
            results[index].code, results[index].detail = exc.code, exc.detail
        else:
            results[index].code = LINKED_EVENT_FAILED
            results[index].detail = f"Item {failed} of this linked chain failed ({exc.code})."
