"""Request-id hygiene, before django-guid takes the id: an incoming X-Request-ID is honoured only
when it is a plausible id, so that a client cannot inject log lines or megabytes into every log."""

import re

_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)


class RequestIdSanitizerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        if incoming is not None and not _ACCEPTABLE.fullmatch(incoming):
            del request.META["HTTP_X_REQUEST_ID"]  # django-guid then generates a fresh one
        return self.get_response(request)
