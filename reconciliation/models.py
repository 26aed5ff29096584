"""Settlement reports as imported, reconciliation runs, matches and discrepancies.

No business logic here: reconciliation.services owns every write. The database keeps the history
honest on its own: report lines and reports are append-only, a match is written once (only its
settlement may be recorded later), a line and a ledger posting are each matched at most once, a
discrepancy is found once per day, class and key, and a closed one stays closed (triggers in
migrations/sql/).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReportSource(models.TextChoices):
    API = "api", "Provider API"
    FILE = "file", "File"


class SettlementReport(models.Model):
    """One version of a provider's settlement report for one day, as imported (immutable)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=40)
    day = models.DateField()
    version = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64, help_text="sha256 of the file's bytes.")
    source = models.CharField(max_length=4, choices=ReportSource.choices)
    size = models.BigIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField()
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [
            # The provider numbers the versions it publishes; files given by hand are numbered apart.
            models.UniqueConstraint(
                fields=["provider", "day", "source", "version"], name="reconciliation_report_one_per_version"
            ),
            models.UniqueConstraint(
                fields=["provider", "day", "checksum"], name="reconciliation_report_same_bytes_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.day} v{self.version}"


class LineType(models.TextChoices):
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"
    FEE = "fee", "Fee"
    CHARGEBACK = "chargeback", "Chargeback"
    CHARGEBACK_REVERSAL = "chargeback_reversal", "Chargeback reversal"
    ADJUSTMENT = "adjustment", "Adjustment"
    PAYOUT = "payout", "Payout"


class SettlementLine(models.Model):
    """One line of an imported report, exactly as the provider sent it (amounts in minor units)."""

    id = models.BigAutoField(primary_key=True)
    report = models.ForeignKey(SettlementReport, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveIntegerField()
    line_id = models.CharField(max_length=100)
    line_type = models.CharField(max_length=20, choices=LineType.choices)
    psp_reference = models.CharField(max_length=100, blank=True)
    merchant_reference = models.CharField(max_length=100, blank=True)
    batch_id = models.CharField(max_length=100)
    payout_id = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    available_on = models.DateField()
    currency = models.CharField(max_length=3)
    gross = models.BigIntegerField()
    fee = models.BigIntegerField()
    net = models.BigIntegerField()
    batch_net = models.BigIntegerField(null=True, blank=True, help_text="On payout lines: the batch's Σ net.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "line_id"], name="reconciliation_line_unique_in_report")
        ]

    def __str__(self) -> str:
        return f"{self.line_id} ({self.line_type})"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Verdict(models.TextChoices):
    RECONCILED = "reconciled", "Reconciled"
    RECONCILED_WITH_PENDING = "reconciled_with_pending", "Reconciled with pending"
    BREAKS = "breaks", "Breaks"


class RunKind(models.TextChoices):
    RECONCILE = "reconcile", "Reconcile"
    SETTLE = "settle", "Settle"


class ReconciliationRun(models.Model):
    """One settle or reconcile of a provider's day: who or what started it, and what it found."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=RunKind.choices, default=RunKind.RECONCILE)
    provider = models.CharField(max_length=40)
    day = models.DateField()
    report = models.ForeignKey(
        SettlementReport, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    schedule = models.CharField(max_length=40, blank=True, help_text="manual, nightly, ... ")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    verdict = models.CharField(max_length=30, choices=Verdict.choices, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    totals = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "day", "-started_at"], name="recon_run_day")]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider} {self.day} ({self.status})"


class MatchKind(models.TextChoices):
    EXACT = "exact", "Exact"
    RECOVERED = "recovered", "Recovered (the outcome was missing here)"
    TOLERANCE = "tolerance", "Within tolerance"
    RESOLVED = "resolved", "After a resolved discrepancy"


class Match(models.Model):
    """One report line ↔ one ledger posting (a capture or a refund). Each is matched at most once
    (per provider and line_id across report versions, and per transfer), by unique constraints.

    A line whose discrepancy was resolved without a posting of its own (a duplicate, a charge unknown
    here) is matched with no transfer, so that it can be settled. `settlement` is set once, when the
    line is settled."""

    id = models.BigAutoField(primary_key=True)
    # Few indexes: a day writes a million of these rows, and every index is paid for on each.
    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.PROTECT, related_name="matches", db_index=False
    )
    provider = models.CharField(max_length=40)
    line_key = models.CharField(max_length=100, help_text="The line's line_id, the same in every version.")
    line = models.OneToOneField(SettlementLine, on_delete=models.PROTECT, related_name="match")
    transfer = models.OneToOneField(
        "ledger.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="settlement_match"
    )
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=10, choices=MatchKind.choices, default=MatchKind.EXACT)
    note = models.CharField(max_length=255, blank=True)
    settlement = models.ForeignKey(
        "ledger.Transfer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settled_matches",
        db_index=False,
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "matches"
        constraints = [
            models.UniqueConstraint(fields=["provider", "line_key"], name="reconciliation_match_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.line_key} ↔ {self.transfer_id}"


class DiscrepancyClass(models.TextChoices):
    AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
    CURRENCY_MISMATCH = "currency_mismatch", "Currency mismatch"
    FEE_MISMATCH = "fee_mismatch", "Fee mismatch"
    MISSING_IN_LEDGER = "missing_in_ledger", "Missing in ledger"
    MISSING_AT_PROVIDER = "missing_at_provider", "Missing at provider"
    DUPLICATE_LINE = "duplicate_line", "Duplicate line"
    PAYOUT_MISMATCH = "payout_mismatch", "Payout mismatch"


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    IGNORED = "ignored", "Ignored"


class Discrepancy(models.Model):
    """A difference between the provider's report and the ledger, as an item with a resolution.

    Found once per (provider, day, class, key): the key is the line_id, or the transfer for a posting
    the provider never settled, or the batch for a payout. Later runs refresh it (`last_run`) rather
    than duplicate it. expected is LedgerPay's side, actual the provider's; what they measure depends on
    the class (gross, fee, payout net), in `currency` (the provider's currency for currency_mismatch).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=40)
    day = models.DateField()
    cls = models.CharField("class", max_length=20, choices=DiscrepancyClass.choices)
    key = models.CharField(max_length=100)
    run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="discrepancies")
    last_run = models.ForeignKey(ReconciliationRun, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(
        SettlementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="discrepancies"
    )
    payment = models.ForeignKey(
        "payments.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transfer = models.ForeignKey(
        "ledger.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    expected_currency = models.CharField(max_length=3, blank=True)
    expected = models.BigIntegerField(null=True, blank=True)
    actual = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN
    )
    auto_resolved = models.BooleanField(default=False)
    resolution_note = models.CharField(max_length=255, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    adjustment = models.ForeignKey(
        "ledger.Adjustment", null=True, blank=True, on_delete=models.PROTECT, related_name="discrepancies"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "day", "cls", "key"], name="reconciliation_discrepancy_found_once"
            ),
            models.CheckConstraint(
                condition=Q(status=DiscrepancyStatus.OPEN, resolved_at__isnull=True)
                | (~Q(status=DiscrepancyStatus.OPEN) & Q(resolved_at__isnull=False)),
                name="reconciliation_discrepancy_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(auto_resolved=False) | Q(status=DiscrepancyStatus.RESOLVED),
                name="reconciliation_discrepancy_auto_is_resolved",
            ),
        ]
        indexes = [models.Index(fields=["status", "provider", "day"], name="recon_discrepancy_open")]

    def __str__(self) -> str:
        return f"{self.cls} {self.key} ({self.status})"

    @property
    def difference(self) -> int | None:
        if self.expected is None or self.actual is None:
            return None
        return self.actual - self.expected
