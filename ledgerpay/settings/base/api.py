"""The REST API: DRF, JWT (SimpleJWT) and the OpenAPI schema (drf-spectacular)."""

from datetime import timedelta

from .environment import *
from .environment import _secret

# --- REST API --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["core.api.authentication.CachedUserJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.ExactJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"login_failures": env.str("LOGIN_FAILURE_RATE", default="10/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Proxies in front of the API: the client address (for throttling) is taken this many hops back.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# Seconds a process reuses an authenticated user instead of SELECTing it again (0: every request).
# A deactivated user keeps access that long at most (its access token lives for minutes anyway).
JWT_USER_CACHE_SECONDS = env.int("JWT_USER_CACHE_SECONDS", default=5)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": _secret(
        env.str("JWT_SIGNING_KEY", default=""),
        variable="JWT_SIGNING_KEY",
        development_default="insecure-jwt-signing-key-only-used-with-DEBUG-on",
    ),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "LedgerPay API",
    "DESCRIPTION": (
        "Payments back end with a double-entry ledger. Amounts are decimal strings with exactly the "
        "currency's minor digits. Errors are RFC 9457 problem details. Money-moving POSTs need an "
        "Idempotency-Key header. Who may credit whom: a client moves money out of its own accounts only, "
        "into its own accounts or into another customer's account whose owner opted in "
        "(accepts_external_transfers, off by default, set with PATCH /accounts/{id}); any other "
        "destination is 404 not_found. A receiver sees the transfer, never the sender's balances. "
        "Any operation answers 503 service_unavailable, with Retry-After, while a dependency is down."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_service_unavailable",
    ],
}
