"""Every write of the payments app, by what drives it: client requests, provider calls made by the
workers, the outcomes they apply, webhooks, and recovery."""

from .outcomes import payment_apply_charge, payment_fail, payment_request_refused, refund_apply
from .provider_calls import payment_authorize, payment_cancel, payment_capture, provider_route, refund_execute
from .recovery import (
    dead_letter_record,
    dead_letter_replay,
    dead_letters_resolve_settled,
    payment_recover,
    payments_recover_stuck,
)
from .requests import payment_cancel_request, payment_capture_request, payment_create, refund_create
from .webhooks import webhook_receive

__all__ = [
    "dead_letter_record",
    "dead_letter_replay",
    "dead_letters_resolve_settled",
    "payment_apply_charge",
    "payment_authorize",
    "payment_cancel",
    "payment_cancel_request",
    "payment_capture",
    "payment_capture_request",
    "payment_create",
    "payment_fail",
    "payment_recover",
    "payment_request_refused",
    "payments_recover_stuck",
    "provider_route",
    "refund_apply",
    "refund_create",
    "refund_execute",
    "webhook_receive",
]
