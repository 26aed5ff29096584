"""RFC 9457 problem details: the one place that builds their bodies and responses."""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpResponse
from django_guid import get_guid
from rest_framework.renderers import JSONRenderer

PROBLEM_CONTENT_TYPE = "application/problem+json"

# Stable codes that clients branch on, with their titles. `type` URIs point at /problems/<code>.
TITLES: dict[str, str] = {
    "validation_error": "Invalid request",
    "malformed_request": "Malformed request body",
    "unsupported_media_type": "Unsupported media type",
    "not_authenticated": "Authentication required",
    "authentication_failed": "Authentication failed",
    "token_not_valid": "Token not valid",
    "permission_denied": "Permission denied",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "not_acceptable": "Not acceptable",
    "throttled": "Too many requests",
    "email_taken": "Email already registered",
    "idempotency_key_missing": "Idempotency-Key header required",
    "idempotency_key_invalid": "Idempotency-Key header invalid",
    "idempotency_key_in_use": "Idempotency key in use",
    "idempotency_key_reused": "Idempotency key reused with another request",
    "insufficient_funds": "Insufficient funds",
    "currency_mismatch": "Currency mismatch",
    "account_inactive": "Account inactive",
    "same_account": "Source and destination are the same account",
    "hold_expired": "Hold expired",
    "invalid_state": "Invalid state",
    "amount_exceeds_hold": "Amount exceeds the hold",
    "amount_exceeds_authorized": "Amount exceeds the authorization",
    "amount_exceeds_refundable": "Amount exceeds what can still be refunded",
    "webhook_signature_missing": "Webhook signature missing",
    "webhook_signature_invalid": "Webhook signature invalid",
    "webhook_signature_expired": "Webhook signature too old",
    "webhook_payload_invalid": "Webhook payload invalid",
    "webhook_payload_mismatch": "Webhook does not match the payment",
    "webhook_not_applied": "Webhook not applied; redeliver it",
    "invalid_cursor": "Invalid pagination cursor",
    "server_error": "Internal server error",
    "service_unavailable": "Service unavailable",
}


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem_body(
    *,
    code: str,
    status: int,
    detail: str,
    title: str | None = None,
    errors: dict | None = None,
    extra: dict | None = None,
) -> dict:
    body = {
        "type": problem_type(code),
        "title": title or TITLES.get(code) or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    body["request_id"] = get_guid()
    return body


def render_problem(body: dict) -> bytes:
    return JSONRenderer().render(body)


def problem_response(body: dict, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(render_problem(body), status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
