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
    400: (
        "Invalid request (validation_error, malformed_request, idempotency_key_missing, "
        "idempotency_key_invalid, invalid_cursor)."
    ),
    401: "Missing, invalid or expired credentials.",
    403: "Not allowed.",
    404: "Not found (including resources that belong to another user, and a page past the last).",
    405: "Method not allowed.",
    409: "Conflict (email_taken, idempotency_key_in_use).",
    415: "Unsupported media type.",
    422: "Business rule refused the operation (insufficient_funds, currency_mismatch, ...).",
    429: "Too many requests.",
    503: "A dependency is unavailable (service_unavailable), with Retry-After.",
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


# APIView list endpoints paginate by hand, so their page parameters are declared here (the page shapes come
# from each view's pagination_class).
PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        OpenApiTypes.INT,
        OpenApiParameter.QUERY,
        description="Page number, from 1 (past the last: 404).",
    ),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, OpenApiParameter.QUERY, description="Results per page (at most 200)."
    ),
]
CURSOR_PARAMETERS = [
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="The cursor from a previous page's next/previous link (anything else: 400 invalid_cursor).",
    ),
    PAGE_PARAMETERS[1],
]


def document_service_unavailable(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular postprocessing hook: every operation can answer 503 service_unavailable with
    Retry-After while PostgreSQL or Redis is unreachable (core.api.middleware)."""
    response = {
        "description": _DESCRIPTIONS[503],
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "required": True}},
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("503", response)
                operation["responses"]["503"].setdefault("headers", response["headers"])
    return result
