"""Inputs and outages that used to answer 500: each is a problem the client can act on, and changes nothing."""

import json

import pytest
from django.db import OperationalError

from core.models import IdempotencyKey
from ledger.models import Account, Transfer
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


def post_json(client, url: str, raw: str, key: str | None = "k"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, raw, content_type="application/json", **headers)


def transfer_body(source, destination, **extra) -> dict:
    return {
        "source": str(source.pk),
        "destination": str(destination.pk),
        "amount": "1.00",
        "currency": "USD",
        **extra,
    }


# JSON text with escapes, so the request really carries \u0000 and a lone surrogate.
UNSTORABLE = [
    ("description", lambda body: body | {"description": "a\x00b"}, "description"),
    ("metadata value", lambda body: body | {"metadata": {"note": "x\x00"}}, "metadata.note"),
    ("metadata key", lambda body: body | {"metadata": {"k\x00ey": "v"}}, "metadata.k\\x00ey"),
    ("lone surrogate", lambda body: body | {"description": "\ud800"}, "description"),
    ("unknown field key", lambda body: body | {"\x00": 1}, "\\x00"),
]


@pytest.mark.parametrize(("case", "change", "field"), UNSTORABLE, ids=[c[0] for c in UNSTORABLE])
def test_text_postgresql_cannot_store_is_a_400_naming_the_field_and_leaves_no_key(
    auth_client, case, change, field
):
    source = AccountFactory(owner=auth_client.user)
    fund(source, 1_000)
    destination = AccountFactory(owner=auth_client.user)
    raw = json.dumps(change(transfer_body(source, destination)))  # ensure_ascii: \u0000, \ud800 escapes
    response = post_json(auth_client, "/api/v1/transfers", raw)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()
    assert not IdempotencyKey.objects.exists()
    assert Transfer.objects.filter(kind="transfer").count() == 0
    # Corrected, the same key then works: it was never left in_progress.
    fixed = post_json(auth_client, "/api/v1/transfers", json.dumps(transfer_body(source, destination)))
    assert fixed.status_code == 201, fixed.content


def test_a_nul_in_payment_metadata_keys_is_a_400(auth_client):
    account = AccountFactory(owner=auth_client.user)
    body = {
        "account": str(account.pk),
        "amount": "5.00",
        "currency": "USD",
        "payment_method": "pm_card_visa",
        "metadata": {"a\x00": "b"},
    }
    response = post_json(auth_client, "/api/v1/payments", json.dumps(body))
    assert response.status_code == 400 and "metadata.a\\x00" in response.json()["errors"]
    assert not IdempotencyKey.objects.exists()


def test_a_garbled_cursor_is_a_400_invalid_cursor(auth_client):
    account = AccountFactory(owner=auth_client.user)
    fund(account, 100)
    # Not base64; base64 of no cursor fields; a position that is not an id; an offset that is not a number.
    for cursor in ("garbage!", "%00", "cD14", "bz14JnA9MQ=="):
        response = auth_client.get(f"/api/v1/accounts/{account.pk}/entries", {"cursor": cursor})
        assert response.status_code == 400, (cursor, response.content)
        assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize("key", ["clé-é", "key\x00", "ключ", "a\tb"])
def test_an_idempotency_key_outside_printable_ascii_is_a_400(auth_client, key):
    source = AccountFactory(owner=auth_client.user)
    fund(source, 1_000)
    destination = AccountFactory(owner=auth_client.user)
    # The WSGI environ carries headers as latin-1 text: what a client's UTF-8 bytes arrive as.
    raw_key = key.encode().decode("latin-1")
    response = post_json(
        auth_client, "/api/v1/transfers", json.dumps(transfer_body(source, destination)), raw_key
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "idempotency_key_invalid"
    assert not IdempotencyKey.objects.exists() and not Transfer.objects.filter(kind="transfer").exists()


def test_listing_transfers_of_someone_elses_account_is_404(auth_client):
    theirs = AccountFactory()
    fund(theirs, 1_000)
    response = auth_client.get("/api/v1/transfers", {"account": str(theirs.pk)})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    mine = AccountFactory(owner=auth_client.user)
    assert auth_client.get("/api/v1/transfers", {"account": str(mine.pk)}).status_code == 200


def _database_down(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def test_postgresql_unreachable_is_a_503_problem_with_retry_after(auth_client, monkeypatch):
    account = AccountFactory(owner=auth_client.user)
    monkeypatch.setattr(Account.objects, "filter", _database_down)
    response = auth_client.get(f"/api/v1/accounts/{account.pk}")
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable" and int(response["Retry-After"]) > 0


def test_postgresql_unreachable_is_a_503_with_debug_on_too(auth_client, monkeypatch, settings):
    settings.DEBUG = True
    account = AccountFactory(owner=auth_client.user)
    monkeypatch.setattr(Account.objects, "filter", _database_down)
    response = auth_client.get(f"/api/v1/accounts/{account.pk}")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


def test_postgresql_unreachable_outside_a_view_is_a_503(api_client, monkeypatch, settings):
    """A failure in middleware reaches Django's 500 handler, which answers 503 for an outage."""
    from core.api import middleware

    def broken_call(self, request):
        _database_down()

    monkeypatch.setattr(middleware.RequestIdSanitizerMiddleware, "__call__", broken_call)
    from django.test import Client

    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


@pytest.fixture
def redis_down(settings) -> None:
    """The cache pointed at a port nothing listens on: every cache call fails as in a Redis outage."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    # Django's setting_changed handler drops the cache connections, so the next use connects anew.


def test_redis_down_fails_nothing_money_moves_and_replays_from_the_database(auth_client, redis_down):
    source = AccountFactory(owner=auth_client.user)
    fund(source, 1_000)
    destination = AccountFactory(owner=auth_client.user)
    raw = json.dumps(transfer_body(source, destination))
    first = post_json(auth_client, "/api/v1/transfers", raw)
    again = post_json(auth_client, "/api/v1/transfers", raw)
    assert first.status_code == again.status_code == 201, first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Transfer.objects.filter(kind="transfer").count() == 1


def test_redis_down_does_not_fail_a_login(api_client, redis_down):
    from accounts.tests.factories import UserFactory

    user = UserFactory(email="r@example.com")
    user.set_password("a-Long-passw0rd")
    user.save()
    bad = api_client.post("/api/v1/auth/token", {"email": "r@example.com", "password": "nope"}, format="json")
    assert bad.status_code == 401
    good = api_client.post(
        "/api/v1/auth/token", {"email": "r@example.com", "password": "a-Long-passw0rd"}, format="json"
    )
    assert good.status_code == 200
