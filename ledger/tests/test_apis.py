import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.models import Account
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


def create_transfer(client, source, destination, amount="10.00", key="k", **extra):
    data = {
        "source": str(source.pk),
        "destination": str(destination.pk),
        "amount": amount,
        "currency": source.currency,
        **extra,
    }
    return client.post("/api/v1/transfers", data, format="json", HTTP_IDEMPOTENCY_KEY=key)


class TestAccounts:
    def test_open_an_account(self, auth_client):
        response = auth_client.post("/api/v1/accounts", {"currency": "EUR", "name": "Savings"}, format="json")
        assert response.status_code == 201
        data = response.json()
        assert data["currency"] == "EUR" and data["name"] == "Savings" and data["kind"] == "liability"
        assert data["balance"] == data["available"] == "0.00" and data["version"] == 0
        assert Account.objects.get(pk=data["id"]).owner == auth_client.user

    def test_amounts_show_the_currencys_digits(self, auth_client):
        account = AccountFactory(owner=auth_client.user, currency="JPY")
        fund(account, 500)
        bhd = AccountFactory(owner=auth_client.user, currency="BHD")
        fund(bhd, 1_234)
        assert auth_client.get(f"/api/v1/accounts/{account.pk}").json()["balance"] == "500"
        assert auth_client.get(f"/api/v1/accounts/{bhd.pk}").json()["balance"] == "1.234"

    @pytest.mark.parametrize("currency", ["usd", "ABC", "XAU", "", "DOLLARS"])
    def test_an_unknown_currency_is_a_400_naming_the_field(self, auth_client, currency):
        response = auth_client.post("/api/v1/accounts", {"currency": currency}, format="json")
        assert response.status_code == 400 and "currency" in response.json()["errors"]

    def test_account_creation_with_a_key_is_idempotent(self, auth_client):
        first = auth_client.post(
            "/api/v1/accounts", {"currency": "USD"}, format="json", HTTP_IDEMPOTENCY_KEY="a"
        )
        again = auth_client.post(
            "/api/v1/accounts", {"currency": "USD"}, format="json", HTTP_IDEMPOTENCY_KEY="a"
        )
        assert again.content == first.content and Account.objects.filter(owner=auth_client.user).count() == 1

    def test_the_list_shows_only_my_accounts(self, auth_client):
        mine = AccountFactory(owner=auth_client.user)
        AccountFactory()
        data = auth_client.get("/api/v1/accounts").json()
        assert [a["id"] for a in data["results"]] == [str(mine.pk)] and data["count"] == 1

    def test_another_users_account_is_not_found(self, auth_client):
        other = AccountFactory()
        for path in ("", "/entries", "/balance?as_of=2026-01-01T00:00:00Z"):
            response = auth_client.get(f"/api/v1/accounts/{other.pk}{path}")
            assert response.status_code == 404 and response.json()["code"] == "not_found"

    def test_anonymous_clients_are_refused(self, api_client):
        assert api_client.get("/api/v1/accounts").status_code == 401


