"""OpenAPI pieces shared by every endpoint: the problem-details schema and the Idempotency-Key header."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from .problems import PROBLEM_CONTENT_TYPE

ProblemSerializer = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.CharField(help_text="URI of the problem type: /problems/<code>."),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "code": serializers.CharField(help_text="Stable machine-readable code, e.g. insufficient_funds."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Messages per field.",
        ),
        "request_id": serializers.CharField(allow_null=True),
    },
)

_DESCRIPTIONS = {
    400: "Invalid request (validation_error, malformed_request, idempotency_key_missing).",
    401: "Missing, invalid or expired credentials.",
    403: "Not allowed.",
    404: "Not found (including resources that belong to another user).",
    405: "Method not allowed.",
    409: "Conflict (email_taken, idempotency_key_in_use).",
    415: "Unsupported media type.",
    422: "Business rule refused the operation (insufficient_funds, currency_mismatch, ...).",
    429: "Too many requests.",
    503: "A dependency is unavailable.",
}


def problem_responses(*statuses: int, body: bool = True) -> dict:
    """Responses for extend_schema: each status documented as an application/problem+json body.

    An endpoint that reads a body (body=True and it can answer 400) can also answer 415.
    """
    documented = set(statuses) | ({415} if body and 400 in statuses else set())
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            response=ProblemSerializer, description=_DESCRIPTIONS.get(status, "")
        )
        for status in sorted(documented)
    }


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description=(
        "A unique key per operation (up to 255 characters), scoped to the user. A retry with the same key "
        "and body replays the first response (Idempotent-Replayed: true) with no second effect."
    ),
)
