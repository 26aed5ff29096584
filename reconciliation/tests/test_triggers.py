"""History the database keeps whatever code writes: imported lines and reports append-only, a match
written once (its settlement recorded once), a closed discrepancy closed, a finished run final."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from reconciliation.models import (
    Discrepancy,
    DiscrepancyStatus,
    ReconciliationRun,
    SettlementLine,
    SettlementReport,
)
from reconciliation.services import reconcile_day
from reconciliation.tests.conftest import today
from reconciliation.tests.test_reports import HEADER, good_rows, write

pytestmark = pytest.mark.django_db


def refused(sql: str, params: list, match: str) -> None:
    with pytest.raises(IntegrityError, match=match), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def reconciled(tmp_path):
    path = write(tmp_path, "\n".join([HEADER, *good_rows()]) + "\n")
    return reconcile_day(provider="sandbox", day=today(), file=path)


def test_imported_reports_and_lines_are_append_only(reconciled):
    line = SettlementLine.objects.first()
    refused("UPDATE reconciliation_settlementline SET gross = 1 WHERE id = %s", [line.pk], "append-only")
    refused("DELETE FROM reconciliation_settlementline WHERE id = %s", [line.pk], "append-only")
    report = SettlementReport.objects.get()
    refused(
        "UPDATE reconciliation_settlementreport SET version = 9 WHERE id = %s", [report.pk], "append-only"
    )


def test_a_closed_discrepancy_stays_closed_and_none_is_deleted(reconciled):
    discrepancy = Discrepancy.objects.first()
    refused("DELETE FROM reconciliation_discrepancy WHERE id = %s", [discrepancy.pk], "append-only")
    refused(
        "UPDATE reconciliation_discrepancy SET cls = 'fee_mismatch' WHERE id = %s",
        [discrepancy.pk],
        "may not change",
    )
    Discrepancy.objects.filter(pk=discrepancy.pk).update(
        status=DiscrepancyStatus.IGNORED, resolution_note="test", resolved_at=discrepancy.created_at
    )
    refused(
        "UPDATE reconciliation_discrepancy SET status = 'open', resolved_at = NULL WHERE id = %s",
        [discrepancy.pk],
        "stays closed",
    )


def test_a_finished_run_is_final(reconciled):
    run = ReconciliationRun.objects.get()
    refused(
        "UPDATE reconciliation_reconciliationrun SET verdict = 'reconciled' WHERE id = %s",
        [run.pk],
        "runs are history",
    )
    refused("DELETE FROM reconciliation_reconciliationrun WHERE id = %s", [run.pk], "runs are history")
