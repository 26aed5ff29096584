"""Pagination classes shared by every list endpoint."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import ApiError


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Stable cursor pagination on a monotonically increasing id, newest first."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def _invalid_cursor(self) -> ApiError:
        return ApiError(
            "invalid_cursor",
            "The cursor is not one this API returned; start again from the first page.",
            status=400,
            errors={self.cursor_query_param: ["Invalid cursor."]},
        )

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        """A cursor the client garbled is its mistake (400 invalid_cursor), not a missing page (404)."""
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise self._invalid_cursor() from exc

    def paginate_queryset(
        self, queryset: QuerySet[Any] | Sequence[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError) as exc:
            # A well-formed cursor whose position is not a value of the ordering field.
            if request.query_params.get(self.cursor_query_param):
                raise self._invalid_cursor() from exc
            raise
