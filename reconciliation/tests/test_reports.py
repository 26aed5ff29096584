"""Importing reports: once per content, COPY through staging, and every malformed file refused with its
line and reason, exit 2, nothing of it applied, the failed run left with its error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciliation.models import ReconciliationRun, RunStatus, SettlementLine, SettlementReport
from reconciliation.services import report_fetch, report_import
from reconciliation.tests.conftest import today

pytestmark = pytest.mark.django_db

HEADER = "line_id,line_type,psp_reference,merchant_reference,batch_id,payout_id,created_at,available_on,currency,gross,fee,net"


def day_text() -> str:
    return today().isoformat()


def good_rows() -> list[str]:
    d = day_text()
    return [
        f"sl_1,charge,ch_1,m1,ba_1,po_1,{d}T10:00:00Z,{d},USD,10.00,0.59,9.41",
        f"sl_2,refund,re_1,ref_1,ba_1,po_1,{d}T11:00:00Z,{d},USD,-2.00,0.00,-2.00",
        f"sl_3,payout,po_1,,ba_1,po_1,{d}T23:59:59Z,{d},USD,7.41,0.00,7.41",
    ]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "report.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


BAD = {
    "missing columns": (HEADER.replace(",fee", "") + "\n", 1, "missing columns: fee"),
    "bad amount": (None, 2, "bad amount in gross"),
    "unknown currency": (None, 2, "unknown currency"),
    "empty file": ("", 1, "empty file"),
    "a line of another day": (None, 3, "a line of another day"),
    "a payout line that does not add up": (None, 5, "is not gross"),
    "not CSV": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", 1, "not CSV"),
    "a duplicate line_id": (None, 3, "duplicate line_id"),
}


def bad_text(case: str) -> str | bytes:
    text, _, _ = BAD[case]
    if text is not None:
        return text
    rows = good_rows()
    if case == "bad amount":
        rows[0] = rows[0].replace("10.00,0.59,9.41", "10.0,0.59,9.41")
    elif case == "unknown currency":
        rows[0] = rows[0].replace("USD", "ZZZ")
    elif case == "a line of another day":
        rows[1] = rows[1].replace(f"{day_text()}T11", "2020-01-01T11")
    elif case == "a payout line that does not add up":
        rows.append(rows[2].replace("sl_3", "sl_4").replace("7.41,0.00,7.41", "7.41,0.00,7.40"))
    elif case == "a duplicate line_id":
        rows[1] = rows[1].replace("sl_2", "sl_1")
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize("case", list(BAD))
def test_a_malformed_report_fails_the_run_with_its_line_and_applies_nothing(case, tmp_path, cli):
    _, line, reason = BAD[case]
    path = write(tmp_path, bad_text(case))

    result = cli("reconcile", "--provider", "sandbox", "--date", day_text(), "--file", str(path))

    assert result.code == 2, (result.out, result.err)
    assert f"line {line}:" in result.err and reason in result.err, result.err
    assert result.out == ""
    assert not SettlementReport.objects.exists() and not SettlementLine.objects.exists()
    run = ReconciliationRun.objects.get()
    assert run.status == RunStatus.FAILED and f"line {line}:" in run.error and run.finished_at


def test_a_file_that_cannot_be_read_is_bad_input(tmp_path, cli):
    result = cli(
        "reconcile", "--provider", "sandbox", "--date", day_text(), "--file", str(tmp_path / "nope.csv")
    )
    assert result.code == 2 and "cannot read" in result.err


def test_the_same_report_is_imported_once_and_a_changed_file_is_a_new_version(tmp_path):
    path = write(tmp_path, "\n".join([HEADER, *good_rows()]) + "\n")
    with report_fetch(provider="sandbox", day=today(), file=path) as report:
        first, created = report_import(report=report)
    assert created and first.version == 1 and first.line_count == 3
    with report_fetch(provider="sandbox", day=today(), file=path) as report:
        again, created = report_import(report=report)
    assert not created and again == first
    assert SettlementLine.objects.count() == 3
    line = SettlementLine.objects.get(line_id="sl_1")
    assert (line.gross, line.fee, line.net, line.line_number) == (1000, 59, 941, 2)
    assert SettlementLine.objects.get(line_id="sl_2").gross == -200

    rows = good_rows()
    rows[0] = rows[0].replace("10.00,0.59,9.41", "10.00,0.60,9.40")
    rows[2] = rows[2].replace("7.41,0.00,7.41", "7.40,0.00,7.40")
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    with report_fetch(provider="sandbox", day=today(), file=path) as report:
        second, created = report_import(report=report)
    assert created and second.version == 2
    assert SettlementLine.objects.count() == 6
