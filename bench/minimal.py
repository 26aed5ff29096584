"""The minimal DRF endpoint, mounted only for the bench: the ceiling of any DRF view on this stack.

`gunicorn bench.minimal:application` serves the project's settings and middleware with one URL,
POST /api/v1/minimal: the same JWT authentication as the API, a three-field serializer validated,
a 201 with the validated data, nothing else (no database write, no idempotency). Never imported by
the project.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
application: Callable[..., Any] = get_wsgi_application()  # django.setup() before DRF is imported

from django.conf import settings  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import serializers, status  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from core.api.views import healthz  # noqa: E402


class MinimalInputSerializer(serializers.Serializer):
    source = serializers.UUIDField()
    destination = serializers.UUIDField()
    amount = serializers.CharField(max_length=40)


class MinimalApi(APIView):
    def post(self, request: Request) -> Response:
        serializer = MinimalInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


urlpatterns = [path("api/v1/minimal", MinimalApi.as_view()), path("healthz", healthz)]
settings.ROOT_URLCONF = __name__  # this module's URLs instead of the project's
