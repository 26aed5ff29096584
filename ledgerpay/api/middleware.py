"""Request-id hygiene, before django-guid takes the id: an incoming X-Request-ID is honoured only
when it is a plausible id, so that a client cannot inject log lines or megabytes into every log.
And dependency outages (database, cache) answered as 503 problems with Retry-After, never 500."""

import logging
import re
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5

_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)


class RequestIdSanitizerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        if incoming is not None and not _ACCEPTABLE.fullmatch(incoming):
            del request.META["HTTP_X_REQUEST_ID"]  # django-guid then generates a fresh one
        return self.get_response(request)


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
    from .problems import problem_body, problem_response

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

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return dependency_unavailable_response(exception)
