"""Money: the ledger, the payment providers and payments' retry policy, settlement and reconciliation."""

from datetime import timedelta

from .environment import *
from .environment import _secret
from .web import SERVER_PORT

# --- Ledger -----------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))

# --- Payments ---------------------------------------------------------------
_PROVIDER_TIMEOUT = env.float("PAYMENTS_PROVIDER_TIMEOUT_SECONDS", default=5.0)
# fee_bps/fee_fixed: each provider's processing fee (bps of the amount + fixed minor units) as its
# contract says; reconciliation checks report fees against it, run_sandbox_provider starts the sandbox with it.
PAYMENT_PROVIDERS = {
    "sandbox": {
        "class": "payments.providers.sandbox.SandboxProvider",
        "base_url": env.str("PAYMENTS_SANDBOX_URL", default="http://127.0.0.1:8100"),
        "api_key": _secret(
            env.str("PAYMENTS_SANDBOX_API_KEY", default=""),
            variable="PAYMENTS_SANDBOX_API_KEY",
            development_default="sk_sandbox",
        ),
        "webhook_secret": _secret(
            env.str("PAYMENTS_SANDBOX_WEBHOOK_SECRET", default=""),
            variable="PAYMENTS_SANDBOX_WEBHOOK_SECRET",
            development_default="whsec_sandbox",
        ),
        # Where the sandbox process delivers its webhooks (read by run_sandbox_provider only).
        "webhook_url": env.str(
            "PAYMENTS_SANDBOX_WEBHOOK_URL", default=f"http://127.0.0.1:{SERVER_PORT}/api/v1/webhooks/sandbox"
        ),
        "timeout_seconds": _PROVIDER_TIMEOUT,
        "fee_bps": env.int("PAYMENTS_SANDBOX_FEE_BPS", default=290),
        "fee_fixed": env.int("PAYMENTS_SANDBOX_FEE_FIXED", default=30),
    },
    "sandbox_secondary": {
        "class": "payments.providers.sandbox.SandboxProvider",
        "base_url": env.str("PAYMENTS_SANDBOX_SECONDARY_URL", default="http://127.0.0.1:8101"),
        "api_key": _secret(
            env.str("PAYMENTS_SANDBOX_SECONDARY_API_KEY", default=""),
            variable="PAYMENTS_SANDBOX_SECONDARY_API_KEY",
            development_default="sk_sandbox_secondary",
        ),
        "webhook_secret": _secret(
            env.str("PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET", default=""),
            variable="PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET",
            development_default="whsec_sandbox_secondary",
        ),
        "webhook_url": env.str(
            "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_URL",
            default=f"http://127.0.0.1:{SERVER_PORT}/api/v1/webhooks/sandbox_secondary",
        ),
        "timeout_seconds": _PROVIDER_TIMEOUT,
        "fee_bps": env.int("PAYMENTS_SANDBOX_SECONDARY_FEE_BPS", default=290),
        "fee_fixed": env.int("PAYMENTS_SANDBOX_SECONDARY_FEE_FIXED", default=30),
    },
}
PAYMENTS_PRIMARY_PROVIDER = env.str("PAYMENTS_PRIMARY_PROVIDER", default="sandbox")
PAYMENTS_SECONDARY_PROVIDER = env.str("PAYMENTS_SECONDARY_PROVIDER", default="sandbox_secondary")
# Platform fee at capture: basis points of the amount plus a fixed part in minor units, per currency.
PAYMENTS_FEE_BPS = env.int("PAYMENTS_FEE_BPS", default=290)
PAYMENTS_FEE_FIXED = env.dict(
    "PAYMENTS_FEE_FIXED", cast={"value": int}, default={"USD": 30, "EUR": 25, "GBP": 20}
)
PAYMENTS_TASK_MAX_RETRIES = env.int("PAYMENTS_TASK_MAX_RETRIES", default=6)
PAYMENTS_RETRY_BACKOFF_MAX = env.int("PAYMENTS_RETRY_BACKOFF_MAX", default=60)
# The breaker opens when one kind of transient failure reaches FAILURE_RATE of the calls of the last
# WINDOW seconds, once the window holds MIN_CALLS calls (payments/breaker.py).
PAYMENTS_BREAKER_WINDOW_SECONDS = env.float("PAYMENTS_BREAKER_WINDOW_SECONDS", default=30.0)
PAYMENTS_BREAKER_MIN_CALLS = env.int("PAYMENTS_BREAKER_MIN_CALLS", default=20)
PAYMENTS_BREAKER_FAILURE_RATE = env.float("PAYMENTS_BREAKER_FAILURE_RATE", default=0.5)
# How many times a provider task may wait for an open breaker's reset, on top of its retries.
PAYMENTS_BREAKER_MAX_WAITS = env.int("PAYMENTS_BREAKER_MAX_WAITS", default=10)
PAYMENTS_BREAKER_RESET_SECONDS = env.int("PAYMENTS_BREAKER_RESET_SECONDS", default=30)
PAYMENTS_STUCK_AFTER_SECONDS = env.int("PAYMENTS_STUCK_AFTER_SECONDS", default=120)
PAYMENTS_GIVE_UP_AFTER_SECONDS = env.int("PAYMENTS_GIVE_UP_AFTER_SECONDS", default=3600)
OUTBOX_POLL_SECONDS = env.float("OUTBOX_POLL_SECONDS", default=0.2)

# --- Settlement and reconciliation ------------------------------------------
# A capture the provider has not settled after this many days is missing_at_provider (before: pending).
RECONCILIATION_MISSING_AFTER_DAYS = env.int("RECONCILIATION_MISSING_AFTER_DAYS", default=1)
# Amount differences up to this many minor units are auto-resolved (and marked so); 0 = none.
RECONCILIATION_TOLERANCE = env.int("RECONCILIATION_TOLERANCE", default=0)
# How many missing_in_ledger lines a run may ask the provider about (the three-way check).
RECONCILIATION_RECOVERY_LIMIT = env.int("RECONCILIATION_RECOVERY_LIMIT", default=200)
# Providers settled and reconciled nightly (default: every provider in PAYMENT_PROVIDERS).
RECONCILIATION_PROVIDERS = env.list("RECONCILIATION_PROVIDERS", default=list(PAYMENT_PROVIDERS))
RECONCILIATION_NIGHTLY_RETRIES = env.int("RECONCILIATION_NIGHTLY_RETRIES", default=3)
RECONCILIATION_NIGHTLY_RETRY_SECONDS = env.int("RECONCILIATION_NIGHTLY_RETRY_SECONDS", default=300)
