"""Expected failures of settlement and reconciliation, each with a stable code.

ReportInvalid is bad input (a malformed report, exit 2 on the command line): it carries the line of
the file and the reason, and nothing of the report is applied.
"""

from __future__ import annotations

from core.errors import ApiError


class ReconciliationError(ApiError):
    """A business rule refused the operation; nothing was changed. 422 unless said otherwise."""

    status = 422


class ReportInvalid(ReconciliationError):
    """The settlement report cannot be used: `line` of the file (1 = header) and why."""

    status = 400

    def __init__(self, line: int, reason: str) -> None:
        super().__init__("report_invalid", f"line {line}: {reason}", extra={"line": line, "reason": reason})
        self.line = line
        self.reason = reason


def report_changed(*, provider: str, day: object, version: int) -> ReconciliationError:
    return ReconciliationError(
        "report_changed",
        f"{provider} report {day} version {version} was already imported with other contents;"
        " a published version never changes.",
        status=409,
    )


def report_unavailable(*, provider: str, day: object, detail: str) -> ReconciliationError:
    return ReconciliationError(
        "report_unavailable", f"The {provider} report for {day} could not be fetched: {detail}", status=503
    )
