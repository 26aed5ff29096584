"""Tables shared by every app: the record of idempotent requests."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The record of one idempotent request: its fingerprint and, once run, the response to replay.

    Created `in_progress` in its own short transaction; the request's transaction then
    locks the row (a row lock held = the request is in flight) and stores the
    response in the same commit as the money effect.
    """

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    request_method = models.CharField(max_length=10)
    request_path = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=60, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        # Created by the ledger app before core existed: the table keeps its name and its rows.
        db_table = "ledger_idempotencykey"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="ledger_idempotency_user_key_unique")
        ]
        indexes = [models.Index(fields=["expires_at"], name="ledger_idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class AuditAction(models.TextChoices):
    ADJUSTMENT_PROPOSED = "adjustment_proposed", "Adjustment proposed"
    ADJUSTMENT_APPROVED = "adjustment_approved", "Adjustment approved"
    ADJUSTMENT_REJECTED = "adjustment_rejected", "Adjustment rejected"
    DISCREPANCY_RESOLVED = "discrepancy_resolved", "Discrepancy resolved"
    DEAD_LETTER_REPLAYED = "dead_letter_replayed", "Dead letter replayed"
    STAFF_LOGIN = "staff_login", "Staff login"
    STAFF_LOGIN_FAILED = "staff_login_failed", "Failed login"


class AuditLog(models.Model):
    """One back-office action that changed something: who, what, when, from where, before and after, why.

    Append-only (a trigger refuses UPDATE and DELETE) and tamper-evident: `hash` is SHA-256 over the
    row's canonical content and the previous row's hash (core.audit), so editing, removing or reordering
    a row, even as a superuser with the trigger disabled, breaks the chain from that row on.
    """

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(
        max_length=254, blank=True, help_text="The actor's email, or the username tried at a failed login."
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="core_audit_target"),
            models.Index(fields=["actor", "-id"], name="core_audit_actor"),
            models.Index(fields=["created_at"], name="core_audit_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_label or 'system'}"
