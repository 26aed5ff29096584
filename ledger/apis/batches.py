"""The batch endpoint: up to 1,000 transfers in one request, with linked chains (TigerBeetle-style)."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.views import APIView

from accounts.requests import AuthenticatedRequest
from core.api.schema import (
    IDEMPOTENCY_KEY_PARAMETER,
    problem_responses,
)
from core.idempotency import idempotent_response

from .. import services
from ..serializers import (
    TransferBatchInputSerializer,
    TransferBatchOutputSerializer,
    transfer_batch_output,
)

_BATCH_EXAMPLE_IN = {
    "transfers": [
        {
            "source": "6f1c1d8e-0000-4000-8000-000000000001",
            "destination": "6f1c1d8e-0000-4000-8000-000000000002",
            "amount": "1200.00",
            "currency": "USD",
            "description": "Payroll: Ada",
        },
        {
            "source": "6f1c1d8e-0000-4000-8000-000000000001",
            "destination": "6f1c1d8e-0000-4000-8000-000000000003",
            "amount": "90.00",
            "currency": "USD",
            "description": "Marketplace split: seller",
            "linked": True,
        },
        {
            "source": "6f1c1d8e-0000-4000-8000-000000000001",
            "destination": "6f1c1d8e-0000-4000-8000-000000000004",
            "amount": "10.00",
            "currency": "USD",
            "description": "Marketplace split: fee",
        },
    ]
}
_BATCH_EXAMPLE_OUT = {
    "results": [
        {
            "index": 0,
            "status": "created",
            "transfer": {
                "id": "0b8e4a56-3f1e-4c51-9d7e-6a2f5f0c1a11",
                "kind": "transfer",
                "status": "posted",
                "source": "6f1c1d8e-0000-4000-8000-000000000001",
                "destination": "6f1c1d8e-0000-4000-8000-000000000002",
                "amount": "1200.00",
                "posted_amount": "1200.00",
                "currency": "USD",
                "description": "Payroll: Ada",
                "metadata": {},
                "cause": "",
                "reverses": None,
                "created_at": "2026-12-01T18:00:00Z",
                "posted_at": "2026-12-01T18:00:00Z",
                "finalized_at": None,
                "expires_at": None,
                "entries": [
                    {
                        "account": "6f1c1d8e-0000-4000-8000-000000000001",
                        "direction": "debit",
                        "amount": "1200.00",
                    },
                    {
                        "account": "6f1c1d8e-0000-4000-8000-000000000002",
                        "direction": "credit",
                        "amount": "1200.00",
                    },
                ],
            },
        },
        {
            "index": 1,
            "status": "failed",
            "code": "linked_event_failed",
            "detail": "Item 2 of this linked chain failed (account_inactive).",
        },
        {
            "index": 2,
            "status": "failed",
            "code": "account_inactive",
            "detail": "Account 6f1c1d8e-0000-4000-8000-000000000004 is frozen.",
        },
    ]
}


class TransferBatchApi(APIView):
    @extend_schema(
        request=TransferBatchInputSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: TransferBatchOutputSerializer, **problem_responses(400, 401, 409, 422)},
        examples=[
            OpenApiExample(
                "A payroll line and a linked marketplace split", value=_BATCH_EXAMPLE_IN, request_only=True
            ),
            OpenApiExample(
                "The split's fee leg failed, so its whole chain did",
                value=_BATCH_EXAMPLE_OUT,
                response_only=True,
            ),
        ],
        tags=["transfers"],
        summary="Move money in a batch of 1 to 1,000 transfers, with linked chains",
        description=(
            "Each item is the body of POST /api/v1/transfers plus an optional `linked`. An item with "
            "`linked: true` is chained to the next; a chain ends at the first item without it and succeeds or "
            "fails as a whole (its other members fail with `linked_event_failed`). Chains and lone items "
            "succeed or fail independently, in order, and the answer is 200 with one result per item. "
            "Business refusals (insufficient_funds, account_inactive, currency_mismatch, same_account, "
            "not_found for an account that is not yours) are results; invalid items (errors keyed "
            "`transfers.<index>.<field>`) and a last item that is linked (`linked_chain_open`) refuse the "
            "whole batch with a 400 and apply nothing."
        ),
    )
    def post(self, request: AuthenticatedRequest) -> HttpResponse:
        serializer = TransferBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = [
            services.BatchItem(
                posting=services.PostingRequest(
                    source_id=item["source"],
                    credits=[(item["destination"], item["amount"])],
                    currency=item["currency"],
                    description=item["description"],
                    metadata=item["metadata"],
                    pending=item["pending"],
                    expires_in=item.get("expires_in"),
                ),
                linked=item["linked"],
            )
            for item in serializer.validated_data["transfers"]
        ]
        services.batch_chains(items)  # an open chain is refused before the key is claimed

        def create() -> tuple[int, object]:
            results = services.transfer_batch_create(items=items, actor=request.user)
            return status.HTTP_200_OK, transfer_batch_output(results)

        return idempotent_response(request, create)
