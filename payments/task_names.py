"""Names of the payments app's Celery tasks, importable without Django: the settings (beat schedule,
routes), the outbox and the tasks themselves refer to these, never to bare strings."""

from enum import StrEnum


class PaymentTask(StrEnum):
    """Tasks that call the provider about one payment; routed to the provider queue."""

    AUTHORIZE = "payments.tasks.provider_authorize"
    CAPTURE = "payments.tasks.provider_capture"
    CANCEL = "payments.tasks.provider_cancel"
    REFUND = "payments.tasks.provider_refund"


PROVIDER_TASKS_PATTERN = "payments.tasks.provider_*"
PAYMENTS_RECOVER_STUCK = "payments.tasks.payments_recover_stuck"
OUTBOX_RELAY = "payments.tasks.outbox_relay"
