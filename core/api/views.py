"""Project-level endpoints: health checks, problem-type pages and the problem handlers for 404/500."""

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from .middleware import dependency_unavailable_response
from .problems import TITLES, problem_body, problem_response

logger = logging.getLogger(__name__)


def safe_methods_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD (load balancers probe with HEAD); anything else is a problem 405, not HTML."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = problem_response(
                problem_body(
                    code="method_not_allowed", status=405, detail=f'Method "{request.method}" not allowed.'
                )
            )
            response["Allow"] = "GET, HEAD"
            return response
        return view(request, *args, **kwargs)

    return wrapper


@safe_methods_only
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_broker() -> None:
    from ledgerpay.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)


def _check_cache() -> None:
    cache.set("readyz", "ok", 5)
    if cache.get("readyz") != "ok":
        raise RuntimeError("cache did not return what was written")


CHECKS = {"database": _check_database, "broker": _check_broker, "cache": _check_cache}
# What the API cannot serve a request without. The broker and the cache it survives (the outbox and the
# database are the truth): their outage is "degraded", so a load balancer never drains every instance
# because Redis blinked.
REQUIRED = frozenset({"database"})


@safe_methods_only
def readyz(request: HttpRequest) -> HttpResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure is reported; say which and why
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = f"unavailable: {type(exc).__name__}"
    failed = [name for name, result in results.items() if result != "ok"]
    required_failed = [name for name in failed if name in REQUIRED]
    if required_failed:
        body = problem_body(
            code="service_unavailable",
            status=503,
            detail=f"Not ready: {', '.join(required_failed)} unreachable.",
            extra={"checks": results},
        )
        return problem_response(body, {"Retry-After": "5"})
    return JsonResponse({"status": "degraded" if failed else "ready", "checks": results})


@safe_methods_only
def problem_type_page(request: HttpRequest, code: str) -> HttpResponse:
    if code not in TITLES:
        return not_found(request)
    text = f'{code}: {TITLES[code]}\n\nLedgerPay answers this problem with the code "{code}".\n'
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(
        problem_body(code="not_found", status=404, detail=f"No resource at {request.path}.")
    )


def server_error(request: HttpRequest) -> HttpResponse:
    # Called inside Django's exception handling: an outage of a dependency is a 503, not a 500.
    exc = sys.exc_info()[1]
    unavailable = dependency_unavailable_response(exc) if exc is not None else None
    if unavailable is not None:
        return unavailable
    return problem_response(
        problem_body(
            code="server_error", status=500, detail="An unexpected error occurred; it has been logged."
        )
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(problem_body(code="malformed_request", status=400, detail="Bad request."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(problem_body(code="permission_denied", status=403, detail="Permission denied."))
