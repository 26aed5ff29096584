"""Request middleware of the API: request-id hygiene, problems for what never reaches a DRF view, and
dependency outages (database, cache) answered as 503 problems with Retry-After, never 500.

Request-id hygiene, before django-guid takes the id: an incoming X-Request-ID is honoured only
when it is a plausible id, so that a client cannot inject log lines or megabytes into every log."""

import logging
import re
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from .problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)


class RequestIdSanitizerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        if incoming is not None and not _ACCEPTABLE.fullmatch(incoming):
            del request.META["HTTP_X_REQUEST_ID"]  # django-guid then generates a fresh one
        return self.get_response(request)


class ApiProblemMiddleware:
    """Every 404 and 405 under /api/ answers an RFC 9457 problem, with DEBUG on too.

    DRF's views already answer problems; this catches what never reaches them: an unknown route or a
    path whose converter does not match (Django's resolver 404, an HTML page with DEBUG on) and a
    wrong method on a plain Django view (an empty 405)."""

    PREFIX = "/api/"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.path.startswith(self.PREFIX)
            and response.status_code in (404, 405)
            and not response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE)
        ):
            return self._problem(request, response)
        return response

    @staticmethod
    def _problem(request: HttpRequest, original: HttpResponseBase) -> HttpResponseBase:
        if original.status_code == 404:
            body = problem_body(code="not_found", status=404, detail=f"No resource at {request.path}.")
            return problem_response(body)
        body = problem_body(
            code="method_not_allowed", status=405, detail=f'Method "{request.method}" not allowed.'
        )
        headers = {"Allow": original["Allow"]} if original.has_header("Allow") else None
        return problem_response(body, headers)


def dependency_unavailable(exc: BaseException) -> str | None:
    """Which dependency an exception says is unreachable ("database", "cache"), or None."""
    if isinstance(exc, OperationalError | InterfaceError):
        return "database"
    try:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return None
    if isinstance(exc, ConnectionInterrupted | RedisConnectionError | RedisTimeoutError):
        return "cache"
    return None


def dependency_unavailable_response(exc: BaseException) -> HttpResponse | None:
    """The 503 problem for a dependency outage, or None when exc is something else."""
    dependency = dependency_unavailable(exc)
    if dependency is None:
        return None
    logger.error("service_unavailable: %s unreachable: %s: %s", dependency, type(exc).__name__, exc)
    body = problem_body(
        code="service_unavailable",
        status=503,
        detail=f"The {dependency} is unavailable; retry shortly.",
        extra={"dependency": dependency},
    )
    return problem_response(body, {"Retry-After": str(RETRY_AFTER_SECONDS)})


class DependencyUnavailableMiddleware:
    """A view that fails because PostgreSQL or Redis is unreachable answers 503 service_unavailable
    (with DEBUG on too, where Django would otherwise show its technical 500 page)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return dependency_unavailable_response(exception)
