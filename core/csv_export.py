"""Streamed CSV: rows written as they are read, safe to open in a spreadsheet.

Constant memory: the response is a generator over a server-side cursor; nothing builds the file.
Formula injection (CSV injection): a text cell starting with = + - @ tab or carriage return would
be run as a formula by Excel or LibreOffice, so such cells get a leading apostrophe. Numbers are
written as numbers (a negative amount is not a formula).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    """A file-like object whose write returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_rows(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_safe(name) for name in header])
    for row in rows:
        yield writer.writerow([csv_safe(value) for value in row])


def csv_streaming_response(
    *, filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_rows(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
