"""The settlement report file format: the one parser (and its writer) on LedgerPay's side.

A report is a UTF-8 CSV file, header row first, one line per money movement, with these columns (extra
columns are ignored, their order is free):

    line_id, line_type, psp_reference, merchant_reference, batch_id, payout_id, created_at,
    available_on, currency, gross, fee, net

- line_id: the provider's id of the line, unique and never reused; line_type: a SettlementLineType.
- psp_reference: the provider's object (charge, refund, payout ...); merchant_reference: ours (the
  payment id we sent as the charge's reference, or the refund's idempotency key `ref_<refund id hex>`).
- created_at: ISO 8601 with a UTC offset (`2026-12-01T10:00:00Z`), on the report's day;
  available_on: a date (YYYY-MM-DD).
- gross, fee, net: decimal major units with exactly the currency's digits ("12.50", "500", "-3.000"),
  negative for money going back; net = gross - fee.
- Lines are grouped in batches (batch_id, one currency and one payout_id each), and a `payout` line
  closes each batch: its net is the batch's Σ net (of the lines before it). No line of a batch may
  follow its payout, and every batch must be closed.

settlement_lines_read() streams a file (constant memory: it keeps one running total per batch) and
yields typed SettlementLine values; anything wrong raises SettlementReportError(line, reason), possibly
after many good lines (a missing payout is only known at the end), so apply the lines in one
transaction. settlement_lines_write() writes the same format (tests, benchmarks, demo data).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from core.money import AmountError, currency_exponent, format_amount, parse_amount, validate_currency

from .base import SettlementLine, SettlementLineType, SettlementReport, SettlementReportSource

COLUMNS = (
    "line_id",
    "line_type",
    "psp_reference",
    "merchant_reference",
    "batch_id",
    "payout_id",
    "created_at",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
)
_LINE_TYPES = {t.value: t for t in SettlementLineType}
_CHUNK = 1 << 20
_MEMO_SIZE = 1 << 16  # parsed amounts remembered per currency: bounded, so memory stays constant


class SettlementReportError(ValueError):
    """A settlement report that cannot be used; line is the 1-based line of the file (1 = header)."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class _Batch:
    currency: str
    payout_id: str
    net: int = 0
    closed_at: int = 0  # the line of its payout, 0 while open


def _amount(text: str, currency: str, digits: int, column: str, line: int, memo: dict[str, int]) -> int:
    """A signed amount with exactly the currency's digits, through core.money's parse_amount.

    memo (one per currency, bounded) skips parsing a text already seen: fees and common prices repeat.
    """
    minor = memo.get(text)
    if minor is not None:
        return minor
    negative = text.startswith("-")
    body = text[1:] if negative else text
    fraction = body.partition(".")[2] if "." in body else ""
    if len(fraction) != digits or (digits == 0 and "." in body):
        raise SettlementReportError(
            line,
            f"bad amount in {column}: {text!r} ({currency} amounts have exactly {digits} decimal places)",
        )
    try:
        minor = parse_amount(body, currency, allow_zero=True)
    except AmountError as exc:
        raise SettlementReportError(line, f"bad amount in {column}: {text!r} ({exc})") from None
    if negative:
        minor = -minor
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[text] = minor
    return minor


def _timestamp(text: str, line: int) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise SettlementReportError(line, f"bad created_at {text!r} (ISO 8601 with a UTC offset)") from None
    if value.tzinfo is None:
        raise SettlementReportError(line, f"bad created_at {text!r}: no UTC offset")
    return value.astimezone(UTC)


def _open_text(source: str | os.PathLike[str] | IO[bytes]) -> tuple[io.TextIOWrapper, bool]:
    if isinstance(source, str | os.PathLike):
        raw: IO[bytes] = open(source, "rb")  # noqa: SIM115  (closed by the reader's finally)
        owned = True
    else:
        raw, owned = source, False
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    return text, owned


