"""A persistent database connection the server dropped (a restart, a failover, an idle timeout).

Connections are kept CONN_MAX_AGE seconds and not checked before each request (DB_CONN_HEALTH_CHECKS is
off by default: the `SELECT 1` cost 14 % of the transfer endpoint's throughput, docs/performance.md).
The promise instead: the one request that meets the dead connection is a 503 problem with Retry-After,
which a client retries, and Django closes the connection at the end of it, so the next request gets a
fresh one. Driven through the real WSGI handler (the test client unhooks the signals that close
connections), against real PostgreSQL, the connection killed with pg_terminate_backend.
"""

from __future__ import annotations

import io
import json

import psycopg
import pytest
from django.core.wsgi import get_wsgi_application
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from ledger.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _get(app, path: str, token: str) -> tuple[int, dict, dict]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
    }
    started: list = []
    response = app(environ, lambda status, headers, *_: started.append((status, dict(headers))))
    try:
        body = b"".join(response)
    finally:
        response.close()  # request_finished: where Django closes a connection that failed
    status, headers = started[0]
    return int(status.split()[0]), headers, json.loads(body)


@pytest.fixture
def persistent_connections():
    settings_dict = connection.settings_dict
    saved = settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"]
    settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"] = 60, False
    connection.close()
    yield
    settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"] = saved
    connection.close()


def test_the_request_meeting_a_dropped_connection_is_a_503_and_the_next_one_succeeds(persistent_connections):
    account = AccountFactory()
    token = str(AccessToken.for_user(account.owner))
    app = get_wsgi_application()
    path = f"/api/v1/accounts/{account.pk}"

    assert _get(app, path, token)[0] == 200
    backend = connection.connection.info.backend_pid  # kept open for the next request
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"],
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password")},
        autocommit=True,
    ) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [backend]).fetchone() == (True,)

    status, headers, problem = _get(app, path, token)
    assert status == 503 and problem["code"] == "service_unavailable" and "Retry-After" in headers
    assert connection.connection is None  # closed at the end of the failed request

    status, _, body = _get(app, path, token)
    assert status == 200 and body["id"] == str(account.pk)
