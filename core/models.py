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
