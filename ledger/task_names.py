"""Names of the ledger's Celery tasks, importable without Django (settings' beat schedule uses them)."""

HOLD_EXPIRE_DUE = "ledger.tasks.hold_expire_due"
