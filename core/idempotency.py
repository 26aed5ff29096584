"""Idempotent requests: one effect per (user, Idempotency-Key), the first response replayed after.

How it holds under retries, storms and crashes:
1. The key row is claimed with INSERT … ON CONFLICT DO NOTHING in its own short
   statement, so concurrent requests all see the same row.
2. The request's transaction locks that row with NOWAIT. Holding the lock means
   "in flight": a concurrent request with the same key fails to lock and gets 409
   idempotency_key_in_use. A request that died before commit leaves the row
   in_progress and unlocked (Postgres dropped its lock), so a retry runs afresh.
3. Under the lock: another fingerprint → 422 idempotency_key_reused; completed →
   replay; otherwise run the operation in a savepoint and store its response,
   refusals included, in the same commit as its money effect.
PostgreSQL is the only record. There is no cache in front of it: a cache lookup would cost every
request two Redis round trips (a miss, then the store) to spare the rare replay four cheap statements
(docs/performance.md measured what it cost).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import psycopg.errors
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.exceptions import NotAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from . import locks
from .api.exception_handler import exception_problem
from .api.problems import PROBLEM_CONTENT_TYPE
from .errors import ApiError
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str
    replayed: bool = False

    def to_http(self) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status, content_type=self.content_type)
        if self.replayed:
            response[REPLAY_HEADER] = "true"
        return response


def request_fingerprint(*, method: str, path: str, data: object) -> str:
    """SHA-256 of method, path and the parsed body in canonical form (key order and spacing don't matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def idempotency_key_validate(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise ApiError("idempotency_key_missing", f"This request needs an {HEADER} header.", status=400)
    if len(raw) > MAX_KEY_LENGTH:
        raise ApiError(
            "idempotency_key_invalid",
            f"The {HEADER} header is longer than {MAX_KEY_LENGTH} characters.",
            status=400,
        )
    if not raw.isascii() or not raw.isprintable():
        # Headers arrive as latin-1; anything outside printable ASCII would be stored garbled (or, for
        # NUL, not at all): refuse it rather than guess at its encoding.
        raise ApiError(
            "idempotency_key_invalid",
            f"The {HEADER} header must be printable ASCII.",
            status=400,
        )
    return raw


def _reused() -> ApiError:
    return ApiError(
        "idempotency_key_reused", "This Idempotency-Key was already used for a different request.", status=422
    )


def _in_use() -> ApiError:
    return ApiError(
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still being processed; retry later.",
        status=409,
    )


def _render(status: int, data: object) -> StoredResponse:
    return StoredResponse(status=status, body=JSONRenderer().render(data), content_type=JSON_CONTENT_TYPE)


def _render_error(exc: ApiError) -> StoredResponse:
    body, _ = exception_problem(exc)
    return StoredResponse(
        status=body["status"], body=JSONRenderer().render(body), content_type=PROBLEM_CONTENT_TYPE
    )


_CLAIM = """
    INSERT INTO ledger_idempotencykey
        (user_id, key, fingerprint, request_method, request_path, status, response_content_type, created_at,
         expires_at)
    VALUES (%s, %s, %s, %s, %s, %s, '', %s, %s)
    ON CONFLICT (user_id, key) DO NOTHING
"""


def _claim(*, user: AbstractBaseUser, key: str, fingerprint: str, method: str, path: str) -> None:
    """Create the key's row if it is new: one autocommitted statement, so every concurrent request with
    the key sees the same row (bulk_create would wrap it in BEGIN/COMMIT: three round trips)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM,
            [
                user.pk,
                key,
                fingerprint,
                method,
                path[:255],
                IdempotencyKey.Status.IN_PROGRESS,
                now,
                now + settings.IDEMPOTENCY_KEY_TTL,
            ],
        )


_COMPLETE = """
    UPDATE ledger_idempotencykey
       SET fingerprint = %s, request_method = %s, request_path = %s, status = %s, locked_at = %s,
           response_status = %s, response_body = %s, response_content_type = %s, expires_at = %s
     WHERE id = %s
"""


def _complete(record: IdempotencyKey, *, body: bytes) -> None:
    """Store the key's response (one statement written out: it runs while the request's locks are held)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _COMPLETE,
            [
                record.fingerprint,
                record.request_method,
                record.request_path,
                record.status,
                record.locked_at,
                record.response_status,
                body,
                record.response_content_type,
                record.expires_at,
                record.pk,
            ],
        )


def idempotent_run(
    *,
    user: AbstractBaseUser,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    operation: Callable[[], tuple[int, object]],
) -> StoredResponse:
    """Run `operation` (returning status and data to serialize) at most once for (user, key)."""
    _claim(user=user, key=key, fingerprint=fingerprint, method=method, path=path)
    try:
        with transaction.atomic(durable=True):
            record = locks.idempotency_key_lock_nowait(user=user, key=key)
            if record is None:  # purged (expired) between the claim and the lock: the client retries
                raise _in_use()
            now = timezone.now()
            if record.expires_at <= now:  # an expired key not yet purged starts over
                record.fingerprint, record.request_method, record.request_path = (
                    fingerprint,
                    method,
                    path[:255],
                )
                record.status = IdempotencyKey.Status.IN_PROGRESS
                record.expires_at = now + settings.IDEMPOTENCY_KEY_TTL
            if record.fingerprint != fingerprint:
                raise _reused()
            if record.status == IdempotencyKey.Status.COMPLETED:
                # A completed key holds its response: both are written by the one _complete() below.
                return StoredResponse(
                    cast(int, record.response_status),
                    bytes(cast(bytes, record.response_body)),
                    record.response_content_type,
                    replayed=True,
                )
            try:
                # Operations write only through atomic services, so a refusal has rolled back its own work.
                status, data = operation()
                result = _render(status, data)
            except ApiError as exc:  # a refusal is an outcome too: stored and replayed
                result = _render_error(exc)
            record.status = IdempotencyKey.Status.COMPLETED
            record.locked_at = now
            record.response_status = result.status
            record.response_body = result.body
            record.response_content_type = result.content_type
            _complete(record, body=result.body)
            return result
    except OperationalError as exc:
        if isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
            raise _in_use() from exc
        raise


def idempotency_key_purge(*, now: datetime | None = None) -> int:
    """Delete expired keys. Returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def idempotent_response(request: Request, operation: Callable[[], tuple[int, object]]) -> HttpResponse:
    """For API views: the Idempotency-Key header checked, the operation run once, the response replayable."""
    key = idempotency_key_validate(request.headers.get(HEADER))
    user = request.user
    if not isinstance(user, AbstractBaseUser):  # the views' IsAuthenticated has already refused these
        raise NotAuthenticated()
    method = request.method or ""
    fingerprint = request_fingerprint(method=method, path=request.path, data=request.data)
    stored = idempotent_run(
        user=user,
        key=key,
        fingerprint=fingerprint,
        method=method,
        path=request.path,
        operation=operation,
    )
    return stored.to_http()
