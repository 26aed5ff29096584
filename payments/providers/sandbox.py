"""SandboxProvider: the PaymentProvider adapter for the sandbox card processor's HTTP API.

It owns the HTTP conversation (auth, idempotency headers, timeouts), the mapping of transport
failures to ProviderUnavailable / ProviderTimeout / ProviderRequestError, and the translation of the
processor's JSON into the dataclasses of base.py. It never retries: the retry policy belongs to the
caller, which knows whether it holds an idempotency key worth retrying with.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, NoReturn, TypeVar, cast
from urllib.parse import quote

import httpx

from . import signatures
from .base import (
    CHARGE_STATUSES,
    REFUND_STATUSES,
    ChargeRequest,
    ChargeStatus,
    ProviderCharge,
    ProviderError,
    ProviderRefund,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    RefundStatus,
    SettlementReport,
    WebhookEvent,
    WebhookVerificationError,
)
from .settlement import settlement_report_download

_T = TypeVar("_T")


class _InvalidResponse(Exception):
    """The processor's JSON is not what the API promises."""


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise _InvalidResponse(f"{key} is not an integer")
    return value


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise _InvalidResponse(f"{key} is not a string")
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _InvalidResponse(f"{key} is not a string")
    return value


def _timestamp(data: Mapping[str, Any], key: str) -> datetime:
    return datetime.fromtimestamp(_int(data, key), tz=UTC)


def charge_from_json(data: Mapping[str, Any]) -> ProviderCharge:
    status = _str(data, "status")
    if status not in CHARGE_STATUSES:
        raise _InvalidResponse(f"unknown charge status {status!r}")
    return ProviderCharge(
        id=_str(data, "id"),
        status=cast(ChargeStatus, status),  # checked against CHARGE_STATUSES above
        amount=_int(data, "amount"),
        amount_captured=_int(data, "amount_captured"),
        amount_refunded=_int(data, "amount_refunded"),
        currency=_str(data, "currency"),
        failure_code=_opt_str(data, "failure_code"),
        failure_message=_opt_str(data, "failure_message"),
        created=_timestamp(data, "created"),
        reference=_opt_str(data, "reference") or "",
        idempotency_key=_opt_str(data, "idempotency_key") or "",
    )


def refund_from_json(data: Mapping[str, Any]) -> ProviderRefund:
    status = _str(data, "status")
    if status not in REFUND_STATUSES:
        raise _InvalidResponse(f"unknown refund status {status!r}")
    return ProviderRefund(
        id=_str(data, "id"),
        charge_id=_str(data, "charge"),
        amount=_int(data, "amount"),
        currency=_str(data, "currency"),
        status=cast(RefundStatus, status),  # checked against REFUND_STATUSES above
        failure_code=_opt_str(data, "failure_code"),
        failure_message=_opt_str(data, "failure_message"),
        created=_timestamp(data, "created"),
    )


def _segment(value: str) -> str:
    # An id is one path segment, whatever it contains.
    return quote(value, safe="")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Plain dicts are case-sensitive; HTTP header names are not.
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


