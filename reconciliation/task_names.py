"""Names of the reconciliation app's Celery tasks, importable without Django (the beat schedule uses them)."""

RECONCILE_NIGHTLY = "reconciliation.tasks.reconcile_nightly"
RECONCILE_PROVIDER_DAY = "reconciliation.tasks.reconcile_provider_day"
