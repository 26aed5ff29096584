"""Liveness and readiness: /healthz always answers; /readyz needs the database and reports the broker and
the cache, whose outage the API survives, as degraded (200) rather than not ready."""

import pytest

from core.api import views
from ledgerpay.celery import app as celery_app

CLOSED_PORT_BROKER = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens on port 1


def assert_not_ready(response, failed: str) -> dict:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 503
    assert body["code"] == "service_unavailable"
    assert body["type"] == "/problems/service_unavailable"
    assert failed in body["detail"]
    assert body["checks"][failed].startswith("unavailable")
    assert body["request_id"] == response["X-Request-ID"]
    return body


def assert_degraded(response, failed: str) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"][failed].startswith("unavailable")
    return body


def test_healthz_is_200_ok(api_client):
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_needs_no_authentication_and_no_database(api_client):
    # No django_db mark: any database query would fail this test.
    assert api_client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_with_every_check_ok(api_client):
    response = api_client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readyz_is_degraded_naming_the_broker_while_it_is_unreachable_then_ready_again(
    api_client, monkeypatch
):
    # The broker check connects with ledgerpay.celery.app, which writes to broker_write_url.
    # One test for both (each unreachable-broker request takes about 2 s: kombu's retry interval).
    monkeypatch.setattr(celery_app.conf, "broker_url", CLOSED_PORT_BROKER)
    monkeypatch.setattr(celery_app.conf, "broker_write_url", CLOSED_PORT_BROKER)

    body = assert_degraded(api_client.get("/readyz"), "broker")

    assert body["checks"] == {"database": "ok", "broker": body["checks"]["broker"], "cache": "ok"}

    monkeypatch.undo()

    assert api_client.get("/readyz").json()["status"] == "ready"


@pytest.mark.django_db
def test_readyz_is_degraded_naming_the_cache_when_the_cache_fails(api_client, monkeypatch):
    def cache_down():
        raise ConnectionError("Redis is down (test)")

    monkeypatch.setitem(views.CHECKS, "cache", cache_down)

    body = assert_degraded(api_client.get("/readyz"), "cache")

    assert body["checks"]["cache"] == "unavailable: ConnectionError"
    assert body["checks"]["database"] == body["checks"]["broker"] == "ok"
    assert "Redis is down" not in response_text(body)  # the reason is logged, not sent


@pytest.mark.django_db
def test_readyz_is_degraded_when_the_cache_does_not_return_what_was_written(api_client, monkeypatch):
    monkeypatch.setattr(views.cache, "get", lambda *args, **kwargs: None)

    assert_degraded(api_client.get("/readyz"), "cache")


@pytest.mark.django_db
def test_readyz_is_503_with_retry_after_when_the_database_is_unreachable(api_client, monkeypatch):
    def database_down():
        raise OSError("PostgreSQL is down (test)")

    monkeypatch.setitem(views.CHECKS, "database", database_down)

    response = api_client.get("/readyz")

    body = assert_not_ready(response, "database")
    assert response["Retry-After"]
    assert body["checks"]["broker"] == body["checks"]["cache"] == "ok"


@pytest.mark.django_db
def test_readyz_names_every_failed_check(api_client, monkeypatch):
    def down():
        raise OSError("down (test)")

    monkeypatch.setitem(views.CHECKS, "cache", down)
    monkeypatch.setitem(views.CHECKS, "database", down)

    body = assert_not_ready(api_client.get("/readyz"), "database")

    assert body["checks"]["cache"].startswith("unavailable")
    assert body["checks"]["broker"] == "ok"


@pytest.mark.django_db
def test_readyz_logs_which_check_failed(api_client, monkeypatch, caplog):
    def cache_down():
        raise ConnectionError("Redis is down (test)")

    monkeypatch.setitem(views.CHECKS, "cache", cache_down)

    with caplog.at_level("WARNING", logger="core.api.views"):
        api_client.get("/readyz")

    assert any(
        "cache" in record.getMessage() and "Redis is down" in record.getMessage() for record in caplog.records
    )


def response_text(body: dict) -> str:
    return " ".join(str(value) for value in body.values())
