"""Celery: the broker, queues, acknowledgement and time limits, and beat's schedule."""

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from core.task_names import IDEMPOTENCY_KEY_PURGE
from ledger.task_names import HOLD_EXPIRE_DUE
from payments.task_names import OUTBOX_RELAY, PAYMENTS_RECOVER_STUCK, PROVIDER_TASKS_PATTERN
from reconciliation.task_names import RECONCILE_NIGHTLY

from .environment import *
from .environment import _secret  # noqa: F401

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if not CELERY_BROKER_URL:
    # Embedded broker: folders on disk, no server. It can lose a message when the
    # worker is killed, so nothing important lives only in the broker (see the outbox).
    # The folders are created by ledgerpay.celery when the app loads, not here.
    CELERY_BROKER_URL = "filesystem://"
    BROKER_DIR = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # kombu writes its exchange bindings here; by default a `control/` folder in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Publisher confirms: the outbox relay marks a message sent only once RabbitMQ has it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=3.0)
# Queue names carry an optional prefix so that separate test runs on one broker never share messages.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE_PREFIX", default="")
CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_QUEUE_PREFIX}celery"
PAYMENTS_QUEUE = f"{CELERY_QUEUE_PREFIX}provider"
CELERY_TASK_ROUTES = {PROVIDER_TASKS_PATTERN: {"queue": PAYMENTS_QUEUE}}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Every task is stopped if it runs too long: at the soft limit it gets SoftTimeLimitExceeded (and can
# clean up, e.g. roll back its transaction), at the hard limit its worker process is killed and replaced.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must be greater than CELERY_TASK_SOFT_TIME_LIMIT.")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# When the nightly settlement and reconciliation of the previous day runs: HH:MM, UTC.
RECONCILIATION_NIGHTLY_AT = env.str("RECONCILIATION_NIGHTLY_AT", default="02:30")
try:
    _NIGHTLY_HOUR, _NIGHTLY_MINUTE = (int(part) for part in RECONCILIATION_NIGHTLY_AT.split(":"))
    if not (0 <= _NIGHTLY_HOUR < 24 and 0 <= _NIGHTLY_MINUTE < 60):
        raise ValueError
except ValueError:
    raise ImproperlyConfigured(
        f"RECONCILIATION_NIGHTLY_AT must be HH:MM (UTC), not {RECONCILIATION_NIGHTLY_AT!r}."
    ) from None
CELERY_BEAT_SCHEDULE = {
    "ledger-hold-expire-due": {"task": HOLD_EXPIRE_DUE, "schedule": 30.0},
    "core-idempotency-key-purge": {"task": IDEMPOTENCY_KEY_PURGE, "schedule": 3600.0},
    "payments-recover-stuck": {"task": PAYMENTS_RECOVER_STUCK, "schedule": 30.0},
    "payments-outbox-relay-backstop": {"task": OUTBOX_RELAY, "schedule": 10.0},
    # Settle and reconcile the previous UTC day for every provider, nightly at RECONCILIATION_NIGHTLY_AT.
    "reconciliation-nightly": {
        "task": RECONCILE_NIGHTLY,
        "schedule": crontab(hour=_NIGHTLY_HOUR, minute=_NIGHTLY_MINUTE),
    },
}
