"""The base of every app's expected failures, which the API turns into problem details.

Each app keeps its own error module with its own codes (ledger.errors.LedgerError,
payments.errors.PaymentError); the exception handler renders any ApiError.
"""


class ApiError(Exception):
    """An expected, client-facing failure: a stable `code`, a human `detail`, an HTTP status.

    Services raise a subclass of it (their app's error class); the exception
    handler renders it as an RFC 9457 problem.
    """

    status = 400
    title: str | None = None

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        status: int | None = None,
        errors: dict[str, list[str]] | None = None,
        extra: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        if status is not None:
            self.status = status
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}  # e.g. Retry-After on a 503

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.detail!r}, status={self.status})"


def not_found(what: str, ident: object) -> ApiError:
    """404 not_found for an object the caller named but cannot see (missing, or someone else's)."""
    return ApiError("not_found", f"No {what} {ident}.", status=404)
