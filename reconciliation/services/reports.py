"""Getting a provider's settlement report and importing it, once.

The report is fetched over the provider's API (or taken from a file) into a file on disk outside any
transaction, then imported in one: its lines are parsed and validated as a stream and COPYed into a
temporary staging table, checked there as a set (over-long fields) and copied into SettlementLine
with one INSERT ... SELECT (whose unique (report, line_id) refuses a repeated line id, then named). Any bad line fails the whole import with its line number,
and nothing of the report is kept. Importing is idempotent by (provider, day, checksum): the same bytes
again return the report already imported; a different file for a version already imported is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from payments import providers
from payments.providers import SettlementReportSource
from payments.providers.settlement import SettlementReportError, settlement_report_from_file

from ..errors import ReportInvalid, report_changed, report_unavailable
from ..locks import provider_day_lock
from ..models import SettlementReport

_STAGING = """
    CREATE TEMPORARY TABLE reconciliation_staging (
        line_number integer NOT NULL, line_id text NOT NULL, line_type text NOT NULL,
        psp_reference text NOT NULL, merchant_reference text NOT NULL, batch_id text NOT NULL,
        payout_id text NOT NULL, created_at timestamptz NOT NULL, available_on date NOT NULL,
        currency text NOT NULL, gross bigint NOT NULL, fee bigint NOT NULL, net bigint NOT NULL,
        batch_net bigint
    ) ON COMMIT DROP
"""
_COLUMNS = (
    "line_number, line_id, line_type, psp_reference, merchant_reference, batch_id, payout_id,"
    " created_at, available_on, currency, gross, fee, net, batch_net"
)
# Checked on the staged set: what the streaming parser cannot know alone.
_TOO_LONG = """
    SELECT min(line_number) FROM reconciliation_staging
     WHERE length(line_id) > 100 OR length(psp_reference) > 100 OR length(merchant_reference) > 100
        OR length(batch_id) > 100 OR length(payout_id) > 100
"""
# Only run when the unique (report, line_id) refused the insert: which line repeats an earlier line_id.
_DUPLICATE = """
    SELECT line_number, line_id FROM (
        SELECT line_number, line_id, row_number() OVER (PARTITION BY line_id ORDER BY line_number) AS n
          FROM reconciliation_staging) AS s
     WHERE n > 1 ORDER BY line_number LIMIT 1
"""


def report_fetch(*, provider: str, day: date, file: Path | None = None) -> providers.SettlementReport:
    """The day's report on disk: the given file, or the latest version from the provider's API.

    A file's version is decided at import: the next of the day's files (unless its bytes were imported).
    The caller closes the report (a downloaded one is a temporary file).
    """
    if file is not None:
        try:
            return settlement_report_from_file(file, provider=provider, day=day)
        except OSError as exc:
            raise ReportInvalid(0, f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        return providers.get_provider(provider).settlement_report(day=day)
    except providers.ProviderError as exc:
        raise report_unavailable(provider=provider, day=day, detail=str(exc)) from exc


def _copy_lines(report: providers.SettlementReport) -> int:
    """Stream the parsed lines into the staging table; returns how many."""
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(_STAGING)
        raw = cursor.cursor
        with raw.copy(f"COPY reconciliation_staging ({_COLUMNS}) FROM STDIN") as copy:
            for line in _lines(report):
                copy.write_row(
                    (
                        line.line_number,
                        line.line_id,
                        line.line_type.value,
                        line.psp_reference,
                        line.merchant_reference,
                        line.batch_id,
                        line.payout_id,
                        line.created_at,
                        line.available_on,
                        line.currency,
                        line.gross,
                        line.fee,
                        line.net,
                        line.batch_net,
                    )
                )
                count += 1
    return count


def _lines(report: providers.SettlementReport) -> Iterator[providers.SettlementLine]:
    try:
        yield from report.lines(allow_payout_mismatch=True)
    except SettlementReportError as exc:
        raise ReportInvalid(exc.line, exc.reason) from None


@transaction.atomic
def report_import(*, report: providers.SettlementReport) -> tuple[SettlementReport, bool]:
    """Import one version of a day's report, or find it already imported. Returns (report, created).

    Raises ReportInvalid (with the line) for a malformed report, report_changed for other bytes under a
    version already imported. Nothing is written unless the whole report is good.
    """
    provider_day_lock(provider=report.provider, day=report.day)
    existing = SettlementReport.objects.filter(
        provider=report.provider, day=report.day, checksum=report.checksum
    ).first()
    if existing is not None:
        return existing, False
    if report.source == SettlementReportSource.API:
        version = report.version
        if SettlementReport.objects.filter(
            provider=report.provider, day=report.day, version=version
        ).exists():
            raise report_changed(provider=report.provider, day=report.day, version=version)
    else:
        latest = SettlementReport.objects.filter(
            provider=report.provider, day=report.day, source=report.source.value
        ).aggregate(latest=Max("version"))["latest"]
        version = (latest or 0) + 1
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '128MB'")
    count = _copy_lines(report)
    with connection.cursor() as cursor:
        cursor.execute(_TOO_LONG)
        (too_long,) = cursor.fetchone()
        if too_long is not None:
            raise ReportInvalid(too_long, "a field is longer than 100 characters")
    now = timezone.now()
    imported = SettlementReport.objects.create(
        provider=report.provider,
        day=report.day,
        version=version,
        checksum=report.checksum,
        source=report.source.value,
        size=report.size,
        line_count=count,
        fetched_at=now,
        imported_at=now,
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO reconciliation_settlementline (report_id, {_COLUMNS})
                    SELECT %s, {_COLUMNS} FROM reconciliation_staging""",  # noqa: S608
                [imported.pk],
            )
    except IntegrityError:
        with connection.cursor() as cursor:
            cursor.execute(_DUPLICATE)
            duplicate = cursor.fetchone()
        if duplicate is None:
            raise
        raise ReportInvalid(
            duplicate[0], f"duplicate line_id {duplicate[1]!r} (line_id is unique in a report)"
        ) from None
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE reconciliation_staging")
    return imported, True
