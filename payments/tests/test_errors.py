"""Every custom exception a Celery task can raise survives a pickle round trip with the arguments it was
built with: Celery pickles a task's exception before on_failure sees it, and one that does not rebuild
arrives as UnpickleableExceptionWrapper, hiding the real error from the dead letter."""

from __future__ import annotations

import inspect
import pickle
from types import ModuleType

import pytest
from celery.utils.serialization import get_pickleable_exception

import core.errors
import core.money
import ledger.errors
import payments.breaker
import payments.errors
import payments.providers.base
import payments.providers.sandbox
import payments.providers.settlement
import payments.providers.signatures
from core.errors import ApiError
from ledger.errors import LedgerError
from payments.errors import PaymentError
from payments.providers.base import (
    ProviderError,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    WebhookVerificationError,
)
from payments.providers.settlement import SettlementReportError

MODULES: tuple[ModuleType, ...] = (
    core.errors,
    core.money,
    ledger.errors,
    payments.breaker,
    payments.errors,
    payments.providers.base,
    payments.providers.sandbox,
    payments.providers.settlement,
    payments.providers.signatures,
)

# One instance of every custom exception of those modules, built as the code builds them.
SAMPLES: list[BaseException] = [
    ApiError("not_found", "No payment 1.", status=404, errors={"id": ["bad"]}, extra={"id": "1"}),
    LedgerError("insufficient_funds", "Account 7 has insufficient funds.", extra={"account": "7"}),
    PaymentError("invalid_state", "The payment is not capturable."),
    PaymentError("amount_exceeds_refundable", "At most 5.", extra={"refundable": 5}),
    core.money.AmountError("'XXX' is not an ISO 4217 currency code."),
    ProviderError("invalid_response", "unreadable charge", True, http_status=200),
    ProviderUnavailable("service_unavailable", "The card network is unavailable.", http_status=503),
    ProviderTimeout("timeout", "POST /v1/charges: no answer in time"),
    payments.breaker.CircuitOpen("sandbox", 12.5),
    ProviderRequestError("card_declined", "Your card was declined.", http_status=402),
    WebhookVerificationError("signature_invalid", "No signature matches."),
    SettlementReportError(12, "gross - fee != net"),
    payments.providers.sandbox._InvalidResponse("amount is not an integer"),
]


def _custom_exceptions() -> set[type[BaseException]]:
    found = set()
    for module in MODULES:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.add(value)
    return found


def test_every_custom_exception_has_a_sample():
    """A new exception class in these modules must be added to SAMPLES (and so pickle-tested)."""
    assert _custom_exceptions() <= {type(sample) for sample in SAMPLES}


def _state(exc: BaseException) -> tuple:
    return type(exc), exc.args, str(exc), vars(exc)


@pytest.mark.parametrize("exc", SAMPLES, ids=lambda exc: f"{type(exc).__name__}")
def test_a_custom_exception_survives_a_pickle_round_trip_with_its_arguments(exc):
    copy = pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, as Celery does
    assert _state(copy) == _state(exc)
    assert repr(copy) == repr(exc)


@pytest.mark.parametrize("exc", SAMPLES, ids=lambda exc: f"{type(exc).__name__}")
def test_celery_hands_on_failure_the_real_exception_not_a_wrapper(exc):
    pickleable = get_pickleable_exception(exc)
    assert type(pickleable) is type(exc)
    assert f"{type(pickleable).__name__}: {pickleable}" == f"{type(exc).__name__}: {exc}"
