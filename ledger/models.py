"""Ledger tables: accounts, transfers (business events), entries (posting lines).

No business logic here: every write goes through ledger.services. The database
enforces what it can on its own: CHECK and UNIQUE constraints below, and the
triggers in migrations/sql/ (append-only history, balanced transfers).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


DEBIT_NORMAL_KINDS = frozenset({AccountKind.ASSET, AccountKind.EXPENSE})


class AccountStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    FROZEN = "frozen", "Frozen"
    CLOSED = "closed", "Closed"


class Account(models.Model):
    """A ledger account in one currency. `balance` is on the account's normal side.

    Customer accounts are liabilities of the platform (credit-normal): a credit raises
    their balance, a debit lowers it, and they may never go below zero.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_accounts",
    )
    name = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=10, choices=AccountKind.choices, default=AccountKind.LIABILITY)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    allow_negative = models.BooleanField(default=False)
    accepts_external_transfers = models.BooleanField(
        default=False,
        help_text="Whether other customers may push transfers into this account (set by its owner).",
    )
    system_code = models.CharField(  # noqa: DJ001 — NULL keeps customer accounts out of the unique index
        max_length=40,
        null=True,
        blank=True,
        help_text="Set on system accounts only, e.g. provider_clearing.",
    )
    balance = models.BigIntegerField(default=0)
    pending_debits = models.BigIntegerField(default=0)
    pending_credits = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="ledger_account_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(pending_debits__gte=0) & Q(pending_credits__gte=0),
                name="ledger_account_pending_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(allow_negative=True)
                | (Q(balance__gte=0) & Q(kind__in=["asset", "expense"], balance__gte=F("pending_credits")))
                | (
                    Q(balance__gte=0)
                    & ~Q(kind__in=["asset", "expense"])
                    & Q(balance__gte=F("pending_debits"))
                ),
                name="ledger_account_no_overdraft",
            ),
            models.CheckConstraint(
                condition=Q(system_code__isnull=True) | Q(owner__isnull=True),
                name="ledger_account_system_has_no_owner",
            ),
            models.UniqueConstraint(
                fields=["system_code", "currency"],
                condition=Q(system_code__isnull=False),
                name="ledger_account_one_system_account_per_currency",
            ),
        ]
        indexes = [models.Index(fields=["owner", "created_at"], name="ledger_acct_owner_created")]

    def __str__(self) -> str:
        label = self.system_code or self.name or str(self.id)
        return f"{label} ({self.currency})"

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL_KINDS

    @property
    def normal_sign(self) -> int:
        """+1 when a debit raises the balance (assets, expenses), -1 otherwise."""
        return 1 if self.is_debit_normal else -1

    @property
    def available(self) -> int:
        """Balance minus what pending holds have reserved to leave the account."""
        reserved = self.pending_credits if self.is_debit_normal else self.pending_debits
        return self.balance - reserved


class TransferKind(models.TextChoices):
    TRANSFER = "transfer", "Transfer"
    DEPOSIT = "deposit", "Deposit"
    PAYMENT_CAPTURE = "payment_capture", "Payment capture"
    REFUND = "refund", "Refund"
    SETTLEMENT = "settlement", "Settlement"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"


class TransferStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    POSTED = "posted", "Posted"
    VOIDED = "voided", "Voided"
    EXPIRED = "expired", "Expired"


class Transfer(models.Model):
    """One balanced business event. A pending transfer is a hold: it reserves, moves nothing,
    and has no entries until it is posted (then `posted_amount` ≤ `amount` moves)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=TransferKind.choices, default=TransferKind.TRANSFER)
    status = models.CharField(max_length=10, choices=TransferStatus.choices)
    amount = models.BigIntegerField()
    posted_amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    source = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="debit_transfers", help_text="The account debited."
    )
    destination = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="credit_transfers",
        help_text="The main account credited.",
    )
    description = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    cause = models.CharField(
        max_length=100,
        blank=True,
        help_text="What caused it, e.g. payment:<id>, hold:<id>, discrepancy:<id>.",
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    posted_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(
        null=True, blank=True, help_text="When a hold was posted, voided or expired."
    )
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_transfer_amount_positive"),
            models.CheckConstraint(
                condition=Q(posted_amount__isnull=True)
                | (Q(posted_amount__gt=0) & Q(posted_amount__lte=F("amount"))),
                name="ledger_transfer_posted_amount_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(status=TransferStatus.POSTED)
                | Q(posted_amount__isnull=False, posted_at__isnull=False),
                name="ledger_transfer_posted_has_amount",
            ),
            # A payment is captured, a refund taken, a payout settled and an adjustment approved into the
            # ledger once: their cause is unique.
            models.UniqueConstraint(
                fields=["kind", "cause"],
                condition=Q(kind__in=["payment_capture", "refund", "settlement", "adjustment"])
                & ~Q(cause=""),
                name="ledger_transfer_one_posting_per_cause",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "expires_at"],
                name="ledger_transfer_hold_due",
                condition=Q(status=TransferStatus.PENDING),
            ),
            models.Index(fields=["source", "-created_at"], name="ledger_transfer_source"),
            models.Index(fields=["destination", "-created_at"], name="ledger_transfer_destination"),
            models.Index(fields=["cause"], name="ledger_transfer_cause"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class Entry(models.Model):
    """One posting line. `amount` is signed: positive debits, negative credits; a transfer's
    entries sum to zero. `balance_after` is the account's normal-side balance after it."""

    id = models.BigAutoField(primary_key=True)
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_non_zero")]
        indexes = [
            models.Index(fields=["account", "-id"], name="ledger_entry_account_id"),
            models.Index(fields=["account", "created_at"], name="ledger_entry_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} on {self.account_id}"


class AdjustmentStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Adjustment(models.Model):
    """A ledger correction under four eyes: one person proposes it, another approves or rejects it.

    Approval posts exactly one transfer of kind adjustment (debit `debit_account`, credit
    `credit_account`); rejection posts nothing. The constraints below and the guard trigger in
    migrations/sql/ keep a decision final and the decider different from the proposer, whatever
    code writes the row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=255)
    cause = models.CharField(max_length=100, blank=True, help_text="What it corrects, e.g. discrepancy:<id>.")
    status = models.CharField(
        max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjustments_proposed"
    )
    proposed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_adjustment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")), name="ledger_adjustment_two_accounts"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="ledger_adjustment_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(
                    status=AdjustmentStatus.PROPOSED,
                    decided_by__isnull=True,
                    decided_at__isnull=True,
                    transfer__isnull=True,
                )
                | Q(
                    status=AdjustmentStatus.APPROVED,
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                    transfer__isnull=False,
                )
                | Q(
                    status=AdjustmentStatus.REJECTED,
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                    transfer__isnull=True,
                ),
                name="ledger_adjustment_status_consistent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "proposed_at"], name="ledger_adjustment_status"),
            models.Index(fields=["cause"], name="ledger_adjustment_cause"),
        ]

    def __str__(self) -> str:
        return f"adjustment {self.id} ({self.status})"
