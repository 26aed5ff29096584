"""Idempotency-Key: one effect per key, the first response replayed, refusals included."""

import threading
from collections import Counter
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core import idempotency
from core.models import IdempotencyKey
from core.testing import run_in_threads
from ledger.models import Transfer
from ledger.tests.factories import AccountFactory, fund


@pytest.fixture
def accounts(user):
    source, destination = AccountFactory(owner=user), AccountFactory(accepts_external_transfers=True)
    fund(source, 10_000)
    return source, destination


def body(accounts, amount="10.00", **extra):
    source, destination = accounts
    return {
        "source": str(source.pk),
        "destination": str(destination.pk),
        "amount": amount,
        "currency": "USD",
        **extra,
    }


def post(client, data, key="key-1"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/v1/transfers", data, format="json", **headers)


pytestmark = pytest.mark.django_db


def test_a_missing_key_is_a_400_problem_and_moves_nothing(auth_client, accounts):
    response = post(auth_client, body(accounts), key=None)
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_missing"
    assert not Transfer.objects.filter(source=accounts[0]).exists()


def test_a_key_longer_than_255_characters_is_refused(auth_client, accounts):
    response = post(auth_client, body(accounts), key="k" * 256)
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_invalid"
    assert post(auth_client, body(accounts), key="k" * 255).status_code == 201


def test_a_retry_replays_the_first_response_byte_for_byte(auth_client, accounts):
    first = post(auth_client, body(accounts))
    second = post(auth_client, body(accounts))
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Transfer.objects.filter(source=accounts[0]).count() == 1


def test_the_replay_comes_from_postgres_when_the_cache_is_empty(auth_client, accounts):
    from django.core.cache import cache

    first = post(auth_client, body(accounts))
    cache.clear()
    second = post(auth_client, body(accounts))
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_a_422(auth_client, accounts):
    post(auth_client, body(accounts))
    response = post(auth_client, body(accounts, amount="11.00"))
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert Transfer.objects.filter(source=accounts[0]).count() == 1


def test_the_same_key_on_another_path_is_a_422(auth_client, accounts):
    post(auth_client, body(accounts))
    response = auth_client.post(
        "/api/v1/accounts", {"currency": "USD"}, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
    )
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"


def test_key_order_and_whitespace_do_not_change_the_fingerprint(auth_client, accounts):
    data = body(accounts)
    first = auth_client.post("/api/v1/transfers", data, format="json", HTTP_IDEMPOTENCY_KEY="k")
    reordered = "{" + ", ".join(f'"{k}": "{v}"' for k, v in reversed(list(data.items()))) + "}"
    second = auth_client.post(
        "/api/v1/transfers", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.content == first.content


def test_keys_are_scoped_per_user(auth_client, accounts, client_for):
    from accounts.tests.factories import UserFactory

    post(auth_client, body(accounts))
    other = UserFactory()
    other_source = AccountFactory(owner=other)
    fund(other_source, 1_000)
    response = post(client_for(other), {**body(accounts), "source": str(other_source.pk)})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


def test_a_business_refusal_is_stored_and_replayed(auth_client, accounts):
    first = post(auth_client, body(accounts, amount="1000.00"))
    assert first.status_code == 422 and first.json()["code"] == "insufficient_funds"
    fund(accounts[0], 100_000)  # even if it would now succeed, the key's outcome is settled
    second = post(auth_client, body(accounts, amount="1000.00"))
    assert second.status_code == 422 and second.content == first.content
    assert second["Idempotent-Replayed"] == "true"


def test_a_request_rejected_by_validation_stores_nothing(auth_client, accounts):
    response = post(auth_client, body(accounts, amount="1.001"))
    assert response.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert post(auth_client, body(accounts)).status_code == 201


def test_an_expired_key_runs_afresh(auth_client, accounts):
    post(auth_client, body(accounts))
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    from django.core.cache import cache

    cache.clear()
    response = post(auth_client, body(accounts))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Transfer.objects.filter(source=accounts[0]).count() == 2


def test_purge_deletes_only_expired_keys(auth_client, accounts):
    post(auth_client, body(accounts), key="old")
    post(auth_client, body(accounts), key="new")
    IdempotencyKey.objects.filter(key="old").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency.idempotency_key_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_default_retention_is_24_hours(auth_client, accounts):
    post(auth_client, body(accounts))
    record = IdempotencyKey.objects.get()
    assert timedelta(hours=23, minutes=59) < record.expires_at - record.created_at <= timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_a_crash_before_commit_leaves_nothing_so_the_retry_runs_afresh(auth_client, accounts):
    with (
        # after the posting has written its rows, before anything commits
        mock.patch("ledger.services.postings.saved", side_effect=RuntimeError("worker died")),
        pytest.raises(RuntimeError),
    ):
        post(auth_client, body(accounts))
    record = IdempotencyKey.objects.get()
    assert record.status == IdempotencyKey.Status.IN_PROGRESS and record.response_body is None
    assert not Transfer.objects.filter(source=accounts[0]).exists()
    response = post(auth_client, body(accounts))
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Transfer.objects.filter(source=accounts[0]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_key_in_flight_is_a_409(auth_client, accounts):
    entered, release = threading.Event(), threading.Event()

    def slow_transfer(*args, **kwargs):
        entered.set()
        release.wait(10)
        return original(*args, **kwargs)

    from ledger import services

    original = services.transfer_create
    results = {}

    def first():
        try:
            results["first"] = post(auth_client, body(accounts))
        finally:
            connection.close()

    with mock.patch("ledger.apis.transfers.services.transfer_create", side_effect=slow_transfer):
        thread = threading.Thread(target=first)
        thread.start()
        assert entered.wait(10)
        second = post(auth_client, body(accounts))
        release.set()
        thread.join(10)
    assert second.status_code == 409 and second.json()["code"] == "idempotency_key_in_use"
    assert results["first"].status_code == 201
    assert Transfer.objects.filter(source=accounts[0]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_storm_of_50_identical_requests_makes_exactly_one_transfer(user, accounts):
    token = str(AccessToken.for_user(user))

    def send(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = post(client, body(accounts), key="storm")
        return response.status_code, response.content, response.get("Idempotent-Replayed")

    results = run_in_threads(50, send)

    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    created = [(content, replayed) for status, content, replayed in results if status == 201]
    assert len({content for content, _ in created}) == 1, "every 201 carries the same body"
    assert sum(1 for _, replayed in created if replayed is None) == 1, (
        "exactly one original, the rest replays"
    )
    assert Transfer.objects.filter(source=accounts[0]).count() == 1
    accounts[0].refresh_from_db()
    assert accounts[0].balance == 10_000 - 1_000
    # Once the first has committed, every retry is a replay.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    retry = post(client, body(accounts), key="storm")
    assert retry.status_code == 201 and retry.content == created[0][0]
