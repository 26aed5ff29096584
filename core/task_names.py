"""Names of core's Celery tasks, importable without Django (settings' beat schedule uses them)."""

IDEMPOTENCY_KEY_PURGE = "core.tasks.idempotency_key_purge"
