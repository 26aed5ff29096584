"""Payments endpoints: create, capture, cancel, refund (each 202 Accepted and idempotent), read, webhooks."""

from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from core.api.pagination import PageNumberPagination
from core.api.schema import IDEMPOTENCY_KEY_PARAMETER, PAGE_PARAMETERS, problem_responses
from core.idempotency import idempotent_response

from . import selectors, services
from .serializers import (
    OptionalAmountInputSerializer,
    PaymentCreateInputSerializer,
    PaymentEventOutputSerializer,
    PaymentListQuerySerializer,
    PaymentOutputSerializer,
    RefundOutputSerializer,
    optional_amount,
)

ACCEPTED = status.HTTP_202_ACCEPTED


class PaymentListCreateApi(APIView):
    pagination_class = PageNumberPagination  # documented as the page it returns

    @extend_schema(
        parameters=[PaymentListQuerySerializer, *PAGE_PARAMETERS],
        responses={200: PaymentOutputSerializer(many=True), **problem_responses(400, 401, 404, body=False)},
        operation_id="payments_list",
        tags=["payments"],
        summary="Your payments, newest first",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query = PaymentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.payment_list(user=request.user, **query.validated_data), request, view=self
        )
        return paginator.get_paginated_response(PaymentOutputSerializer(page, many=True).data)

    @extend_schema(
        request=PaymentCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: PaymentOutputSerializer, **problem_responses(400, 401, 404, 409, 422)},
        tags=["payments"],
        summary="Take a card payment that funds one of your accounts (202, processing)",
    )
    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        serializer = PaymentCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create() -> tuple[int, object]:
            payment = services.payment_create(
                user=request.user,
                account_id=data["account"],
                amount=data["amount"],
                currency=data["currency"],
                payment_method=data["payment_method"],
                capture_method=data["capture_method"],
                description=data["description"],
                reference=data["reference"],
                metadata=data["metadata"],
            )
            return ACCEPTED, PaymentOutputSerializer(payment).data

        return idempotent_response(request, create)


class PaymentDetailApi(APIView):
    @extend_schema(
        responses={200: PaymentOutputSerializer, **problem_responses(401, 404)},
        tags=["payments"],
        summary="A payment",
    )
    def get(self, request: AuthenticatedRequest, payment_id: UUID) -> Response:
        return Response(
            PaymentOutputSerializer(selectors.payment_get(user=request.user, payment_id=payment_id)).data
        )


class PaymentEventsApi(APIView):
    pagination_class = PageNumberPagination  # documented as the page it returns

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: PaymentEventOutputSerializer(many=True), **problem_responses(401, 404)},
        operation_id="payments_events_list",
        tags=["payments"],
        summary="The payment's timeline, oldest first",
    )
    def get(self, request: AuthenticatedRequest, payment_id: UUID) -> Response:
        payment = selectors.payment_get(user=request.user, payment_id=payment_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.payment_events(payment=payment), request, view=self)
        return paginator.get_paginated_response(PaymentEventOutputSerializer(page, many=True).data)


class PaymentCaptureApi(APIView):
    @extend_schema(
        request=OptionalAmountInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: PaymentOutputSerializer, **problem_responses(400, 401, 404, 409, 422)},
        tags=["payments"],
        summary="Capture an authorized payment, fully or partly (the rest is released)",
    )
    def post(self, request: AuthenticatedRequest, payment_id: UUID) -> HttpResponse:
        serializer = OptionalAmountInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def capture() -> tuple[int, object]:
            payment = selectors.payment_get(user=request.user, payment_id=payment_id)
            amount = optional_amount(serializer, payment.currency)
            payment = services.payment_capture_request(
                user=request.user, payment_id=payment_id, amount=amount
            )
            return ACCEPTED, PaymentOutputSerializer(payment).data

        return idempotent_response(request, capture)


class PaymentCancelApi(APIView):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: PaymentOutputSerializer, **problem_responses(400, 401, 404, 409, 422, body=False)},
        tags=["payments"],
        summary="Cancel an authorized payment: release the authorization",
    )
    def post(self, request: AuthenticatedRequest, payment_id: UUID) -> HttpResponse:
        def cancel() -> tuple[int, object]:
            payment = services.payment_cancel_request(user=request.user, payment_id=payment_id)
            return ACCEPTED, PaymentOutputSerializer(payment).data

        return idempotent_response(request, cancel)


class PaymentRefundApi(APIView):
    @extend_schema(
        request=OptionalAmountInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={202: RefundOutputSerializer, **problem_responses(400, 401, 404, 409, 422)},
        tags=["payments"],
        summary="Refund a payment, fully or partly; never beyond what was captured",
    )
    def post(self, request: AuthenticatedRequest, payment_id: UUID) -> HttpResponse:
        serializer = OptionalAmountInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def refund() -> tuple[int, object]:
            payment = selectors.payment_get(user=request.user, payment_id=payment_id)
            amount = optional_amount(serializer, payment.currency)
            created = services.refund_create(user=request.user, payment_id=payment_id, amount=amount)
            return ACCEPTED, RefundOutputSerializer(created).data

        return idempotent_response(request, refund)


class WebhookApi(APIView):
    """Provider notifications, authenticated by their signature, not by a user."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    parser_classes: list = []  # the signature covers the raw body: read it untouched

    @extend_schema(
        request={"application/json": {"type": "object"}},
        parameters=[
            OpenApiParameter(
                "Sandbox-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="t=<unix time>,v1=<hex HMAC-SHA256 of 't.' + body>",
            )
        ],
        responses={
            200: {"type": "object", "properties": {"outcome": {"type": "string"}}},
            **problem_responses(400, 404, 422, 503),
        },
        tags=["webhooks"],
        summary="Receive a signed provider webhook",
    )
    def post(self, request: Request, provider: str) -> Response:
        outcome = services.webhook_receive(provider=provider, payload=request.body, headers=request.headers)
        return Response({"outcome": outcome}, status=status.HTTP_200_OK)
