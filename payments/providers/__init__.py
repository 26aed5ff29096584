"""Payment-provider adapters and `get_provider(name)`, the one place that builds them from settings.

settings.PAYMENT_PROVIDERS maps a provider name to {"class": dotted path, **constructor options}
(base_url, api_key, webhook_secret, timeout_seconds, ...). "webhook_url" is read only by the
run_sandbox_provider command (where the sandbox should deliver) and is not passed to the class;
"fee_bps" and "fee_fixed" are the provider's fee rule (provider_fee_rule(), for reconciliation; the
sandbox is started with the same rule) and are not passed to the class either.
Django is imported lazily so that the value types in base.py stay importable without settings.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .base import (
    ChargeRequest,
    FeeRule,
    PaymentProvider,
    ProviderCharge,
    ProviderError,
    ProviderRefund,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    SettlementLine,
    SettlementLineType,
    SettlementReport,
    SettlementReportSource,
    WebhookEvent,
    WebhookVerificationError,
)

__all__ = [
    "ChargeRequest",
    "FeeRule",
    "PaymentProvider",
    "ProviderCharge",
    "ProviderError",
    "ProviderRefund",
    "ProviderRequestError",
    "ProviderTimeout",
    "ProviderUnavailable",
    "SettlementLine",
    "SettlementLineType",
    "SettlementReport",
    "SettlementReportSource",
    "WebhookEvent",
    "WebhookVerificationError",
    "get_provider",
    "provider_config",
    "provider_fee_rule",
]

_NOT_CONSTRUCTOR_OPTIONS = frozenset({"class", "webhook_url", "fee_bps", "fee_fixed"})

_cache: dict[tuple[int, str], tuple[dict[str, Any], PaymentProvider]] = {}
_cache_lock = threading.Lock()


def provider_config(name: str) -> dict[str, Any]:
    """A copy of the settings entry for name. Raises ImproperlyConfigured when there is none."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    providers = settings.PAYMENT_PROVIDERS
    if name not in providers:
        raise ImproperlyConfigured(f"No payment provider named {name!r} in PAYMENT_PROVIDERS.")
    return dict(providers[name])


def provider_fee_rule(name: str) -> FeeRule:
    """The provider's fee rule from settings (fee_bps, fee_fixed), what reconciliation checks fees against."""
    from django.core.exceptions import ImproperlyConfigured

    config = provider_config(name)
    if "fee_bps" not in config:
        raise ImproperlyConfigured(f"Payment provider {name!r} has no fee_bps in PAYMENT_PROVIDERS.")
    return FeeRule(bps=int(config["fee_bps"]), fixed=config.get("fee_fixed", 0))


def get_provider(name: str) -> PaymentProvider:
    """The provider called name, built once per process and per configuration.

    Instances hold a connection pool, so they are reused; the cache key includes the pid because a
    pool must not cross a fork (Celery prefork workers), and the configuration so that a changed
    setting (tests, reloads) builds a new instance.
    """
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    config = provider_config(name)
    key = (os.getpid(), name)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == config:
            return cached[1]
        if "class" not in config:
            raise ImproperlyConfigured(f'Payment provider {name!r} has no "class" in PAYMENT_PROVIDERS.')
        try:
            cls = import_string(config["class"])
        except ImportError as exc:
            raise ImproperlyConfigured(f"Payment provider {name!r}: {exc}") from exc
        options = {k: v for k, v in config.items() if k not in _NOT_CONSTRUCTOR_OPTIONS}
        provider = cls(name=name, **options)
        # A replaced instance is not closed here: another thread may still be using it.
        _cache[key] = (config, provider)
        return provider
