"""Request middleware of the API: request-id hygiene, and problems for what never reaches a DRF view.

Request-id hygiene, before django-guid takes the id: an incoming X-Request-ID is honoured only
when it is a plausible id, so that a client cannot inject log lines or megabytes into every log."""

import re
from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .problems import PROBLEM_CONTENT_TYPE, problem_body, problem_response

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
