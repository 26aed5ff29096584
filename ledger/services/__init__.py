"""Every write to the ledger: accounts, transfers, holds, reversals.

Each money-moving service runs in one transaction, locks every account it touches
in primary-key order (ledger.locks), re-checks status and funds under the lock,
and writes entries, cached balances and versions together, in a fixed small
number of statements. Services are `transaction.atomic` rather than durable so
that a caller may add its own record to the same commit (the idempotency key of
an API request, the payment a capture belongs to); nested in a caller's
transaction they run in a savepoint, so a refusal leaves the caller's work intact.

The package is split the way the ledger's writes divide: accounts, postings (the one place
that writes entries), batches, holds, corrections and adjustments (four-eyes corrections). Callers
import from `ledger.services`.
"""

from .accounts import (
    SYSTEM_ACCOUNT_KINDS,
    SystemAccount,
    account_create,
    account_status_set,
    account_update,
    system_account_get,
)
from .adjustments import adjustment_approve, adjustment_propose, adjustment_reject
from .batches import MAX_BATCH_ITEMS, BatchItem, BatchResult, batch_chains, transfer_batch_create
from .corrections import transfer_reverse
from .holds import hold_expire_due, hold_post, hold_void
from .legs import transfer_legs_create
from .postings import (
    DEFAULT_HOLD_DURATION,
    MAX_HOLD_DURATION,
    Leg,
    Posting,
    PostingRequest,
    transfer_create,
    transfer_split_create,
)

__all__ = [
    "DEFAULT_HOLD_DURATION",
    "MAX_BATCH_ITEMS",
    "MAX_HOLD_DURATION",
    "SYSTEM_ACCOUNT_KINDS",
    "BatchItem",
    "BatchResult",
    "Leg",
    "Posting",
    "PostingRequest",
    "SystemAccount",
    "account_create",
    "account_status_set",
    "account_update",
    "adjustment_approve",
    "adjustment_propose",
    "adjustment_reject",
    "batch_chains",
    "hold_expire_due",
    "hold_post",
    "hold_void",
    "system_account_get",
    "transfer_batch_create",
    "transfer_create",
    "transfer_legs_create",
    "transfer_reverse",
    "transfer_split_create",
]
