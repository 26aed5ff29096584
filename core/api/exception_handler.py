"""Maps every exception a view raises to an RFC 9457 problem response."""

from __future__ import annotations

import logging
from typing import Any, overload

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from core.errors import ApiError

from .problems import PROBLEM_CONTENT_TYPE, problem_body

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "validation_error",
}


def _flatten(detail: object) -> dict[str, list[str]]:
    """DRF's nested error detail → {field: [messages]}, nested fields joined with dots."""
    errors: dict[str, list[str]] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
            errors.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
        elif isinstance(value, list):
            for index, sub in enumerate(value):
                walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            errors.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return errors


@overload
def exception_problem(exc: ApiError) -> tuple[dict, dict[str, str]]: ...
@overload
def exception_problem(exc: Exception) -> tuple[dict, dict[str, str]] | None: ...
def exception_problem(exc: Exception) -> tuple[dict, dict[str, str]] | None:
    """The problem body and extra headers for an exception, or None for an unexpected one."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        return problem_body(
            code=exc.code,
            status=exc.status,
            detail=exc.detail,
            title=exc.title,
            errors=exc.errors,
            extra=exc.extra,
        ), dict(exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        fields = ", ".join(sorted(errors))
        detail = f"Invalid input: {fields}." if fields else "Invalid input."
    elif isinstance(exc.detail, dict):
        detail = str(exc.detail.get("detail", exc.default_detail))
        if code is None:
            code = str(exc.detail.get("code", exc.default_code))
    else:
        detail = str(exc.detail)
    if code is None:
        code = getattr(exc.detail, "code", None) or exc.default_code
    if code == "authentication_failed" and getattr(exc, "default_code", "") == "token_not_valid":
        code = "token_not_valid"
    wait = getattr(exc, "wait", None)  # Throttled's seconds to wait (set by DRF; not in its stubs)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        headers["Retry-After"] = str(int(wait) + 1)
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    return problem_body(code=str(code), status=exc.status_code, detail=detail, errors=errors), headers


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    result = exception_problem(exc)
    if result is None:
        return None  # unexpected: Django's 500 handler answers with a problem and logs it
    body, headers = result
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    response = Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response
