"""Card payments, their refunds and timeline, the outbox that carries their work to Celery,
verified provider webhooks and the dead letters of work that exhausted its retries.

No business logic here: payments.services owns every write.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class PaymentStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    REQUIRES_CAPTURE = "requires_capture", "Requires capture"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class CaptureMethod(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual"


class Payment(models.Model):
    """A card payment that funds a LedgerPay account once the provider has captured it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="payments")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    payment_method = models.CharField(max_length=100)
    capture_method = models.CharField(
        max_length=10, choices=CaptureMethod.choices, default=CaptureMethod.AUTOMATIC
    )
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PROCESSING)
    amount_captured = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    fee = models.BigIntegerField(default=0, help_text="Platform fee taken at capture.")
    capture_requested_amount = models.BigIntegerField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=50, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    provider = models.CharField(
        max_length=40, blank=True, help_text="Chosen when the authorization is first sent."
    )
    provider_charge_id = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    capture_transfer = models.OneToOneField(
        "ledger.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="captured_payment"
    )
    correlation_id = models.CharField(max_length=64, help_text="Request id of the request that created it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_captured__gte=0, amount_captured__lte=F("amount"))
                & Q(amount_refunded__gte=0, amount_refunded__lte=F("amount_captured")),
                name="payments_payment_refunded_within_captured_within_amount",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_charge_id"],
                condition=~Q(provider_charge_id=""),
                name="payments_payment_one_per_provider_charge",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="payments_payment_user"),
            models.Index(fields=["status", "updated_at"], name="payments_payment_status"),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} ({self.status})"

    @property
    def provider_idempotency_key(self) -> str:
        """Stable for the life of the payment: every retry of the authorization finds the same charge."""
        return f"pay_{self.id.hex}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    """Money returned to the card. Held on the client's account when requested, moved when confirmed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_refund_id = models.CharField(max_length=100, blank=True)
    failure_code = models.CharField(max_length=50, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    hold = models.OneToOneField("ledger.Transfer", on_delete=models.PROTECT, related_name="refund")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"refund {self.id} ({self.status})"

    @property
    def provider_idempotency_key(self) -> str:
        return f"ref_{self.id.hex}"


class PaymentEvent(models.Model):
    """The append-only timeline of a payment (a trigger refuses UPDATE and DELETE).

    `correlation_id` ties every event of one payment to the request that created it;
    `causation_id` names the event or message that caused this one.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=64)
    causation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["payment", "created_at"], name="payments_event_timeline")]

    def __str__(self) -> str:
        return f"{self.type} for {self.payment_id}"


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the same transaction as the change that needs it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=50, default="provider")
    correlation_id = models.CharField(max_length=64, blank=True)
    causation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at"],
                name="payments_outbox_unpublished",
                condition=Q(published_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.id}"


class ProviderWebhook(models.Model):
    """A verified webhook, recorded once: the unique (provider, event_id) makes redeliveries no-ops."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=40)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=50)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="webhooks"
    )
    outcome = models.CharField(max_length=100, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="payments_webhook_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id} {self.type}"


class DeadLetter(models.Model):
    """A task that exhausted its retries, kept for an operator to inspect and replay."""

    id = models.BigAutoField(primary_key=True)
    task = models.CharField(max_length=100)
    kwargs = models.JSONField(default=dict)
    queue = models.CharField(max_length=50)
    message_id = models.CharField(max_length=64, help_text="The Celery task id (the outbox message id).")
    correlation_id = models.CharField(max_length=64, blank=True)
    error = models.TextField()
    retries = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replayed_as = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its work was found done (the payment or refund reached a final state).",
    )
    resolution = models.CharField(
        max_length=255, blank=True, help_text="How it was resolved, for the operator."
    )

    def __str__(self) -> str:
        return f"dead letter {self.id}: {self.task}"
