"""Account endpoints: open and list accounts, details and settings, statements, balances."""

from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from core.api.pagination import NewestFirstCursorPagination, PageNumberPagination
from core.api.schema import (
    CURSOR_PARAMETERS,
    PAGE_PARAMETERS,
    problem_responses,
)
from core.idempotency import idempotent_response
from core.money import format_amount

from .. import selectors, services
from ..serializers import (
    AccountCreateInputSerializer,
    AccountOutputSerializer,
    AccountUpdateInputSerializer,
    BalanceOutputSerializer,
    BalanceQuerySerializer,
    StatementEntryOutputSerializer,
    StatementQuerySerializer,
)

OPTIONAL_IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional here: with it, a retry replays the first response instead of creating a second account.",
)


class AccountListCreateApi(APIView):
    pagination_class = PageNumberPagination  # documented as the page it returns

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: AccountOutputSerializer(many=True), **problem_responses(401, 404)},
        operation_id="accounts_list",
        tags=["accounts"],
        summary="List your accounts",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.account_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(AccountOutputSerializer(page, many=True).data)

    @extend_schema(
        request=AccountCreateInputSerializer,
        parameters=[OPTIONAL_IDEMPOTENCY_KEY],
        responses={201: AccountOutputSerializer, **problem_responses(400, 401, 409, 422)},
        tags=["accounts"],
        summary="Open an account in a currency",
    )
    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        serializer = AccountCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

        def create() -> tuple[int, object]:
            account = services.account_create(owner=request.user, **serializer.validated_data)
            return status.HTTP_201_CREATED, AccountOutputSerializer(account).data

        if "Idempotency-Key" in request.headers:
            return idempotent_response(request, create)
        code, data = create()
        return Response(data, status=code)


class AccountDetailApi(APIView):
    @extend_schema(
        responses={200: AccountOutputSerializer, **problem_responses(401, 404)},
        tags=["accounts"],
        summary="An account with its balance, available funds and holds",
    )
    def get(self, request: AuthenticatedRequest, account_id: UUID) -> Response:
        account = selectors.account_get(user=request.user, account_id=account_id)
        return Response(AccountOutputSerializer(account).data)

    @extend_schema(
        request=AccountUpdateInputSerializer,
        responses={200: AccountOutputSerializer, **problem_responses(400, 401, 404)},
        tags=["accounts"],
        summary="Rename your account, or let other customers transfer into it",
        description=(
            "Only the owner may change an account. With accepts_external_transfers=true, any client that "
            "knows the account id may push transfers into it (peer payments); it never sees the balance."
        ),
    )
    def patch(self, request: AuthenticatedRequest, account_id: UUID) -> Response:
        serializer = AccountUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = services.account_update(
            user=request.user, account_id=account_id, **serializer.validated_data
        )
        return Response(AccountOutputSerializer(account).data)


class AccountEntriesApi(APIView):
    pagination_class = NewestFirstCursorPagination  # documented as the page it returns

    @extend_schema(
        parameters=[StatementQuerySerializer, *CURSOR_PARAMETERS],
        operation_id="accounts_entries_list",
        responses={
            200: StatementEntryOutputSerializer(many=True),
            **problem_responses(400, 401, 404, body=False),
        },
        tags=["accounts"],
        summary="The account's statement, newest first (cursor pagination)",
    )
    def get(self, request: AuthenticatedRequest, account_id: UUID) -> Response:
        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = selectors.account_get(user=request.user, account_id=account_id)
        entries = selectors.account_entries(account=account, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        data = StatementEntryOutputSerializer(
            page, many=True, context={"normal_sign": account.normal_sign}
        ).data
        return paginator.get_paginated_response(data)


class AccountBalanceApi(APIView):
    @extend_schema(
        parameters=[BalanceQuerySerializer],
        responses={200: BalanceOutputSerializer, **problem_responses(400, 401, 404, body=False)},
        tags=["accounts"],
        summary="The balance at an instant, computed from entries",
    )
    def get(self, request: AuthenticatedRequest, account_id: UUID) -> Response:
        query = BalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        account = selectors.account_get(user=request.user, account_id=account_id)
        as_of = query.validated_data["as_of"]
        balance = selectors.account_balance_as_of(account=account, as_of=as_of)
        return Response(
            BalanceOutputSerializer(
                {
                    "account": account.pk,
                    "currency": account.currency,
                    "as_of": as_of,
                    "balance": format_amount(balance, account.currency),
                }
            ).data
        )
