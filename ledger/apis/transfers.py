"""Transfer endpoints: move or hold money, list and read transfers, post or void holds."""

from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from core.api.pagination import PageNumberPagination
from core.api.schema import (
    IDEMPOTENCY_KEY_PARAMETER,
    PAGE_PARAMETERS,
    problem_responses,
)
from core.fields import amount_to_minor
from core.idempotency import idempotent_response

from .. import selectors, services
from ..serializers import (
    HoldPostInputSerializer,
    TransferCreateInputSerializer,
    TransferListQuerySerializer,
    TransferOutputSerializer,
    transfer_output,
)


class TransferListCreateApi(APIView):
    pagination_class = PageNumberPagination  # documented as the page it returns

    @extend_schema(
        parameters=[TransferListQuerySerializer, *PAGE_PARAMETERS],
        responses={200: TransferOutputSerializer(many=True), **problem_responses(400, 401, 404, body=False)},
        operation_id="transfers_list",
        tags=["transfers"],
        summary="Transfers you take part in",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query = TransferListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        transfers = selectors.transfer_list(user=request.user, account_id=query.validated_data.get("account"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(transfers, request, view=self)
        return paginator.get_paginated_response(TransferOutputSerializer(page, many=True).data)

    @extend_schema(
        request=TransferCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={201: TransferOutputSerializer, **problem_responses(400, 401, 404, 409, 422)},
        tags=["transfers"],
        summary="Move money between accounts, or hold it (pending=true)",
        description=(
            "The source must be one of your accounts. The destination is one of your accounts, or another "
            "customer's account whose owner opted in with accepts_external_transfers (PATCH "
            "/accounts/{id}); any other destination is 404 not_found, the same answer as an account that "
            "does not exist, so an account id reveals nothing. The receiver sees the transfer, never the "
            "sender's balances."
        ),
    )
    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        serializer = TransferCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def create() -> tuple[int, object]:
            posting = services.transfer_create(
                source_id=data["source"],
                destination_id=data["destination"],
                amount=data["amount"],
                currency=data["currency"],
                actor=request.user,
                description=data["description"],
                metadata=data["metadata"],
                pending=data["pending"],
                expires_in=data.get("expires_in"),
            )
            return status.HTTP_201_CREATED, transfer_output(posting.transfer, posting.entries)

        return idempotent_response(request, create)


class TransferDetailApi(APIView):
    @extend_schema(
        responses={200: TransferOutputSerializer, **problem_responses(401, 404)},
        tags=["transfers"],
        summary="A transfer with its entries",
    )
    def get(self, request: AuthenticatedRequest, transfer_id: UUID) -> Response:
        transfer = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
        return Response(TransferOutputSerializer(transfer).data)


class HoldPostApi(APIView):
    @extend_schema(
        request=HoldPostInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: TransferOutputSerializer, **problem_responses(400, 401, 404, 409, 422)},
        tags=["transfers"],
        summary="Post a pending transfer, fully or for a smaller amount",
    )
    def post(self, request: AuthenticatedRequest, transfer_id: UUID) -> HttpResponse:
        serializer = HoldPostInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def post() -> tuple[int, object]:
            hold = selectors.transfer_get(user=request.user, transfer_id=transfer_id)
            attrs = amount_to_minor(dict(serializer.validated_data), currency=hold.currency)
            posting = services.hold_post(
                transfer_id=transfer_id, amount=attrs.get("amount"), actor=request.user
            )
            return status.HTTP_200_OK, transfer_output(posting.transfer, posting.entries)

        return idempotent_response(request, post)


class HoldVoidApi(APIView):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: TransferOutputSerializer, **problem_responses(400, 401, 404, 409, 422, body=False)},
        tags=["transfers"],
        summary="Void a pending transfer: release the held funds",
    )
    def post(self, request: AuthenticatedRequest, transfer_id: UUID) -> HttpResponse:
        def void() -> tuple[int, object]:
            transfer = services.hold_void(transfer_id=transfer_id, actor=request.user)
            return status.HTTP_200_OK, TransferOutputSerializer(transfer).data

        return idempotent_response(request, void)