class TestStatement:
    def test_entries_newest_first_with_running_balance(self, auth_client):
        account, other = (
            AccountFactory(owner=auth_client.user),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(account, 10_000)
        create_transfer(auth_client, account, other, "25.00", key="1", description="groceries")
        create_transfer(auth_client, account, other, "5.50", key="2")
        results = auth_client.get(f"/api/v1/accounts/{account.pk}/entries").json()["results"]
        assert [(r["amount"], r["balance_after"]) for r in results] == [
            ("-5.50", "69.50"),
            ("-25.00", "75.00"),
            ("100.00", "100.00"),
        ]
        assert results[1]["description"] == "groceries" and results[1]["kind"] == "transfer"

    def test_cursor_pagination_walks_every_entry_once(self, auth_client):
        account = AccountFactory(owner=auth_client.user)
        for _ in range(7):
            fund(account, 100)
        seen, url = [], f"/api/v1/accounts/{account.pk}/entries?page_size=3"
        while url:
            page = auth_client.get(url).json()
            seen += [r["id"] for r in page["results"]]
            url = page["next"]
        assert len(seen) == len(set(seen)) == 7 and seen == sorted(seen, reverse=True)

    def test_filter_by_date_range(self, auth_client):
        account = AccountFactory(owner=auth_client.user)
        fund(account, 100)
        cutoff = timezone.now()
        fund(account, 200)
        after = auth_client.get(
            f"/api/v1/accounts/{account.pk}/entries", {"created_after": cutoff.isoformat()}
        )
        before = auth_client.get(
            f"/api/v1/accounts/{account.pk}/entries", {"created_before": cutoff.isoformat()}
        )
        assert [r["amount"] for r in after.json()["results"]] == ["2.00"]
        assert [r["amount"] for r in before.json()["results"]] == ["1.00"]

    def test_a_bad_date_is_a_400(self, auth_client):
        account = AccountFactory(owner=auth_client.user)
        response = auth_client.get(f"/api/v1/accounts/{account.pk}/entries", {"created_after": "yesterday"})
        assert response.status_code == 400 and "created_after" in response.json()["errors"]


def test_balance_as_of_an_instant_comes_from_entries(auth_client):
    account = AccountFactory(owner=auth_client.user)
    fund(account, 1_000)
    middle = timezone.now()
    fund(account, 250)
    url = f"/api/v1/accounts/{account.pk}/balance"
    assert auth_client.get(url, {"as_of": middle.isoformat()}).json()["balance"] == "10.00"
    assert (
        auth_client.get(url, {"as_of": (middle + timedelta(hours=1)).isoformat()}).json()["balance"]
        == "12.50"
    )
    assert (
        auth_client.get(url, {"as_of": (middle - timedelta(days=1)).isoformat()}).json()["balance"] == "0.00"
    )
    assert auth_client.get(url).status_code == 400


class TestTransfers:
    @pytest.fixture
    def pair(self, auth_client):
        source, destination = (
            AccountFactory(owner=auth_client.user),
            AccountFactory(accepts_external_transfers=True),
        )
        fund(source, 10_000)
        return source, destination

    def test_create_returns_the_transfer_and_its_entries(self, auth_client, pair):
        source, destination = pair
        response = create_transfer(
            auth_client, *pair, "12.34", metadata={"order": "A-1"}, description="order A-1"
        )
        assert response.status_code == 201
        data = response.json()
        assert (data["status"], data["amount"], data["currency"], data["metadata"]) == (
            "posted",
            "12.34",
            "USD",
            {"order": "A-1"},
        )
        assert data["entries"] == [
            {"account": str(source.pk), "direction": "debit", "amount": "12.34"},
            {"account": str(destination.pk), "direction": "credit", "amount": "12.34"},
        ]
        assert auth_client.get(f"/api/v1/transfers/{data['id']}").json() == data

    @pytest.mark.parametrize(
        ("change", "code", "status"),
        [
            ({"amount": "1000.00"}, "insufficient_funds", 422),
            ({"currency": "EUR"}, "currency_mismatch", 422),
        ],
    )
    def test_business_refusals_are_422_problems(self, auth_client, pair, change, code, status):
        source, destination = pair
        data = {
            "source": str(source.pk),
            "destination": str(destination.pk),
            "amount": "10.00",
            "currency": "USD",
            **change,
        }
        response = auth_client.post("/api/v1/transfers", data, format="json", HTTP_IDEMPOTENCY_KEY="x")
        assert response.status_code == status and response.json()["code"] == code

    def test_same_account_is_refused(self, auth_client, pair):
        response = create_transfer(auth_client, pair[0], pair[0])
        assert response.status_code == 422 and response.json()["code"] == "same_account"

    def test_a_frozen_account_is_refused(self, auth_client, pair):
        services.account_status_set(account_id=pair[1].pk, status="frozen")
        response = create_transfer(auth_client, *pair)
        assert response.status_code == 422 and response.json()["code"] == "account_inactive"

    def test_a_source_i_do_not_own_is_not_found(self, auth_client, pair):
        stranger = AccountFactory()
        fund(stranger, 10_000)
        response = create_transfer(auth_client, stranger, pair[0])
        assert response.status_code == 404 and response.json()["code"] == "not_found"

    @pytest.mark.parametrize("amount", ["0", "0.00", "-1.00", "1.001", "1e3", "NaN", "abc", "", "9" * 30])
    def test_bad_amounts_are_400_naming_the_field(self, auth_client, pair, amount):
        response = create_transfer(auth_client, *pair, amount)
        assert response.status_code == 400 and "amount" in response.json()["errors"]

    def test_the_receiver_sees_the_transfer_but_not_the_senders_balance(self, auth_client, pair, client_for):
        source, destination = pair
        transfer_id = create_transfer(auth_client, *pair).json()["id"]
        receiver = client_for(destination.owner)
        data = receiver.get(f"/api/v1/transfers/{transfer_id}").json()
        assert data["id"] == transfer_id and "balance_after" not in str(data)
        assert receiver.get(f"/api/v1/accounts/{source.pk}").status_code == 404
        assert client_for(UserFactory()).get(f"/api/v1/transfers/{transfer_id}").status_code == 404

    def test_list_filters_by_account(self, auth_client, pair):
        source, destination = pair
        other = AccountFactory(owner=auth_client.user)
        create_transfer(auth_client, source, destination, key="1")
        create_transfer(auth_client, source, other, key="2")
        by_other = auth_client.get("/api/v1/transfers", {"account": str(other.pk)}).json()
        assert by_other["count"] == 1 and by_other["results"][0]["destination"] == str(other.pk)
        assert (
            auth_client.get("/api/v1/transfers").json()["count"] == 3
        )  # the two, and the deposit that funded me

    def test_hold_then_partial_post(self, auth_client, pair):
        source, _ = pair
        hold = create_transfer(auth_client, *pair, "30.00", pending=True, expires_in=3600).json()
        assert hold["status"] == "pending" and hold["entries"] == []
        account = auth_client.get(f"/api/v1/accounts/{source.pk}").json()
        assert (account["balance"], account["available"], account["pending_debits"]) == (
            "100.00",
            "70.00",
            "30.00",
        )
        posted = auth_client.post(
            f"/api/v1/transfers/{hold['id']}/post",
            {"amount": "12.00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="post-1",
        )
        assert posted.status_code == 200
        assert (posted.json()["status"], posted.json()["posted_amount"]) == ("posted", "12.00")
        account = auth_client.get(f"/api/v1/accounts/{source.pk}").json()
        assert (account["balance"], account["available"], account["pending_debits"]) == (
            "88.00",
            "88.00",
            "0.00",
        )

    def test_hold_void(self, auth_client, pair):
        hold = create_transfer(auth_client, *pair, "30.00", pending=True).json()
        voided = auth_client.post(
            f"/api/v1/transfers/{hold['id']}/void", format="json", HTTP_IDEMPOTENCY_KEY="v"
        )
        assert voided.status_code == 200 and voided.json()["status"] == "voided"
        again = auth_client.post(
            f"/api/v1/transfers/{hold['id']}/void", format="json", HTTP_IDEMPOTENCY_KEY="v2"
        )
        assert again.status_code == 422 and again.json()["code"] == "invalid_state"

    def test_posting_an_expired_hold_is_hold_expired(self, auth_client, pair):
        from unittest import mock

        hold = create_transfer(auth_client, *pair, "30.00", pending=True, expires_in=60).json()
        with mock.patch(
            "ledger.services.holds.timezone.now", return_value=timezone.now() + timedelta(minutes=2)
        ):
            response = auth_client.post(
                f"/api/v1/transfers/{hold['id']}/post", format="json", HTTP_IDEMPOTENCY_KEY="late"
            )
        assert response.status_code == 422 and response.json()["code"] == "hold_expired"

    def test_expires_in_without_pending_is_refused(self, auth_client, pair):
        response = create_transfer(auth_client, *pair, expires_in=60)
        assert response.status_code == 400 and "expires_in" in response.json()["errors"]

    def test_a_transfer_post_uses_a_fixed_number_of_queries(
        self, auth_client, pair, django_assert_num_queries
    ):
        create_transfer(auth_client, *pair, key="warm-up")  # system accounts, caches
        # user, key claim, BEGIN, key lock, SAVEPOINT, ledger_transfer_post (locks, checks and writes the
        # transfer, its entries and the accounts), RELEASE, key update, COMMIT
        with django_assert_num_queries(9):
            assert create_transfer(auth_client, *pair, key="counted").status_code == 201


class TestWhoMayCreditWhom:
    """Pushing money into another customer's account is allowed only into accounts whose owner opted in
    (accepts_external_transfers, off by default); the receiver never sees the sender's balances."""

    def test_a_transfer_into_another_customers_account_is_not_found_unless_it_opted_in(self, auth_client):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 1_000)
        theirs = AccountFactory()
        refused = create_transfer(auth_client, source, theirs, "1.00", key="1")
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"
        theirs.refresh_from_db()
        source.refresh_from_db()
        assert theirs.balance == 0 and source.balance == 1_000

    def test_the_owner_opts_in_through_the_api_and_then_receives(self, auth_client, client_for):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 1_000)
        theirs = AccountFactory()
        owner = client_for(theirs.owner)
        opted = owner.patch(
            f"/api/v1/accounts/{theirs.pk}", {"accepts_external_transfers": True}, format="json"
        )
        assert opted.status_code == 200, opted.content
        assert opted.json()["accepts_external_transfers"] is True
        sent = create_transfer(auth_client, source, theirs, "2.50", key="2")
        assert sent.status_code == 201, sent.content
        theirs.refresh_from_db()
        assert theirs.balance == 250

    def test_only_the_owner_may_change_the_setting(self, auth_client):
        theirs = AccountFactory()
        response = auth_client.patch(
            f"/api/v1/accounts/{theirs.pk}", {"accepts_external_transfers": True}, format="json"
        )
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.accepts_external_transfers is False

    def test_new_accounts_do_not_accept_external_transfers(self, auth_client):
        response = auth_client.post("/api/v1/accounts", {"currency": "USD"}, format="json")
        assert response.json()["accepts_external_transfers"] is False

    def test_own_accounts_always_accept_from_each_other(self, auth_client):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 1_000)
        mine = AccountFactory(owner=auth_client.user)
        assert create_transfer(auth_client, source, mine, "1.00", key="3").status_code == 201

    def test_the_receiver_never_sees_the_senders_balances(self, auth_client, client_for):
        source = AccountFactory(owner=auth_client.user)
        fund(source, 123_456)
        theirs = AccountFactory(accepts_external_transfers=True)
        transfer = create_transfer(auth_client, source, theirs, "1.00", key="4").json()
        receiver = client_for(theirs.owner)
        seen = receiver.get(f"/api/v1/transfers/{transfer['id']}").json()
        listed = receiver.get("/api/v1/transfers").json()["results"]
        text = json.dumps([seen, listed])
        assert "1234.56" not in text and "1233.56" not in text and "balance" not in text
        assert receiver.get(f"/api/v1/accounts/{source.pk}").status_code == 404
        assert receiver.get(f"/api/v1/accounts/{source.pk}/entries").status_code == 404
        assert receiver.get("/api/v1/transfers", {"account": str(source.pk)}).status_code == 404