def settlement_lines_read(
    source: str | os.PathLike[str] | IO[bytes], *, day: date, allow_payout_mismatch: bool = False
) -> Iterator[SettlementLine]:
    """Stream, validate and type the lines of a settlement report for `day` (a path or a binary file).

    Raises SettlementReportError for: an empty file, a file that is not CSV (or not UTF-8), missing
    columns, a wrong number of fields, an unknown line_type, an unknown currency, a bad amount, net !=
    gross - fee, a bad date, a line of another day, a batch mixing currencies or payouts, a line after
    its batch's payout, a batch without payout and a payout that is not the batch's Σ net. With
    allow_payout_mismatch the last is not an error: the payout line is yielded with batch_net set, for
    reconciliation to record it as a payout_mismatch discrepancy.
    """
    text, owned = _open_text(source)
    line = 1
    try:
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader, None)
            while header == []:
                header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise SettlementReportError(1, f"not CSV: {exc}") from None
        if header is None:
            raise SettlementReportError(1, "empty file")
        names = [h.strip() for h in header]
        if not set(names) & set(COLUMNS):
            raise SettlementReportError(reader.line_num, "not CSV: no settlement report header")
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise SettlementReportError(reader.line_num, f"missing columns: {', '.join(missing)}")
        width = len(names)
        (i_id, i_type, i_psp, i_merchant, i_batch, i_payout, i_created, i_available, i_currency,
         i_gross, i_fee, i_net) = (names.index(c) for c in COLUMNS)  # fmt: skip
        digits_of: dict[str, int] = {}
        memos: dict[str, dict[str, int]] = {}
        batches: dict[str, _Batch] = {}
        available_cache: dict[str, date] = {}
        while True:
            starts_at = reader.line_num + 1
            try:
                row = next(reader, None)
            except (csv.Error, UnicodeDecodeError) as exc:
                raise SettlementReportError(starts_at, f"not CSV: {exc}") from None
            if row is None:
                break
            line = reader.line_num
            if not row:
                continue
            if len(row) != width:
                raise SettlementReportError(line, f"expected {width} fields, found {len(row)}")
            line_id = row[i_id]
            if not line_id:
                raise SettlementReportError(line, "line_id is empty")
            line_type = _LINE_TYPES.get(row[i_type])
            if line_type is None:
                raise SettlementReportError(line, f"unknown line_type {row[i_type]!r}")
            currency = row[i_currency]
            digits = digits_of.get(currency)
            if digits is None:
                try:
                    digits = currency_exponent(validate_currency(currency))
                except AmountError as exc:
                    raise SettlementReportError(line, f"unknown currency {currency!r} ({exc})") from None
                digits_of[currency] = digits
                memos[currency] = {}
            memo = memos[currency]
            gross = _amount(row[i_gross], currency, digits, "gross", line, memo)
            fee = _amount(row[i_fee], currency, digits, "fee", line, memo)
            net = gross - fee
            if row[i_net] != format_amount(net, currency):  # also refuses a net in any other spelling
                _amount(row[i_net], currency, digits, "net", line, memo)  # a bad amount says so first
                raise SettlementReportError(
                    line, f"net {row[i_net]} is not gross {row[i_gross]} - fee {row[i_fee]}"
                )
            created_at = _timestamp(row[i_created], line)
            if created_at.date() != day:
                raise SettlementReportError(
                    line, f"created_at {row[i_created]} is not on {day.isoformat()} (a line of another day)"
                )
            available_text = row[i_available]
            available_on = available_cache.get(available_text)
            if available_on is None:
                try:
                    available_on = date.fromisoformat(available_text)
                except ValueError:
                    raise SettlementReportError(line, f"bad available_on {available_text!r}") from None
                available_cache[available_text] = available_on
            batch_id, payout_id = row[i_batch], row[i_payout]
            if not batch_id or not payout_id:
                raise SettlementReportError(line, "batch_id and payout_id are required")
            batch = batches.get(batch_id)
            if batch is None:
                batch = batches[batch_id] = _Batch(currency, payout_id)
            elif batch.closed_at:
                raise SettlementReportError(
                    line, f"line after the payout that closed batch {batch_id} (line {batch.closed_at})"
                )
            elif batch.currency != currency:
                raise SettlementReportError(line, f"batch {batch_id} mixes {batch.currency} and {currency}")
            elif batch.payout_id != payout_id:
                raise SettlementReportError(
                    line, f"batch {batch_id} has payouts {batch.payout_id} and {payout_id}"
                )
            batch_net = None
            if line_type is SettlementLineType.PAYOUT:
                batch.closed_at = line
                batch_net = batch.net
                if net != batch_net and not allow_payout_mismatch:
                    raise SettlementReportError(
                        line,
                        f"payout {row[i_net]} {currency} of batch {batch_id} does not add up: its lines' net"
                        f" is {format_amount(batch_net, currency)}",
                    )
            else:
                batch.net += net
            yield SettlementLine(
                line_number=line,
                line_id=line_id,
                line_type=line_type,
                psp_reference=row[i_psp],
                merchant_reference=row[i_merchant],
                batch_id=batch_id,
                payout_id=payout_id,
                created_at=created_at,
                available_on=available_on,
                currency=currency,
                gross=gross,
                fee=fee,
                net=net,
                batch_net=batch_net,
            )
        for batch_id, batch in batches.items():
            if not batch.closed_at:
                raise SettlementReportError(line, f"batch {batch_id} has no payout line")
    finally:
        if owned:
            text.close()
        else:
            text.detach()


def _row(line: SettlementLine) -> list[str]:
    currency = line.currency
    return [
        line.line_id,
        line.line_type.value,
        line.psp_reference,
        line.merchant_reference,
        line.batch_id,
        line.payout_id,
        line.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        line.available_on.isoformat(),
        currency,
        format_amount(line.gross, currency),
        format_amount(line.fee, currency),
        format_amount(line.net, currency),
    ]


def settlement_lines_write(target: str | os.PathLike[str] | IO[str], lines: Iterable[SettlementLine]) -> int:
    """Write lines in the report format (header first) to a path or a text file; returns the count.

    It writes what it is given: closing each batch with its payout line is the caller's job (so that
    tests can write wrong reports too).
    """
    if isinstance(target, str | os.PathLike):
        with open(target, "w", encoding="utf-8", newline="") as file:
            return settlement_lines_write(file, lines)
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for line in lines:
        writer.writerow(_row(line))
        count += 1
    return count


def settlement_report_from_file(
    path: str | os.PathLike[str], *, provider: str, day: date, version: int = 1
) -> SettlementReport:
    """A report given as a file (reconciliation's --file); the file's version is the caller's to say."""
    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return SettlementReport(
        provider=provider,
        day=day,
        version=version,
        source=SettlementReportSource.FILE,
        path=path,
        checksum=digest.hexdigest(),
        size=size,
    )


def settlement_report_download(
    chunks: Iterable[bytes], *, provider: str, day: date, version: int
) -> SettlementReport:
    """Store a report arriving in chunks (an HTTP body) in a temporary file, hashing it on the way."""
    digest = hashlib.sha256()
    size = 0
    handle, name = tempfile.mkstemp(
        prefix=f"settlement-{provider}-{day.isoformat()}-v{version}-", suffix=".csv"
    )
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                file.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return SettlementReport(
        provider=provider,
        day=day,
        version=version,
        source=SettlementReportSource.API,
        path=Path(name),
        checksum=digest.hexdigest(),
        size=size,
    )