class SandboxProvider:
    """PaymentProvider over the sandbox processor (the top-level sandbox package). Thread-safe; one connection pool."""

    def __init__(
        self,
        *,
        name: str = "sandbox",
        base_url: str,
        api_key: str,
        webhook_secret: str | Iterable[str],
        timeout_seconds: float = 10.0,
        connect_timeout_seconds: float = 2.0,
        webhook_tolerance_seconds: int = signatures.DEFAULT_TOLERANCE_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.webhook_secret = webhook_secret if isinstance(webhook_secret, str) else tuple(webhook_secret)
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": "LedgerPay/1.0 (+payments.providers)",
            },
            timeout=httpx.Timeout(
                connect=connect_timeout_seconds,
                read=timeout_seconds,
                write=timeout_seconds,
                pool=connect_timeout_seconds,
            ),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"<SandboxProvider {self.name} {self.base_url}>"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SandboxProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- HTTP -----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            response = self._client.request(method, path, json=body, params=params, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing was sent, so nothing happened at the provider.
            raise ProviderUnavailable("connection_failed", f"{method} {path}: {exc!r}") from exc
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            raise ProviderTimeout("timeout", f"{method} {path}: no answer in time ({exc!r})") from exc
        except httpx.TransportError as exc:
            # The request went out and the connection broke before an answer: the provider may
            # have acted on it, which is the same ambiguity as a read timeout.
            raise ProviderTimeout("connection_lost", f"{method} {path}: {exc!r}") from exc

        status = response.status_code
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if status < 300:
            if not isinstance(data, dict):
                raise ProviderError(
                    "invalid_response", f"{method} {path}: {status} without a JSON object", True
                )
            return data
        self._raise_for_status(response, method, path, data)

    @staticmethod
    def _raise_for_status(response: httpx.Response, method: str, path: str, data: Any = None) -> NoReturn:
        """Raise the ProviderError that an error answer (status >= 300) means."""
        status = response.status_code
        if data is None:
            try:
                data = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                data = None
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        code = code if isinstance(code, str) and code else f"http_{status}"
        message = message if isinstance(message, str) else response.text[:200]
        if status >= 500 or status == 429:
            raise ProviderUnavailable(code, message, http_status=status)
        raise ProviderRequestError(code, message, http_status=status)

    def _parse(self, parser: Callable[[Any], _T], data: Any, what: str) -> _T:
        try:
            return parser(data)
        except (_InvalidResponse, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ProviderError("invalid_response", f"unreadable {what}: {exc!r}", True) from exc

    # --- PaymentProvider -------------------------------------------------------------------------

    def authorize(self, request: ChargeRequest) -> ProviderCharge:
        body = {
            "amount": request.amount,
            "currency": request.currency,
            "payment_method": request.payment_method,
            "capture": request.capture,
            "reference": request.reference,
            "metadata": dict(request.metadata),
        }
        data = self._request("POST", "/v1/charges", body=body, idempotency_key=request.idempotency_key)
        return self._parse(charge_from_json, data, "charge")

    def capture(self, *, charge_id: str, amount: int | None, idempotency_key: str) -> ProviderCharge:
        body: dict[str, Any] = {} if amount is None else {"amount": amount}
        data = self._request(
            "POST",
            f"/v1/charges/{_segment(charge_id)}/capture",
            body=body,
            idempotency_key=idempotency_key,
        )
        return self._parse(charge_from_json, data, "charge")

    def cancel(self, *, charge_id: str, idempotency_key: str) -> ProviderCharge:
        data = self._request(
            "POST",
            f"/v1/charges/{_segment(charge_id)}/cancel",
            body={},
            idempotency_key=idempotency_key,
        )
        return self._parse(charge_from_json, data, "charge")

    def refund(self, *, charge_id: str, amount: int, idempotency_key: str) -> ProviderRefund:
        body = {"charge": charge_id, "amount": amount}
        data = self._request("POST", "/v1/refunds", body=body, idempotency_key=idempotency_key)
        return self._parse(refund_from_json, data, "refund")

    def retrieve_charge(self, *, charge_id: str) -> ProviderCharge:
        return self._parse(
            charge_from_json, self._request("GET", f"/v1/charges/{_segment(charge_id)}"), "charge"
        )

    def find_charge(self, *, idempotency_key: str) -> ProviderCharge | None:
        data = self._request("GET", "/v1/charges", params={"idempotency_key": idempotency_key})
        matches = self._parse(lambda d: [charge_from_json(c) for c in d["data"]], data, "charge list")
        return matches[0] if matches else None

    def retrieve_refund(self, *, refund_id: str) -> ProviderRefund:
        return self._parse(
            refund_from_json, self._request("GET", f"/v1/refunds/{_segment(refund_id)}"), "refund"
        )

    def parse_webhook(
        self, *, payload: bytes, headers: Mapping[str, str], now: datetime | None = None
    ) -> WebhookEvent:
        signatures.verify(
            payload,
            _header(headers, signatures.SIGNATURE_HEADER),
            self.webhook_secret,
            tolerance=self.webhook_tolerance_seconds,
            now=now,
        )
        try:
            data = json.loads(payload)
            obj = data["data"]["object"]
            kind = obj.get("object")
            return WebhookEvent(
                id=_str(data, "id"),
                type=_str(data, "type"),
                created=_timestamp(data, "created"),
                charge=charge_from_json(obj) if kind == "charge" else None,
                refund=refund_from_json(obj) if kind == "refund" else None,
            )
        except (ValueError, KeyError, TypeError, AttributeError, _InvalidResponse) as exc:
            raise WebhookVerificationError(
                "payload_invalid", f"The event body is unreadable: {exc!r}"
            ) from exc

    def settlement_report(self, *, day: date, version: int | None = None) -> SettlementReport:
        """Download the day's CSV report (GET /v1/settlement_reports/{day}.csv) to a temporary file,
        streaming; parse it with report.lines() (payments.providers.settlement)."""
        path = f"/v1/settlement_reports/{day.isoformat()}.csv"
        params = {"version": str(version)} if version is not None else None
        try:
            with self._client.stream("GET", path, params=params) as response:
                if response.status_code >= 300:
                    response.read()
                    self._raise_for_status(response, "GET", path)
                number = response.headers.get("Settlement-Report-Version", "")
                if not number.isdigit():
                    raise ProviderError("invalid_response", f"GET {path}: no Settlement-Report-Version", True)
                return settlement_report_download(
                    response.iter_bytes(), provider=self.name, day=day, version=int(number)
                )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderUnavailable("connection_failed", f"GET {path}: {exc!r}") from exc
        except httpx.TransportError as exc:
            # A read is safe to repeat: a broken download is simply unavailable, never ambiguous.
            raise ProviderUnavailable("connection_lost", f"GET {path}: {exc!r}") from exc
