"""POST /api/v1/transfers/batch: the public contract, chains, validation and idempotency."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.models import Account, AccountStatus, Entry, Transfer
from ledger.services import SystemAccount, system_account_get
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db

URL = "/api/v1/transfers/batch"


def item(source, destination, amount="1.00", **extra):
    return {
        "source": str(source.pk),
        "destination": str(destination.pk),
        "amount": amount,
        "currency": source.currency,
        **extra,
    }


def post_batch(client, items, key="batch-1"):
    return client.post(URL, {"transfers": items}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def balance(account) -> int:
    account.refresh_from_db()
    return account.balance


def outcome(results) -> list[tuple[str, str]]:
    return [(r["status"], r.get("code", "")) for r in results]


@pytest.fixture
def mine(auth_client):
    account = AccountFactory(owner=auth_client.user)
    fund(account, 10_000)
    return account


class TestContract:
    def test_every_item_created_answers_200_with_one_result_each_shaped_as_a_single_transfer(
        self, auth_client, mine
    ):
        a, b = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        response = post_batch(
            auth_client,
            [
                item(mine, a, "12.50", description="payroll", metadata={"run": "7"}),
                item(mine, b, "0.50"),
                item(mine, a, "3.00", pending=True, expires_in=3600),
            ],
        )
        assert response.status_code == 200, response.content
        results = response.json()["results"]
        assert [r["index"] for r in results] == [0, 1, 2]
        assert outcome(results) == [("created", "")] * 3
        first = results[0]["transfer"]
        assert first == auth_client.get(f"/api/v1/transfers/{first['id']}").json()
        assert first["amount"] == "12.50" and first["description"] == "payroll"
        assert first["metadata"] == {"run": "7"} and first["status"] == "posted"
        assert [(e["direction"], e["amount"]) for e in first["entries"]] == [
            ("debit", "12.50"),
            ("credit", "12.50"),
        ]
        assert results[2]["transfer"]["status"] == "pending" and results[2]["transfer"]["entries"] == []
        mine.refresh_from_db()
        assert mine.balance == 10_000 - 1_250 - 50 and mine.pending_debits == 300
        assert mine.version == 1 + 3
        assert balance(a) == 1_250 and balance(b) == 50

    def test_items_are_checked_in_order_against_running_balances(self, auth_client):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 100)
        other = AccountFactory(accepts_external_transfers=True)
        response = post_batch(
            auth_client,
            [item(source, other, "0.60"), item(source, other, "0.60"), item(source, other, "0.40")],
        )
        assert outcome(response.json()["results"]) == [
            ("created", ""),
            ("failed", "insufficient_funds"),
            ("created", ""),
        ]
        assert balance(source) == 0
        balances_after = list(
            Entry.objects.filter(account=source, amount__gt=0)
            .order_by("id")
            .values_list("balance_after", flat=True)
        )
        assert balances_after == [40, 0]

    def test_a_failed_item_carries_its_own_code_and_detail(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        results = post_batch(auth_client, [item(mine, other, "1000.00")]).json()["results"]
        assert results == [
            {
                "index": 0,
                "status": "failed",
                "code": "insufficient_funds",
                "detail": f"Account {mine.pk} has insufficient available funds for this operation.",
            }
        ]

    def test_another_customers_account_that_has_not_opted_in_is_not_found_per_item(self, auth_client, mine):
        closed_door = AccountFactory()  # accepts_external_transfers is off by default
        open_door = AccountFactory(accepts_external_transfers=True)
        response = post_batch(auth_client, [item(mine, closed_door), item(mine, open_door)])
        assert response.status_code == 200
        assert outcome(response.json()["results"]) == [("failed", "not_found"), ("created", "")]
        assert balance(closed_door) == 0

    def test_business_refusals_are_results_not_a_failure_of_the_batch(self, auth_client, mine):
        someone_else = AccountFactory(accepts_external_transfers=True)
        fund(someone_else, 5_000)
        euros = AccountFactory(accepts_external_transfers=True, currency="EUR")
        frozen = AccountFactory(accepts_external_transfers=True, status=AccountStatus.FROZEN)
        world = system_account_get(code=SystemAccount.WORLD, currency="USD")
        fine = AccountFactory(accepts_external_transfers=True)
        response = post_batch(
            auth_client,
            [
                item(someone_else, fine),  # another user's account as source
                item(mine, world),  # a system account is not found for a client
                item(mine, euros),
                item(mine, frozen),
                item(mine, mine),
                {**item(mine, fine), "destination": "00000000-0000-4000-8000-000000000000"},
                item(mine, fine, "2.00"),
            ],
        )
        assert response.status_code == 200
        assert outcome(response.json()["results"]) == [
            ("failed", "not_found"),
            ("failed", "not_found"),
            ("failed", "currency_mismatch"),
            ("failed", "account_inactive"),
            ("failed", "same_account"),
            ("failed", "not_found"),
            ("created", ""),
        ]
        assert balance(someone_else) == 5_000 and balance(fine) == 200
        assert Transfer.objects.filter(created_by=auth_client.user).count() == 1


class TestLinkedChains:
    def test_a_chain_fails_as_a_whole_and_the_others_go_on(self, auth_client, mine):
        a, b, c = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        frozen = AccountFactory(accepts_external_transfers=True, status=AccountStatus.FROZEN)
        response = post_batch(
            auth_client,
            [
                item(mine, a, "1.00"),
                item(mine, b, "2.00", linked=True),
                item(mine, c, "3.00", linked=True),
                item(mine, frozen, "4.00"),  # ends the chain 1-3, and fails it
                item(mine, c, "5.00"),
            ],
        )
        results = response.json()["results"]
        assert outcome(results) == [
            ("created", ""),
            ("failed", "linked_event_failed"),
            ("failed", "linked_event_failed"),
            ("failed", "account_inactive"),
            ("created", ""),
        ]
        assert "Item 3" in results[1]["detail"]
        assert balance(a) == 100 and balance(b) == 0 and balance(c) == 500
        assert balance(mine) == 10_000 - 600
        assert not Entry.objects.filter(account=b).exists()

    def test_a_failure_in_the_middle_fails_the_members_after_it_too(self, auth_client):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 500)
        a = AccountFactory(accepts_external_transfers=True)
        results = post_batch(
            auth_client,
            [
                item(source, a, "2.00", linked=True),
                item(source, a, "9.00", linked=True),
                item(source, a, "1.00"),
                item(source, a, "4.00"),
            ],
        ).json()["results"]
        assert outcome(results) == [
            ("failed", "linked_event_failed"),
            ("failed", "insufficient_funds"),
            ("failed", "linked_event_failed"),
            ("created", ""),
        ]
        # The failed chain's 2.00 was given back before the last item was checked: 5.00 - 4.00.
        assert balance(source) == 100 and balance(a) == 400

    def test_a_chain_that_succeeds_posts_every_member(self, auth_client, mine):
        a, b = (
            AccountFactory(accepts_external_transfers=True),
            AccountFactory(accepts_external_transfers=True),
        )
        results = post_batch(
            auth_client, [item(mine, a, "1.00", linked=True), item(mine, b, "2.00", linked=True), item(a, b)]
        ).json()["results"]
        # a is not mine: the last member fails, and with it the whole chain.
        assert outcome(results) == [
            ("failed", "linked_event_failed"),
            ("failed", "linked_event_failed"),
            ("failed", "not_found"),
        ]
        results = post_batch(
            auth_client, [item(mine, a, "1.00", linked=True), item(mine, b, "2.00")], key="batch-2"
        ).json()["results"]
        assert outcome(results) == [("created", ""), ("created", "")]
        assert balance(a) == 100 and balance(b) == 200

    def test_a_last_item_that_is_linked_refuses_the_batch(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        response = post_batch(auth_client, [item(mine, other), item(mine, other, linked=True)])
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "linked_chain_open" and "transfers.1.linked" in body["errors"]
        assert balance(other) == 0
        # Nothing was recorded under the key: the corrected batch goes through with it.
        assert post_batch(auth_client, [item(mine, other)]).status_code == 200


class TestValidation:
    def test_an_invalid_item_refuses_the_batch_with_errors_keyed_by_index_and_field(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        items = [item(mine, other) for _ in range(5)]
        items[3]["amount"] = "1.234"
        items[4]["currency"] = "XYZ"
        del items[1]["destination"]
        response = post_batch(auth_client, items)
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "validation_error"
        assert set(body["errors"]) == {
            "transfers.1.destination",
            "transfers.3.amount",
            "transfers.4.currency",
        }
        assert balance(other) == 0 and balance(mine) == 10_000

    @pytest.mark.parametrize(
        "body",
        [
            {"transfers": []},
            {"transfers": "all of them"},
            {"transfers": [1, 2]},
            {"transfers": [["a"]]},
            {"transfers": None},
            {},
            [],
        ],
    )
    def test_an_envelope_that_is_not_a_list_of_1_to_1000_objects_is_a_400(self, auth_client, body):
        response = auth_client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 400 and response.json()["code"] == "validation_error"

    def test_more_than_1000_items_is_a_400(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        response = post_batch(auth_client, [item(mine, other)] * 1001)
        assert response.status_code == 400 and "transfers" in response.json()["errors"]
        assert balance(other) == 0

    def test_1000_items_are_accepted(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        response = post_batch(auth_client, [item(mine, other, "0.01")] * 1000)
        assert response.status_code == 200
        assert all(r["status"] == "created" for r in response.json()["results"])
        assert balance(other) == 1_000 and balance(mine) == 9_000

    def test_the_idempotency_key_is_required(self, auth_client, mine):
        response = auth_client.post(
            URL, {"transfers": [item(mine, AccountFactory(accepts_external_transfers=True))]}, format="json"
        )
        assert response.status_code == 400 and response.json()["code"] == "idempotency_key_missing"

    def test_anonymous_clients_are_refused(self, api_client):
        assert api_client.post(URL, {"transfers": []}, format="json").status_code == 401


class TestIdempotency:
    def test_a_replay_returns_the_same_results_and_moves_nothing_more(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        items = [item(mine, other, "1.00"), item(mine, other, "1000.00")]
        first = post_batch(auth_client, items)
        again = post_batch(auth_client, items)
        assert again.status_code == 200 and again.content == first.content
        assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
        assert balance(other) == 100 and Transfer.objects.filter(destination=other).count() == 1

    def test_the_replay_survives_a_cache_outage(self, auth_client, mine):
        from django.core.cache import cache

        other = AccountFactory(accepts_external_transfers=True)
        first = post_batch(auth_client, [item(mine, other)])
        cache.clear()
        again = post_batch(auth_client, [item(mine, other)])
        assert again.content == first.content and again["Idempotent-Replayed"] == "true"

    def test_another_body_with_the_same_key_is_a_422(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        post_batch(auth_client, [item(mine, other, "1.00")])
        response = post_batch(auth_client, [item(mine, other, "2.00")])
        assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
        assert balance(other) == 100

    def test_the_key_of_a_single_transfer_cannot_replay_as_a_batch(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        single = item(mine, other)
        auth_client.post("/api/v1/transfers", single, format="json", HTTP_IDEMPOTENCY_KEY="same")
        response = post_batch(auth_client, [single], key="same")
        assert response.status_code == 422 and balance(other) == 100


class TestSetBased:
    def test_the_statements_of_a_batch_do_not_grow_with_its_size(self, auth_client, mine):
        others = [AccountFactory(accepts_external_transfers=True) for _ in range(20)]

        def statements(n: int, key: str) -> list[str]:
            with CaptureQueriesContext(connection) as captured:
                response = post_batch(auth_client, [item(mine, others[i], "0.01") for i in range(n)], key=key)
            assert response.status_code == 200
            return [q["sql"].split()[0] for q in captured.captured_queries]

        two, twenty = statements(2, "two"), statements(20, "twenty")
        assert len(twenty) == len(two)
        # the idempotency claim, then one statement writes the transfers, the entries and the accounts
        assert [sql.upper() for sql in twenty if sql.upper() in ("INSERT", "WITH")] == ["INSERT", "WITH"]
        assert balance(mine) == 10_000 - 22

    def test_refused_items_write_nothing(self, auth_client, mine):
        other = AccountFactory(accepts_external_transfers=True)
        before = (Transfer.objects.count(), Entry.objects.count(), balance(mine))
        results = post_batch(auth_client, [item(mine, other, "500.00")] * 3).json()["results"]
        assert outcome(results) == [("failed", "insufficient_funds")] * 3
        assert (Transfer.objects.count(), Entry.objects.count(), balance(mine)) == before
        assert Account.objects.get(pk=other.pk).version == 0


def test_the_openapi_schema_documents_the_batch_with_examples(api_client):
    schema = api_client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "/api/v1/transfers/batch" in text
    assert "linked_event_failed" in text and "linked_chain_open" in text
    assert "TransferBatchInput" in text and "Marketplace split: fee" in text


@pytest.mark.parametrize("pending", [False, True])
def test_the_fast_transfer_output_is_the_serializers_field_for_field(pending):
    from ledger import services
    from ledger.serializers import TransferOutputSerializer, transfer_output
    from ledger.services import transfer_reverse

    source, destination = (
        AccountFactory(accepts_external_transfers=True, currency="BHD"),
        AccountFactory(accepts_external_transfers=True, currency="BHD"),
    )
    fund(source, 5_555)
    posting = services.transfer_create(
        source_id=source.pk,
        destination_id=destination.pk,
        amount=1_234,
        currency="BHD",
        metadata={"order": "42"},
        description="tea",
        pending=pending,
    )
    transfer = posting.transfer
    assert transfer_output(transfer, posting.entries) == TransferOutputSerializer(transfer).data
    assert transfer_output(transfer) == TransferOutputSerializer(transfer).data
    fresh = Transfer.objects.get(pk=transfer.pk)
    assert transfer_output(fresh) == TransferOutputSerializer(fresh).data
    if not pending:
        reversal = transfer_reverse(transfer_id=transfer.pk, description="test")
        assert (
            transfer_output(reversal.transfer, reversal.entries)
            == TransferOutputSerializer(reversal.transfer).data
        )
