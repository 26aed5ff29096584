"""Request ids: generated or taken from X-Request-ID, returned on every response, in problems and in logs."""

import json
import logging
import re

import pytest
from django.conf import settings
from django_guid.log_filters import CorrelationId
from pythonjsonlogger.json import JsonFormatter

from core.api import views

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def caplog_with_request_id(caplog):
    """caplog whose records carry `correlation_id`, exactly as the LOGGING console handler adds it."""
    correlation_filter = CorrelationId()
    caplog.handler.addFilter(correlation_filter)
    yield caplog
    caplog.handler.removeFilter(correlation_filter)


@pytest.fixture
def cache_down(monkeypatch):
    def check_cache():
        raise ConnectionError("cache is down (test)")

    monkeypatch.setitem(views.CHECKS, "cache", check_cache)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/problems/not_found"),
        ("get", "/api/v1/accounts"),  # 401 problem
        ("get", "/no-such-page"),  # 404 from Django's handler
        ("post", "/api/v1/auth/register"),  # 400 problem
        ("delete", "/api/v1/auth/register"),  # 405 problem
        ("get", "/api/schema/"),
    ],
)
def test_generated_request_id_is_returned_on_every_response(api_client, method, url):
    response = getattr(api_client, method)(url)

    assert GENERATED_ID.match(response["X-Request-ID"]), response["X-Request-ID"]
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


@pytest.mark.django_db
def test_authenticated_success_response_carries_a_request_id(auth_client):
    response = auth_client.get("/api/v1/accounts")

    assert response.status_code == 200
    assert GENERATED_ID.match(response["X-Request-ID"])


def test_each_request_gets_a_different_generated_id(api_client):
    ids = {api_client.get("/healthz")["X-Request-ID"] for _ in range(5)}

    assert len(ids) == 5


@pytest.mark.parametrize(
    "incoming", ["abc-123", "0f" * 16, "6f1c1d8e-6a7b-4f0e-9a51-0c3f1e2d4b5a", "Trace.42_x"]
)
def test_incoming_request_id_is_returned_as_is(api_client, incoming):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


def test_incoming_request_id_is_the_request_id_of_a_problem(api_client):
    response = api_client.get("/api/v1/accounts", HTTP_X_REQUEST_ID="client-chosen-id-7")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "client-chosen-id-7"
    assert response.json()["request_id"] == "client-chosen-id-7"


def test_generated_request_id_is_the_request_id_of_a_problem(api_client):
    response = api_client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["request_id"] == response["X-Request-ID"]


def test_request_id_is_on_log_records_emitted_during_the_request(api_client, caplog_with_request_id):
    caplog = caplog_with_request_id
    with caplog.at_level(logging.WARNING, logger="django.request"):
        first = api_client.get("/no-such-page-1")
        second = api_client.get("/no-such-page-2", HTTP_X_REQUEST_ID="second-request")

    by_path = {record.getMessage(): record for record in caplog.records if record.name == "django.request"}
    assert by_path["Not Found: /no-such-page-1"].correlation_id == first["X-Request-ID"]
    assert by_path["Not Found: /no-such-page-2"].correlation_id == "second-request" == second["X-Request-ID"]


@pytest.mark.django_db
def test_request_id_is_on_application_log_records(api_client, caplog_with_request_id, cache_down):
    caplog = caplog_with_request_id
    with caplog.at_level(logging.WARNING, logger="core.api.views"):
        response = api_client.get("/readyz", HTTP_X_REQUEST_ID="readiness-probe-1")

    assert (
        response.status_code == 200 and response.json()["status"] == "degraded"
    )  # the cache is not required
    records = [record for record in caplog.records if record.name == "core.api.views"]
    assert records
    assert {record.correlation_id for record in records} == {"readiness-probe-1"}


def test_logging_config_puts_the_request_id_filter_on_the_console_handler():
    console = settings.LOGGING["handlers"]["console"]

    assert "correlation_id" in console["filters"]
    assert settings.LOGGING["filters"]["correlation_id"]["()"] == "django_guid.log_filters.CorrelationId"
    assert settings.LOGGING["root"]["handlers"] == ["console"]
    assert any(isinstance(f, CorrelationId) for h in logging.getLogger().handlers for f in h.filters)


def test_json_log_lines_carry_the_request_id_as_request_id(api_client, caplog_with_request_id):
    """The production formatter, as configured, renders the correlation id under the key request_id."""
    config = settings.LOGGING["formatters"]["json"]
    formatter = JsonFormatter(config["fmt"], rename_fields=config["rename_fields"])
    caplog = caplog_with_request_id
    with caplog.at_level(logging.WARNING, logger="django.request"):
        api_client.get("/no-such-page", HTTP_X_REQUEST_ID="json-log-id")

    record = next(record for record in caplog.records if record.name == "django.request")
    line = json.loads(formatter.format(record))
    assert line["request_id"] == "json-log-id"
    assert line["level"] == "WARNING"
    assert line["logger"] == "django.request"


def test_text_log_lines_carry_the_request_id(api_client, caplog_with_request_id):
    formatter = logging.Formatter(settings.LOGGING["formatters"]["text"]["format"])
    caplog = caplog_with_request_id
    with caplog.at_level(logging.WARNING, logger="django.request"):
        api_client.get("/no-such-page", HTTP_X_REQUEST_ID="text-log-id")

    record = next(record for record in caplog.records if record.name == "django.request")
    assert "[text-log-id]" in formatter.format(record)
